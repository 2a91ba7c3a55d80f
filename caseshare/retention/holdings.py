"""What the database holds about subjects, as the retention schedule needs it: who wrote which
categories, the case's members and closure, consents, legal holds and copies already deleted.

Read in batches (a fixed number of statements per batch of subjects, whatever its size), so
listing what is due over a large caseload costs a few statements per hundred claimants. Only
plain columns are read: nothing sealed is opened here.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select, union
from sqlalchemy.orm import Session

from caseshare.assessments.models import Assessment, AssessmentItem
from caseshare.case_plan.models import PlanEntry
from caseshare.cases.models import Case
from caseshare.conferences.models import Conference, ConferenceMinute
from caseshare.consent.models import Consent, ConsentWithdrawal
from caseshare.consent.service import current_consent_facts
from caseshare.facts import ConsentFacts
from caseshare.policy.models import ProtocolSet
from caseshare.retention import schedule
from caseshare.retention.models import DeletedCopy, LegalHold
from caseshare.subjects.models import IDENTITY_FIELDS, CaseMember, Subject
from caseshare.uk_time import UK

BATCH = 200


@dataclass
class Holding:
    """One subject as the schedule sees it."""

    subject_id: uuid.UUID
    lead_org: str
    written: set[tuple[str, str]] = field(default_factory=set)  # (writer org, category)
    members: set[str] = field(default_factory=set)
    closed_on: date | None = None
    consents: list[ConsentFacts] = field(default_factory=list)
    held: bool = False
    deleted: set[tuple[str, str]] = field(default_factory=set)  # (org, category)

    def deliveries(self, flows: Sequence[schedule.SharedFlow],
                   as_of: date) -> list[schedule.Delivery]:
        """Every copy of this subject's data, with the consent ends as they stand on `as_of`."""
        at = end_of(as_of)
        return schedule.deliveries(
            self.written, flows, members=frozenset(self.members), lead_org=self.lead_org,
            consent_end=lambda org, category: schedule.consent_ended_on(
                self.consents, org, category, at))

    def schedule(self, flows: Sequence[schedule.SharedFlow],
                 as_of: date) -> list[schedule.DueItem]:
        return schedule.due_items(self.subject_id, self.deliveries(flows, as_of),
                                  self.closed_on, self.held)


def end_of(day: date) -> datetime:
    """The first instant after the UK day `day` (midnight UK time starting the next day, as a
    UTC instant): what has ended by then has ended on or before that UK day."""
    return datetime.combine(day + timedelta(days=1), time(), UK).astimezone(UTC)


def shared_flows(protocols: ProtocolSet) -> list[schedule.SharedFlow]:
    """Every flow of every loaded protocol version: a copy made under a version since replaced
    is kept under that version's retention (the longest wins when several carried it)."""
    return [
        schedule.SharedFlow(
            rule=f"{protocol.ref}/{flow.id}", from_orgs=flow.from_orgs, to_orgs=flow.to_orgs,
            categories=flow.categories, consent_based=flow.consent != "none",
            retention_days=(flow.retention_days if flow.retention_days is not None
                            else schedule.DEFAULT_RETENTION_DAYS))
        for protocol in protocols.protocols for flow in protocol.flows
    ]


def candidates(session: Session, until: date) -> list[uuid.UUID]:
    """Subjects not erased whose basis may have ended by `until`: a closed case, or a consent
    that expired or was withdrawn (in part) by then. Ordered by id."""
    end = end_of(until)
    ended = union(
        select(Case.subject_id).where(Case.status == "closed", Case.closed_at < end),
        select(Consent.subject_id).where(Consent.expires_at < end),
        select(Consent.subject_id).join(ConsentWithdrawal,
                                        ConsentWithdrawal.consent_id == Consent.id)
        .where(ConsentWithdrawal.withdrawn_at < end),
    ).subquery()
    return list(session.scalars(
        select(Subject.id).where(Subject.id.in_(select(ended.c[0])),
                                 Subject.dek_wrapped.is_not(None))
        .order_by(Subject.id)))


def load(session: Session, subject_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Holding]:
    """The holdings of these subjects (erased ones left out), read in batches of BATCH."""
    out: dict[uuid.UUID, Holding] = {}
    ids = list(subject_ids)
    for start in range(0, len(ids), BATCH):
        out.update(_load_batch(session, ids[start:start + BATCH]))
    return out


def _load_batch(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, Holding]:
    found: dict[uuid.UUID, Holding] = {}
    sealed = [getattr(Subject, name).is_not(None) for name in IDENTITY_FIELDS]
    for row in session.execute(select(Subject.id, Subject.lead_org_id, *sealed).where(
            Subject.id.in_(ids), Subject.dek_wrapped.is_not(None))):
        holding = found[row[0]] = Holding(row[0], row[1])
        holding.written |= {(row[1], category)
                            for present, category in zip(row[2:], IDENTITY_FIELDS.values(),
                                                         strict=True) if present}
    if not found:
        return found
    ids = list(found)
    _read_written(session, ids, found)
    _read_case(session, ids, found)
    for holding in found.values():
        holding.consents = current_consent_facts(session, holding.subject_id)
    return found


def _read_written(session: Session, ids: list[uuid.UUID], found: dict[uuid.UUID, Holding]) -> (
    None
):
    """Who wrote which categories: plan entries, assessment items, conference minutes."""
    for subject_id, org, category in session.execute(
            select(PlanEntry.subject_id, PlanEntry.created_org, PlanEntry.category)
            .where(PlanEntry.subject_id.in_(ids)).distinct()):
        found[subject_id].written.add((org, category))
    for subject_id, org, categories in session.execute(
            select(AssessmentItem.subject_id, Assessment.completed_org, AssessmentItem.categories)
            .join(Assessment, Assessment.id == AssessmentItem.assessment_id)
            .where(AssessmentItem.subject_id.in_(ids))):
        found[subject_id].written |= {(org, category) for category in categories}
    for subject_id, org, category in session.execute(
            select(ConferenceMinute.subject_id, Conference.recorded_org, ConferenceMinute.category)
            .join(Conference, Conference.id == ConferenceMinute.conference_id)
            .where(ConferenceMinute.subject_id.in_(ids)).distinct()):
        found[subject_id].written.add((org, category))


def _read_case(session: Session, ids: list[uuid.UUID], found: dict[uuid.UUID, Holding]) -> None:
    """Members, closure (and its note, the lead's `case_admin`), legal holds, deleted copies."""
    for subject_id, org in session.execute(
            select(CaseMember.subject_id, CaseMember.org_id).where(CaseMember.subject_id.in_(ids))):
        found[subject_id].members.add(org)
    for case in session.scalars(select(Case).where(Case.subject_id.in_(ids))):
        holding = found[case.subject_id]
        if case.status == "closed" and case.closed_at is not None:
            holding.closed_on = case.closed_at.astimezone(UK).date()  # a UK day
        if case.closure_note is not None:
            holding.written.add((holding.lead_org, "case_admin"))
    for subject_id in session.scalars(select(LegalHold.subject_id).where(
            LegalHold.subject_id.in_(ids), LegalHold.lifted_at.is_(None))):
        found[subject_id].held = True
    for subject_id, org, category in session.execute(
            select(DeletedCopy.subject_id, DeletedCopy.org_id, DeletedCopy.category)
            .where(DeletedCopy.subject_id.in_(ids))):
        found[subject_id].deleted.add((org, category))

