"""Use cases for the case around a claimant: read it, set its lead worker and review date,
close it, reopen it (on the access path, audited with codes and ids only).

Who: reading needs a relationship with the claimant (as for every read); every change needs a
case member with a write grant for the declared purpose in at least one category its
agreements declare (the rule of the plan's writes). A closed case is read-only: its plan, lead
worker and review date stay as they were until a case member reopens it, which is possible
until the retention pass has deleted any organisation's copy (`retention_started`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from caseshare.access import guards
from caseshare.access.context import RequestContext
from caseshare.access.decision import Decision
from caseshare.audit.event_types import EventType
from caseshare.cases import effects
from caseshare.cases import service as cases
from caseshare.facts import SubjectFacts
from caseshare.reasons import Reason
from caseshare.retention import certificates
from caseshare.subjects import service as subjects
from caseshare.subjects.models import Subject
from caseshare.uk_time import UK

UNSET: Any = object()  # a PATCH field not sent (None clears it)


@dataclass(frozen=True)
class StaffChoice:
    id: uuid.UUID
    name: str


@dataclass(frozen=True)
class CaseDetails:
    """The case as the caller may see it, and what the caller may do with it: `refusals` says
    why it may not change the case (empty when it may)."""

    case: cases.CaseView
    history: list[cases.LeadWorkerStep]
    refusals: tuple[str, ...]
    staff: tuple[StaffChoice, ...] = ()  # who may lead it (only for a caller who may change it)
    # Only for a caller who may change it, of the closing or the lead organisation.
    closure_note: str | None = None

    @property
    def may_manage(self) -> bool:
        return not self.refusals


def read_case(ctx: RequestContext, subject_id: uuid.UUID) -> CaseDetails:
    subject, facts = guards.subject_in_case(ctx, subject_id)
    decision = _write_decision(ctx, facts)
    refusals = () if decision.permitted else tuple(decision.reasons or
                                                   [str(Reason.NO_CASE_RELATIONSHIP)])
    view = cases.view(ctx.session, subject.id, subject.lead_org_id)
    staff: tuple[StaffChoice, ...] = ()
    note = None
    if not refusals:
        staff = tuple(StaffChoice(s.id, s.name)
                      for s in cases.active_staff(ctx.session, subject.lead_org_id))
        row = cases.find_case(ctx.session, subject.id)
        if row is not None and row.closure_note is not None and cases.may_read_closure_note(
                row, ctx.principal.org, subject.lead_org_id):
            note = cases.closure_note(row, subjects.data_key(subject, ctx.keyring))
    ctx.audit(EventType.CASES_CASE_READ, subject_id=subject.id, outcome="allow",
              details={"status": view.status, "closure_note": note is not None})
    return CaseDetails(view, cases.lead_worker_history(ctx.session, subject.id), refusals,
                       staff, note)


def update_case(ctx: RequestContext, subject_id: uuid.UUID, *,
                lead_worker_id: uuid.UUID | None = UNSET,
                review_on: date | None = UNSET) -> CaseDetails:
    """Change the lead worker and/or the review date (a field left UNSET is not changed; None
    clears it). One audit event per field that changed."""
    subject, facts = _locked(ctx, subject_id)
    event = (EventType.CASES_LEAD_WORKER_CHANGE if lead_worker_id is not UNSET
             else EventType.CASES_REVIEW_DATE_SET)
    decision = _authorise(ctx, subject, facts, event)
    _refuse_if_closed(ctx, subject.id, event, decision)
    case = cases.get_or_create(ctx.session, subject.id, ctx.now)
    changed = False
    if lead_worker_id is not UNSET:
        previous = case.lead_worker_id
        if cases.set_lead_worker(ctx.session, case, lead_org=subject.lead_org_id,
                                 staff_id=lead_worker_id, principal=ctx.principal, now=ctx.now):
            changed = True
            ctx.audit(EventType.CASES_LEAD_WORKER_CHANGE, subject_id=subject.id,
                      decision=decision, outcome="allow", reasons=[],
                      details={"lead_worker_id": _str(lead_worker_id),
                               "previous_lead_worker_id": _str(previous)})
    today = ctx.now.astimezone(UK).date()
    if review_on is not UNSET and cases.set_review_date(case, review_on, today=today,
                                                        now=ctx.now):
        changed = True
        ctx.audit(EventType.CASES_REVIEW_DATE_SET, subject_id=subject.id,
                  decision=decision, outcome="allow", reasons=[],
                  details={"review_on": review_on.isoformat() if review_on else None})
    if not changed:  # the answer still shows the case: audited as a read
        ctx.audit(EventType.CASES_CASE_READ, subject_id=subject.id, outcome="allow",
                  details={"status": case.status, "unchanged": True})
    return _details(ctx, subject)


def close_case(ctx: RequestContext, subject_id: uuid.UUID, reason: str,
               note: str | None) -> CaseDetails:
    """Close the case: consents that last until it closes end, referrals in progress close,
    and the retention clock starts (`closed_at`), in this one unit of work."""
    subject, facts = _locked(ctx, subject_id)
    decision = _authorise(ctx, subject, facts, EventType.CASES_CASE_CLOSE)
    case = cases.get_or_create(ctx.session, subject.id, ctx.now)
    key = subjects.data_key(subject, ctx.keyring)
    cases.close(case, reason=reason, note=note, data_key=key, dek_version=subject.dek_version,
                principal=ctx.principal, now=ctx.now)
    ended = effects.end_at_closure(ctx.session, subject, data_key=key, principal=ctx.principal,
                                   now=ctx.now)
    # Codes and ids only: the note's words are sealed in the case row, never in the log.
    ctx.audit(EventType.CASES_CASE_CLOSE, subject_id=subject.id, decision=decision,
              outcome="allow", reasons=[],
              details={"reason": reason, "note": case.closure_note is not None,
                       "consents_ended": list(ended.consents_ended),
                       "referrals_closed": list(ended.referrals_closed)})
    return _details(ctx, subject)


def reopen_case(ctx: RequestContext, subject_id: uuid.UUID) -> CaseDetails:
    """Reopen a closed case while no organisation's copy has been deleted by the retention
    pass (403 `retention_started` after). Consents that ended at closure stay ended."""
    subject, facts = _locked(ctx, subject_id)
    decision = _authorise(ctx, subject, facts, EventType.CASES_CASE_REOPEN)
    case = cases.get_or_create(ctx.session, subject.id, ctx.now)
    if case.status == "closed" and certificates.retention_started(ctx.session, subject.id):
        guards.deny(ctx, EventType.CASES_CASE_REOPEN, subject.id,
                    [str(Reason.RETENTION_STARTED)], [], decision)
    closed_reason = case.closure_reason
    cases.reopen(case, principal=ctx.principal, now=ctx.now)
    ctx.audit(EventType.CASES_CASE_REOPEN, subject_id=subject.id, decision=decision,
              outcome="allow", reasons=[], details={"closure_reason": closed_reason})
    return _details(ctx, subject)


def _locked(ctx: RequestContext, subject_id: uuid.UUID) -> tuple[Subject, SubjectFacts]:
    """The subject (relationship checked, as for every use case), its row then locked until
    the unit of work ends, before the case row is read: two closures, a closure and a
    reopening, or a reopening and the retention pass (which locks the same row) run one after
    the other, so the second reads the first's outcome (a second closure is a 409, a reopening
    after a deletion a 403 `retention_started`). On SQLite the writing transaction already
    holds the database's write lock."""
    found = guards.subject_in_case(ctx, subject_id)
    subjects.lock_subject(ctx.session, subject_id)
    return found


