"""Housing and money records (tenancy, APA, money action plan, banking) under the decision.

Each kind is written and read under its category (tenancy and APA: housing_tenancy; money plans
and banking: finances). A write is authorised by `guards.authorise_write` for that category; a
read opens only records whose category the decision permits from their writing organisation
(as plan entries), and names the categories withheld with their reasons. A record's words are
its organisation's, so only that organisation changes them. Every read and write is audited.

Recording a tenancy's month may also raise two things the system works out: the APA alert (the
claimant is in arrears again after their APA ended: the APA's housing officers are told, once per
APA) and the computed outcome "paying own rent for six months".
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError

from caseshare.access import guards
from caseshare.access.case_plans import own_record
from caseshare.access.context import RequestContext
from caseshare.access.decision import Decision, audience
from caseshare.access.disclosure import withheld_categories
from caseshare.audit.event_types import EventType
from caseshare.cases import service as cases
from caseshare.errors import NotFoundError, PreconditionFailedError
from caseshare.facts import SubjectFacts
from caseshare.notifications import service as notifications
from caseshare.outcomes import attribution
from caseshare.outcomes import service as outcomes
from caseshare.outcomes import sources as outcome_sources
from caseshare.reasons import Reason
from caseshare.subjects import service as subjects
from caseshare.subjects.models import Subject
from caseshare.support_records import rent
from caseshare.support_records import service as records
from caseshare.support_records.models import RECORD_CATEGORIES, RECORD_KINDS, SupportRecord

RECORD_CATEGORY_CODES = sorted(set(RECORD_CATEGORIES.values()))
PAYING_OWN_RENT = "paying_own_rent_6m"
PAYING_OWN_RENT_SERVICE_LINE = "budgeting_support"


@dataclass(frozen=True)
class RecordsView:
    """The records the caller may read (opened) and the categories withheld with reasons."""

    items: list[dict[str, Any]]
    withheld: list[dict[str, Any]]


@dataclass(frozen=True)
class RecordView:
    """One record opened, with a tenancy's months and the outcomes computed from it."""

    record: dict[str, Any]
    etag: str
    snapshots: list[dict[str, Any]] = field(default_factory=list)
    outcomes: list[dict[str, Any]] = field(default_factory=list)


def may_read(record: SupportRecord, decision: Decision) -> bool:
    if record.own_record and decision.org is not None and record.created_org != decision.org:
        return False  # recorded where no flow shares it onward: its organisation's alone
    permitted = decision.permitted.get(record.category)
    return permitted is not None and record.created_org in permitted.sources


def list_records(ctx: RequestContext, subject_id: uuid.UUID,
                 kind: str | None = None) -> RecordsView:
    ctx.read_from_snapshot()
    subject, facts = guards.subject_in_case(ctx, subject_id)
    decision = guards.decide(ctx, facts, "read", RECORD_CATEGORY_CODES)
    key = subjects.data_key(subject, ctx.keyring)
    visible = [r for r in records.records_of(ctx.session, subject.id, kind)
               if may_read(r, decision)]
    withheld = withheld_categories(decision)
    if decision.permitted:
        ctx.audit(EventType.SUPPORT_RECORDS_RECORD_LIST, subject_id=subject.id,
                  decision=decision, outcome="allow", categories=sorted(decision.permitted),
                  reasons=[], details={"records": [str(r.id) for r in visible]})
    if withheld:
        ctx.audit(EventType.SUPPORT_RECORDS_RECORD_LIST, subject_id=subject.id,
                  decision=decision, outcome="deny",
                  categories=[w["category"] for w in withheld], details={"withheld": withheld})
    return RecordsView([records.open_record(r, key) for r in visible], withheld)


