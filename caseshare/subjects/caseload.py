"""The raw figures behind an organisation's caseload, read with a handful of aggregate statements
over the whole caseload (never one round trip per claimant).

An organisation's caseload is the claimants it is a case member of (lead or member) and those
with an open referral addressed to it. Its size is bounded by what one organisation works with
(hundreds to a few thousand), not by the number of claimants in the service: every statement
here is scoped by `case_members.org_id` (indexed, migration 0020) or `referrals.to_org`.

Nothing here decides what the caller may see: the figures are per (claimant, category, writing
organisation) so that the access layer can count only what its decision allows.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, and_, case, exists, false, func, or_, select, union
from sqlalchemy.orm import Session, aliased

from caseshare.case_plan.models import PlanEntry, Referral
from caseshare.consent.models import Consent, ConsentWithdrawal
from caseshare.facts import ConsentFacts, SubjectFacts
from caseshare.notifications.models import Notification, NotificationRead
from caseshare.notifications.service import Reader, visible_to
from caseshare.overrides.models import OverrideRecord
from caseshare.overrides.service import override_facts
from caseshare.subjects.models import CaseMember, Subject
from caseshare.subjects.service import deleted_copies_of

# Plan entries that can be overdue or due: actions still to do, with a due date.
OPEN_ACTION_STATUSES = ("open", "in_progress")
# Unread notifications a caseload row flags, by type.
FLAGGED_NOTICES = ("consent_withdrawn", "referral_updated", "consent_regranted_after_withdrawal")


@dataclass(frozen=True)
class ActionCount:
    """Open actions of one claimant in one category written by one organisation."""

    category: str
    created_org: str
    owner_org: str
    overdue: int
    due_this_week: int


@dataclass
class CaseloadRow:
    """One claimant of the caseload, before any access decision."""

    subject_id: uuid.UUID
    lead_org: str
    member: bool  # a case member (False: only an open referral in)
    facts: SubjectFacts | None = None
    actions: list[ActionCount] = field(default_factory=list)
    referrals_in: int = 0
    referrals_overdue: int = 0  # open referrals sent or received, past their response standard
    notices: dict[str, int] = field(default_factory=dict)  # unread notifications by type


def caseload_ids(org: str) -> Select[Any]:
    """The ids of the claimants `org` works with or has an open referral from (a subquery)."""
    members = select(CaseMember.subject_id.label("subject_id")).where(CaseMember.org_id == org)
    referred = (select(Referral.subject_id.label("subject_id"))
                .where(Referral.to_org == org, Referral.status == "open"))
    return select(union(members, referred).subquery().c.subject_id)


def load_caseload(session: Session, reader: Reader, *, today: date,
                  week_end: date, now: datetime | None = None) -> list[CaseloadRow]:
    """Every live (not erased) claimant of the reader's caseload, with decision facts, open
    actions due up to `week_end` grouped by category and writer, open referrals in, and the
    reader's unread notices by type: seven statements whatever the caseload's size."""
    ids = caseload_ids(reader.org)
    rows: dict[uuid.UUID, CaseloadRow] = {}
    found = session.execute(
        select(Subject.id, Subject.lead_org_id)
        .where(Subject.id.in_(ids), Subject.erased_at.is_(None), Subject.dek_wrapped.is_not(None))
        .order_by(Subject.id))
    for sid, lead in found:
        rows[sid] = CaseloadRow(sid, lead, member=False)
    if not rows:
        return []
    members = _members(session, ids)
    consents = _consents(session, ids)
    with_overrides = set(session.scalars(
        select(OverrideRecord.subject_id).where(OverrideRecord.subject_id.in_(ids)).distinct()))
    # Copies the retention pass deleted are erased for their organisation, as in subject_facts.
    deleted = deleted_copies_of(session, ids)
    for sid, row in rows.items():
        orgs = members.get(sid, frozenset())
        row.member = reader.org in orgs
        row.facts = SubjectFacts(
            subject_id=sid, case_orgs=orgs, consents=tuple(consents.get(sid, ())),
            overrides=override_facts(session, sid) if sid in with_overrides else (),
            deleted=deleted.get(sid, frozenset()))
    _add_actions(session, rows, ids, today=today, week_end=week_end)
    _add_referrals(session, rows, reader.org, now)
    _add_notices(session, rows, reader)
    return list(rows.values())


def facts_for(session: Session,
              subject_ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[Subject, SubjectFacts]]:
    """Live claimants among these ids with their decision facts, in three statements (four
    when one has an override): the batch form of `service.find_subject_with_facts`."""
    if not subject_ids:
        return {}
    found = list(session.scalars(select(Subject).where(
        Subject.id.in_(subject_ids), Subject.erased_at.is_(None),
        Subject.dek_wrapped.is_not(None))))
    ids = [s.id for s in found]
    if not ids:
        return {}
    members = _members(session, ids)
    consents = _consents(session, ids)
    with_overrides = set(session.scalars(
        select(OverrideRecord.subject_id).where(OverrideRecord.subject_id.in_(ids)).distinct()))
    # Copies the retention pass deleted are erased for their organisation, as in subject_facts.
    deleted = deleted_copies_of(session, ids)
    return {s.id: (s, SubjectFacts(
        subject_id=s.id, case_orgs=members.get(s.id, frozenset()),
        consents=tuple(consents.get(s.id, ())),
        overrides=override_facts(session, s.id) if s.id in with_overrides else (),
        deleted=deleted.get(s.id, frozenset())))
        for s in found}


def _members(session: Session, ids: Any) -> dict[uuid.UUID, frozenset[str]]:
    out: dict[uuid.UUID, set[str]] = defaultdict(set)
    for sid, org in session.execute(select(CaseMember.subject_id, CaseMember.org_id)
                                    .where(CaseMember.subject_id.in_(ids))):
        out[sid].add(org)
    return {sid: frozenset(orgs) for sid, orgs in out.items()}


_newer = aliased(Consent)


def _consents(session: Session, ids: Any) -> dict[uuid.UUID, list[ConsentFacts]]:
    """The current granted consent versions of every claimant in `ids`, with their
    withdrawals, as the decision reads them (the batch form of
    `consent.service.current_consent_facts`)."""
    query = (
        select(Consent.subject_id, Consent.id, Consent.recipients, Consent.purposes,
               Consent.categories, Consent.excluded_categories, Consent.explicit_confirmed,
               Consent.verified, Consent.valid_from, Consent.expires_at,
               Consent.explicit_statement.is_not(None), ConsentWithdrawal.withdrawn_at,
               ConsentWithdrawal.scope)
        .outerjoin(ConsentWithdrawal, ConsentWithdrawal.consent_id == Consent.id)
        .where(Consent.subject_id.in_(ids), Consent.decision == "granted",
               ~exists().where(_newer.subject_id == Consent.subject_id,
                               _newer.supersedes_id == Consent.id))
        .order_by(Consent.captured_at, Consent.id, ConsentWithdrawal.withdrawn_at))
    grouped: dict[uuid.UUID, tuple[Any, list[Any]]] = {}
    for row in session.execute(query):
        _first, withdrawals = grouped.setdefault(row[1], (row, []))
        if row[11] is not None:
            scope = row[12]
            withdrawals.append((row[11], frozenset(scope.get("recipients", [])),
                                frozenset(scope.get("purposes", [])),
                                frozenset(scope.get("categories", []))))
    out: dict[uuid.UUID, list[ConsentFacts]] = defaultdict(list)
    for c, withdrawals in grouped.values():
        out[c[0]].append(ConsentFacts(
            id=c[1], recipients=frozenset(c[2]), purposes=frozenset(c[3]),
            categories=frozenset(c[4]), excluded=frozenset(c[5]), explicit=bool(c[6] or c[10]),
            verified=c[7], valid_from=c[8], expires_at=c[9], withdrawals=tuple(withdrawals)))
    return out


def _add_actions(session: Session, rows: dict[uuid.UUID, CaseloadRow], ids: Select[Any], *,
                 today: date, week_end: date) -> None:
    overdue = func.sum(case((PlanEntry.due_on < today, 1), else_=0))
    due = func.sum(case((PlanEntry.due_on >= today, 1), else_=0))
    query = (
        select(PlanEntry.subject_id, PlanEntry.category, PlanEntry.created_org,
               PlanEntry.owner_org, overdue, due)
        .where(PlanEntry.subject_id.in_(ids), PlanEntry.kind == "action",
               PlanEntry.status.in_(OPEN_ACTION_STATUSES), PlanEntry.due_on.is_not(None),
               PlanEntry.due_on <= week_end)
        .group_by(PlanEntry.subject_id, PlanEntry.category, PlanEntry.created_org,
                  PlanEntry.owner_org))
    for sid, category, created_org, owner_org, n_overdue, n_due in session.execute(query):
        if sid in rows:
            rows[sid].actions.append(ActionCount(category, created_org, owner_org,
                                                 int(n_overdue or 0), int(n_due or 0)))


def _add_referrals(session: Session, rows: dict[uuid.UUID, CaseloadRow], org: str,
                   now: datetime | None) -> None:
    """Open referrals in, and open referrals sent or received past their response standard
    (`respond_by`), per claimant: one statement."""
    overdue = (and_(Referral.respond_by.is_not(None), Referral.respond_by <= now)
               if now is not None else false())
    query = (select(Referral.subject_id,
                    func.sum(case((Referral.to_org == org, 1), else_=0)),
                    func.sum(case((overdue, 1), else_=0)))
             .where(or_(Referral.to_org == org, Referral.from_org == org),
                    Referral.status == "open")
             .group_by(Referral.subject_id))
    for sid, received, late in session.execute(query):
        if sid in rows:
            rows[sid].referrals_in = int(received or 0)
            rows[sid].referrals_overdue = int(late or 0)


def unread_condition(reader: Reader) -> Any:
    """Notifications the reader sees (the audience rule of `notifications.service`) and has
    not marked read."""
    read = exists().where(NotificationRead.notification_id == Notification.id,
                          NotificationRead.staff_id == reader.staff_id)
    return and_(visible_to(reader), ~read)


def _add_notices(session: Session, rows: dict[uuid.UUID, CaseloadRow], reader: Reader) -> None:
    query = (select(Notification.subject_id, Notification.type, func.count())
             .where(unread_condition(reader), Notification.type.in_(FLAGGED_NOTICES),
                    Notification.subject_id.is_not(None))
             .group_by(Notification.subject_id, Notification.type))
    for sid, type_, count in session.execute(query):
        if sid in rows:
            rows[sid].notices[type_] = int(count)


def unread_count(session: Session, reader: Reader) -> int:
    """How many notifications the reader has not marked read (the header's count)."""
    return int(session.scalar(select(func.count()).select_from(Notification)
                              .where(unread_condition(reader))) or 0)


def names(session: Session, subject_ids: list[uuid.UUID]) -> dict[uuid.UUID, Subject]:
    """The subject rows (sealed names and data keys) of these claimants, in one statement."""
    if not subject_ids:
        return {}
    return {s.id: s for s in session.scalars(select(Subject).where(Subject.id.in_(subject_ids)))}


def expiring_by(facts: SubjectFacts, org: str, purpose: str, now: datetime) -> datetime | None:
    """When the last active consent naming `org` for `purpose` (not withdrawn for it) ends."""
    ends = [c.expires_at for c in facts.consents
            if org in c.recipients and purpose in c.purposes and c.valid_from <= now < c.expires_at
            and not any(_withdraws(w, org, purpose) for w in c.withdrawals)]
    return max(ends) if ends else None


def _withdraws(withdrawal: tuple[datetime, frozenset[str], frozenset[str], frozenset[str]],
               org: str, purpose: str) -> bool:
    _at, recipients, purposes, categories = withdrawal
    return ((not recipients or org in recipients) and (not purposes or purpose in purposes)
            and not categories)