def _write_decision(ctx: RequestContext, facts: SubjectFacts) -> Decision:
    """The write decision on every category the caller's agreements declare."""
    org = ctx.principal.org
    declared = sorted({c.code for p in ctx.protocols.for_party(org) for c in p.categories})
    return guards.decide(ctx, facts, "write", declared or ["identity"])


def _authorise(ctx: RequestContext, subject: Subject, facts: SubjectFacts,
               event: EventType) -> Decision:
    """A case member with a write grant for the purpose, or 403 (audited) with the reasons."""
    decision = _write_decision(ctx, facts)
    if not decision.permitted:
        guards.deny(ctx, event, subject.id,
                    decision.reasons or [str(Reason.NO_CASE_RELATIONSHIP)], [], decision)
    return decision


def _refuse_if_closed(ctx: RequestContext, subject_id: uuid.UUID, event: EventType,
                      decision: Decision) -> None:
    if cases.is_closed(ctx.session, subject_id):
        guards.deny(ctx, event, subject_id, [str(Reason.CASE_CLOSED)], [], decision)


def _details(ctx: RequestContext, subject: Subject) -> CaseDetails:
    """The case after a change, for the answer (the change's own event covers it)."""
    return CaseDetails(cases.view(ctx.session, subject.id, subject.lead_org_id),
                       cases.lead_worker_history(ctx.session, subject.id), ())


def _str(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)