def read_record(ctx: RequestContext, subject_id: uuid.UUID, record_id: uuid.UUID) -> RecordView:
    ctx.read_from_snapshot()
    subject, _facts, record, decision = _readable(ctx, subject_id, record_id,
                                          EventType.SUPPORT_RECORDS_RECORD_READ)
    key = subjects.data_key(subject, ctx.keyring)
    view = _view(ctx, record, decision, key)
    ctx.audit(EventType.SUPPORT_RECORDS_RECORD_READ, subject_id=subject.id, decision=decision,
              outcome="allow", categories=[record.category], reasons=[],
              details={"record_id": str(record.id), "snapshots": len(view.snapshots)})
    return view


def _view(ctx: RequestContext, record: SupportRecord, decision: Decision,
          key: bytes) -> RecordView:
    snapshots, found = [], []
    if record.kind == "tenancy":
        sources = decision.permitted[record.category].sources
        for s in records.snapshots_of(ctx.session, record.id):
            if s.recorded_org in sources:
                figures = records.open_snapshot(s, key)
                snapshots.append({"id": s.id, "month": s.month.strftime("%Y-%m"),
                                  "rent_due_pence": figures.rent_due,
                                  "rent_paid_pence": figures.rent_paid,
                                  "arrears_pence": figures.arrears, "paid_by": figures.paid_by,
                                  "recorded_org": s.recorded_org})
        found = [{"id": o.id, "code": o.code, "achieved_on": o.achieved_on,
                  "service_line": o.service_line, "computed": o.computed}
                 for o in outcome_sources.from_record(ctx.session, record.id)]
    return RecordView(records.open_record(record, key), records.record_etag(record),
                      snapshots, found)


def _readable(ctx: RequestContext, subject_id: uuid.UUID, record_id: uuid.UUID,
              type: EventType) -> tuple[Subject, SubjectFacts, SupportRecord, Decision]:
    """The record if the caller may read it now; anything else does not exist for them (404,
    the probe audited)."""
    subject, facts = guards.subject_in_case(ctx, subject_id)
    record = records.find_record(ctx.session, subject.id, record_id)
    decision = guards.decide(ctx, facts, "read", [record.category] if record else None)
    if record is None or not may_read(record, decision):
        event = ctx.audit_refusal(type, subject_id=subject.id, decision=decision,
                                  details={"record_id": str(record_id)})
        raise NotFoundError("No such record.", audit_id=event.event_uuid)
    return subject, facts, record, decision


def create_record(ctx: RequestContext, subject_id: uuid.UUID, kind: str,
                  data: dict[str, Any]) -> RecordView:
    subject, facts = guards.subject_in_case(ctx, subject_id)
    category = RECORD_CATEGORIES.get(kind, "")
    decision = guards.authorise_write(ctx, subject.id, facts, [category] if category else [])
    key = subjects.data_key(subject, ctx.keyring)
    record = records.create_record(ctx.session, subject_id=subject.id, kind=kind, data=data,
                                   data_key=key, principal=ctx.principal, purpose=ctx.purpose,
                                   now=ctx.now, own_record=own_record(decision, category))
    ctx.audit(EventType.SUPPORT_RECORDS_RECORD_CREATE, subject_id=subject.id,
              decision=decision, outcome="allow", categories=[category],
              details={"record_id": str(record.id), "kind": kind})
    return RecordView(records.open_record(record, key), records.record_etag(record))


def update_record(ctx: RequestContext, subject_id: uuid.UUID, record_id: uuid.UUID,
                  if_match: str, changes: dict[str, Any]) -> RecordView:
    subject, facts, record, _read = _readable(ctx, subject_id, record_id,
                                       EventType.SUPPORT_RECORDS_RECORD_UPDATE)
    decision = guards.authorise_write(ctx, subject.id, facts, [record.category])
    if record.created_org != ctx.principal.org:
        # Provenance: the record's words are its organisation's, shared under its flows.
        guards.deny(ctx, EventType.SUPPORT_RECORDS_RECORD_UPDATE, subject.id,
                    [str(Reason.NOT_AUTHOR_OF_ENTRY)], [record.category], decision)
    if if_match != records.record_etag(record):
        raise PreconditionFailedError("The record changed since you read it; reload and retry.")
    key = subjects.data_key(subject, ctx.keyring)
    changed = records.update_record(ctx.session, record=record, changes=changes, data_key=key,
                                    principal=ctx.principal, purpose=ctx.purpose, now=ctx.now)
    ctx.audit(EventType.SUPPORT_RECORDS_RECORD_UPDATE, subject_id=subject.id,
              decision=decision, outcome="allow", categories=[record.category],
              details={"record_id": str(record.id), "fields": changed})
    return RecordView(records.open_record(record, key), records.record_etag(record))


