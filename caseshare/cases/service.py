"""Use cases on a claimant's case (domain: a session and plain values, never Flask, never a
commit): the case row, its lead worker and history, its review date, closing and reopening.

A claimant without a case row has an open case led by their lead organisation with no named
worker; the row is created the first time something is set (`get_or_create`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from caseshare.cases import closure
from caseshare.cases.models import Case, LeadWorkerChange
from caseshare.crypto.sealing import FieldRef, open_sealed, seal
from caseshare.errors import ConflictError, ValidationError
from caseshare.facts import Principal
from caseshare.identity.models import StaffMember

# The category the closure note is sealed under (AAD): administrative words about the case,
# not claimant data any protocol shares, so only the data key's holders open it.
NOTE_CATEGORY = "case_admin"


@dataclass(frozen=True)
class CaseView:
    """A case as the pages and the API show it: codes, ids, dates and the lead worker's name
    (staff directory data, not the claimant's)."""

    subject_id: uuid.UUID
    status: str
    lead_org: str
    lead_worker_id: uuid.UUID | None
    lead_worker_name: str | None
    review_on: date | None
    closed_at: datetime | None
    closure_reason: str | None
    reopened_at: datetime | None


@dataclass(frozen=True)
class LeadWorkerStep:
    """One line of the lead worker history: who led from when, and who made the change."""

    lead_worker_id: uuid.UUID | None
    lead_worker_name: str | None
    changed_at: datetime
    changed_org: str


def find_case(session: Session, subject_id: uuid.UUID) -> Case | None:
    return session.get(Case, subject_id)


def get_or_create(session: Session, subject_id: uuid.UUID, now: datetime) -> Case:
    """The case row, created open (no lead worker, no review date) on first use."""
    case = find_case(session, subject_id)
    if case is None:
        case = Case(subject_id=subject_id, status="open", version=1, updated_at=now)
        try:
            with session.begin_nested():  # a savepoint: a collision undoes only this insert
                session.add(case)
        except IntegrityError as exc:
            # Another transaction created the row first (callers lock the subject first, so
            # this is a safety net, not the rule): a conflict to retry, not a 500.
            raise ConflictError("The case was changed at the same time: try again.") from exc
    return case


def is_closed(session: Session, subject_id: uuid.UUID) -> bool:
    case = find_case(session, subject_id)
    return case is not None and case.status == "closed"


def view(session: Session, subject_id: uuid.UUID, lead_org: str) -> CaseView:
    """The case as shown, whether or not its row exists yet."""
    case = find_case(session, subject_id)
    if case is None:
        return CaseView(subject_id, "open", lead_org, None, None, None, None, None, None)
    worker = session.get(StaffMember, case.lead_worker_id) if case.lead_worker_id else None
    return CaseView(subject_id, case.status, lead_org, case.lead_worker_id,
                    worker.name if worker else None, case.review_on, case.closed_at,
                    case.closure_reason, case.reopened_at)


@dataclass(frozen=True)
class CaseLine:
    """What a caseload row shows of a case: its status, lead worker's name and review date."""

    status: str
    lead_worker_name: str | None
    review_on: date | None


def case_lines(session: Session, subject_ids: list[uuid.UUID]) -> dict[uuid.UUID, CaseLine]:
    """The cases of these claimants that have a row (the others are open, unnamed, no review
    date), in one statement."""
    if not subject_ids:
        return {}
    rows = session.execute(
        select(Case.subject_id, Case.status, StaffMember.name, Case.review_on)
        .outerjoin(StaffMember, StaffMember.id == Case.lead_worker_id)
        .where(Case.subject_id.in_(subject_ids)))
    return {sid: CaseLine(status, name, review_on) for sid, status, name, review_on in rows}


def active_staff(session: Session, org: str) -> list[StaffMember]:
    """Who may lead a case of `org`: its active staff members, by name."""
    return list(session.scalars(select(StaffMember).where(
        StaffMember.org_id == org, StaffMember.active.is_(True)).order_by(StaffMember.name)))


def set_lead_worker(session: Session, case: Case, *, lead_org: str,
                    staff_id: uuid.UUID | None, principal: Principal, now: datetime) -> bool:
    """Name the lead worker (an active staff member of the lead organisation; None clears it)
    and append the change to the history. False when nothing changed (nothing appended)."""
    if staff_id is not None:
        worker = session.get(StaffMember, staff_id)
        if worker is None or worker.org_id != lead_org or not worker.active:
            raise ValidationError({"lead_worker_id": [
                "Choose an active staff member of the lead organisation."]})
    if case.lead_worker_id == staff_id:
        return False
    case.lead_worker_id = staff_id
    _touch(case, now)
    session.add(LeadWorkerChange(id=uuid.uuid4(), subject_id=case.subject_id,
                                 lead_worker_id=staff_id, changed_at=now,
                                 changed_by=principal.actor_uuid, changed_org=principal.org))
    session.flush()
    return True


def lead_worker_history(session: Session, subject_id: uuid.UUID) -> list[LeadWorkerStep]:
    """Every lead worker change of the case, oldest first, with the worker's name."""
    rows = session.execute(
        select(LeadWorkerChange, StaffMember.name)
        .outerjoin(StaffMember, StaffMember.id == LeadWorkerChange.lead_worker_id)
        .where(LeadWorkerChange.subject_id == subject_id)
        .order_by(LeadWorkerChange.changed_at, LeadWorkerChange.id)).all()
    return [LeadWorkerStep(change.lead_worker_id, name, change.changed_at, change.changed_org)
            for change, name in rows]


def set_review_date(case: Case, review_on: date | None, *, today: date, now: datetime) -> bool:
    """Set (or clear) the review date; False when it was already that."""
    if errors := closure.review_date_errors(review_on, today):
        raise ValidationError(errors)
    if case.review_on == review_on:
        return False
    case.review_on = review_on
    _touch(case, now)
    return True


def note_ref(subject_id: uuid.UUID) -> FieldRef:
    return FieldRef(subject_id, "case", str(subject_id), "closure_note", NOTE_CATEGORY)


def close(case: Case, *, reason: str, note: str | None, data_key: bytes, dek_version: int,
          principal: Principal, now: datetime) -> None:
    """Close the case with a reason from the controlled list (`other` needs a note, sealed
    under the claimant's data key). Closing a closed case is a conflict (409). The effects on
    consents and referrals are `cases.effects.end_at_closure`, in the same unit of work."""
    if case.status == "closed":
        raise ConflictError("The case is already closed.")
    if errors := closure.closure_errors(reason, note):
        raise ValidationError(errors)
    words = (note or "").strip()
    case.status = "closed"
    case.closed_at = now
    case.closed_by = principal.actor_uuid
    case.closed_org = principal.org
    case.closure_reason = reason
    case.closure_note = (seal(data_key, dek_version, note_ref(case.subject_id), words)
                         if words else None)
    _touch(case, now)


def may_read_closure_note(case: Case, org: str, lead_org: str) -> bool:
    """The closure note is administrative words no agreement shares: only the organisation
    that closed the case and the lead organisation read it (not every case member)."""
    return org == lead_org or (case.closed_org is not None and org == case.closed_org)


def closure_note(case: Case, data_key: bytes) -> str | None:
    if case.closure_note is None:
        return None
    return open_sealed(data_key, note_ref(case.subject_id), case.closure_note)


def reopen(case: Case, *, principal: Principal, now: datetime) -> None:
    """Reopen a closed case (the caller has checked retention has not started). The closure
    is cleared from the row, so no retention clock runs on an open case (the retention pass
    reads `closed_at`); the audit events keep when and why it closed. Consents that ended at
    closure stay ended: a new consent is needed."""
    if case.status != "closed":
        raise ConflictError("The case is not closed.")
    case.status = "open"
    case.closed_at = case.closed_by = case.closed_org = None
    case.closure_reason = case.closure_note = None
    case.reopened_at = now
    case.reopened_by = principal.actor_uuid
    _touch(case, now)


def _touch(case: Case, now: datetime) -> None:
    case.version = (case.version or 0) + 1
    case.updated_at = now