def record_history(ctx: RequestContext, subject_id: uuid.UUID,
                   record_id: uuid.UUID) -> list[dict[str, Any]]:
    """Every version of a record the caller may read now (only its organisation writes it, so
    every version is shared under the same flows as the record)."""
    subject, _facts, record, decision = _readable(ctx, subject_id, record_id,
                                          EventType.SUPPORT_RECORDS_RECORD_HISTORY)
    key = subjects.data_key(subject, ctx.keyring)
    versions = [records.open_version(record, v, key)
                for v in records.history(ctx.session, record)]
    ctx.audit(EventType.SUPPORT_RECORDS_RECORD_HISTORY, subject_id=subject.id,
              decision=decision, outcome="allow", categories=[record.category], reasons=[],
              details={"record_id": str(record.id),
                       "versions": [v["version"] for v in versions]})
    return versions


def add_snapshot(ctx: RequestContext, subject_id: uuid.UUID, record_id: uuid.UUID,
                 figures: records.SnapshotIn) -> RecordView:
    """Record one month of a tenancy's rent account; then the APA alert and the computed
    outcome, each audited. Answers with the tenancy as the caller now reads it."""
    subject, facts, record, _read = _readable(ctx, subject_id, record_id,
                                       EventType.SUPPORT_RECORDS_SNAPSHOT_CREATE)
    if record.kind != "tenancy":
        raise NotFoundError("Monthly rent figures belong to a tenancy record.")
    decision = guards.authorise_write(ctx, subject.id, facts, [record.category])
    key = subjects.data_key(subject, ctx.keyring)
    snapshot = records.add_snapshot(ctx.session, record=record, figures=figures, data_key=key,
                                    principal=ctx.principal, now=ctx.now)
    ctx.audit(EventType.SUPPORT_RECORDS_SNAPSHOT_CREATE, subject_id=subject.id,
              decision=decision, outcome="allow", categories=[record.category],
              details={"record_id": str(record.id), "snapshot_id": str(snapshot.id),
                       "month": figures.month.strftime("%Y-%m")})
    _alert_arrears_after_apa(ctx, subject.id, facts, figures, key)
    _paying_own_rent(ctx, record, figures, key)
    readable = guards.decide(ctx, facts, "read", [record.category])
    return _view(ctx, record, readable, key)


def _alert_arrears_after_apa(ctx: RequestContext, subject_id: uuid.UUID, facts: SubjectFacts,
                             figures: records.SnapshotIn, key: bytes) -> None:
    """Tell the housing officers of each APA that ended before this month that arrears are
    back, once per APA. The alert discloses the caller's figures to the APA's organisation, so
    it goes only to an organisation that may read them now: the caller's own, or a case member
    a flow from the caller's organisation reaches with the consent it needs
    (`decision.audience`). Any other organisation's APA is not even opened. Codes and ids only
    in the notification and the event."""
    if figures.arrears <= 0:
        return
    category = RECORD_CATEGORIES["tenancy"]
    may_know = audience(ctx.principal, category, facts, ctx.protocols, ctx.now) | {
        ctx.principal.org}
    for apa in records.records_of(ctx.session, subject_id, "apa"):
        if apa.created_org not in may_know:
            continue  # consent withdrawn, no flow, or no longer on the case: not told
        once_key = f"arrears_after_apa:{apa.id}"
        if not rent.arrears_after_apa(figures.arrears, figures.month,
                                      records.apa_ended_on(apa, key)):
            continue
        if notifications.once_raised(ctx.session, once_key):
            continue
        details = {"record_id": str(apa.id), "month": figures.month.strftime("%Y-%m")}
        try:
            with ctx.session.begin_nested():  # a savepoint: a lost race undoes only the alert
                notifications.notify(ctx.session, type="arrears_after_apa",
                                     org=apa.created_org, role="housing_officer", now=ctx.now,
                                     subject_id=subject_id, details=details, once_key=once_key)
                ctx.session.flush()
        except IntegrityError:
            continue  # a concurrent month raised it first: once is once
        ctx.audit(EventType.SUPPORT_RECORDS_APA_ARREARS_ALERT, subject_id=subject_id,
                  outcome="allow", categories=[apa.category],
                  details={**details, "to_org": apa.created_org})


def _paying_own_rent(ctx: RequestContext, record: SupportRecord, figures: records.SnapshotIn,
                     key: bytes) -> None:
    months = [records.open_snapshot(s, key) for s in records.snapshots_of(ctx.session,
                                                                          record.id)]
    already = [o.achieved_on for o in outcome_sources.from_record(ctx.session, record.id,
                                                                  PAYING_OWN_RENT)]
    achieved_on = rent.paying_own_rent_achieved(months, figures.month, already)
    if achieved_on is None or outcomes.find_outcome(ctx.session, record.subject_id,
                                                    PAYING_OWN_RENT, achieved_on):
        return  # none, or already counted for the claimant that day (from another tenancy)
    # In a savepoint: a concurrent request that counted it for the claimant that day undoes
    # only this outcome (None), never the month that earned it.
    outcome = outcomes.record_once(
        ctx.session, key, subject_id=record.subject_id, code=PAYING_OWN_RENT,
        category=record.category, achieved_on=achieved_on, org=record.created_org,
        purpose=ctx.purpose, now=ctx.now, staff_id=ctx.principal.actor_uuid,
        service_line=PAYING_OWN_RENT_SERVICE_LINE, computed=True, source_record_id=record.id)
    if outcome is None:
        return
    shares = attribution.attribute(ctx.session, outcome)  # for outcome-based payments
    ctx.audit(EventType.SUPPORT_RECORDS_OUTCOME_COMPUTE, subject_id=record.subject_id,
              outcome="allow", categories=[record.category],
              details={"outcome_id": str(outcome.id), "code": PAYING_OWN_RENT,
                       "record_id": str(record.id), "achieved_on": achieved_on.isoformat(),
                       "attributed_to": sorted(a.org for a in shares)})


@dataclass(frozen=True)
class RecordPermissions:
    """For the pages: the kinds the caller may add, and why not the others (codes only)."""

    writable: frozenset[str]
    refused: dict[str, list[str]]


def record_permissions(ctx: RequestContext, subject_id: uuid.UUID) -> RecordPermissions:
    """The write decision for each kind's category, audited like 'why can't I?'."""
    subject, facts = guards.subject_in_case(ctx, subject_id)
    decision = guards.decide(ctx, facts, "write", RECORD_CATEGORY_CODES)
    closed = cases.is_closed(ctx.session, subject.id)
    writable, refused = set(), {}
    for kind in RECORD_KINDS:
        category = decision.permitted.get(RECORD_CATEGORIES[kind])
        if category is not None and not closed:
            writable.add(kind)
        else:
            reasons = [str(Reason.CASE_CLOSED)] if closed else list(
                decision.withheld[RECORD_CATEGORIES[kind]].reasons)
            refused[kind] = reasons
    ctx.audit(EventType.ACCESS_DECISION_EXPLAIN, subject_id=subject.id, decision=decision,
              outcome="allow" if writable else "deny", categories=RECORD_CATEGORY_CODES,
              details={"action": "write", "kinds": sorted(writable)})
    return RecordPermissions(frozenset(writable), refused)
