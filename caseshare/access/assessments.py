"""Use cases for needs assessments, on the same access path as case plans.

- `record_assessment`: the caller must be allowed to WRITE every category the answered
  questions disclose (an unanswered optional question discloses nothing, so its category does
  not count); the answers are validated, scored, stored sealed item by item (each item under
  the categories it discloses, assessments/models.py) and audited; the answer carries the
  proposals, each checked against protocol and consent before it is shown.
- `list_assessments`: the claimant's assessments, newest first, each with only the items the
  caller may read: an item opens when the decision lets the caller read every one of its
  categories from the organisation that completed the assessment (provenance). So an answer
  shows when its question's category is readable; a domain score (and the questions that
  produced it) when every question that CAN score in the domain is readable; a flag when the
  question it is raised from is readable; the support level and review date when every scoring
  question is readable. What changed since the previous assessment of the same form is given
  per domain where both scores are readable. Withheld categories are named with their reasons.
- `accept_proposal`: creates the plan entry (through access.case_plans) or the referral
  (through access.referrals) in the same unit of work, so every check and audit of those use
  cases applies; a proposal not allowed is a 403 with reasons, a second acceptance a 409.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date, datetime, timedelta
from typing import Any, NoReturn

from caseshare.access import case_plans, guards
from caseshare.access import referrals as referral_cases
from caseshare.access.context import RequestContext
from caseshare.access.decision import Decision
from caseshare.assessments import next_steps
from caseshare.assessments import service as store
from caseshare.assessments.forms import AssessmentForm, Need
from caseshare.assessments.models import Assessment, AssessmentAcceptance, AssessmentItem
from caseshare.assessments.scoring import evaluate, validate_answers
from caseshare.audit.event_types import EventType
from caseshare.case_plan import service as plans
from caseshare.cases import service as cases
from caseshare.directory import service as directory
from caseshare.errors import ForbiddenError, NotFoundError, ValidationError
from caseshare.facts import SubjectFacts
from caseshare.reasons import Reason
from caseshare.subjects import service as subjects
from caseshare.uk_time import uk_today

# Review and due dates are UK calendar dates: a triage at 23:30 UTC in summer is the next day.

# The LSSF service line of a proposal, as a plan entry's support service code (case_plan).
PLAN_SERVICE = {
    "triage": "basic_advice_triage",
    "digital_support": "assisted_digital",
    "personal_budgeting_support": "budgeting_support",
    "housing_costs_apa": "apa_identification",
    "complex_needs": "intermediary_support",
}


@dataclasses.dataclass(frozen=True)
class Proposal:
    """A need's proposed action or referral, checked for this caller and claimant now."""

    id: str
    kind: str                 # action | referral
    service_line: str
    title: str                # in the assessment's language
    allowed: bool
    reasons: tuple[str, ...]
    next_step: str            # plain words: what to do (accept, or how to make it possible)
    to_org: str | None = None
    purpose: str | None = None     # referral: the purpose it is made for
    category: str | None = None    # action: the plan category it is written under
    due_on: date | None = None     # action: when it would be due if accepted today
    service_id: str | None = None  # referral: the receiver's directory service for the line
    service_name: str | None = None
    accepted: bool = False


@dataclasses.dataclass(frozen=True)
class AssessmentView:
    """One assessment as the caller may see it (codes and the opened items only)."""

    id: uuid.UUID
    subject_id: uuid.UUID
    form_id: str
    form_version: int
    language: str
    purpose: str
    completed_at: datetime
    completed_org: str
    answers: dict[str, Any]
    scores: dict[str, float]
    explanations: dict[str, list[str]]
    flags: list[str]
    level: str | None
    review_on: date | None
    withheld: list[dict[str, Any]]
    proposals: list[Proposal]
    previous_id: uuid.UUID | None = None
    changes: dict[str, float] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Accepted:
    """What accepting a proposal created: a plan entry or a referral, as its use case
    returned it."""

    kind: str  # entry | referral
    proposal_id: str
    item: dict[str, Any]


def check_claimant(ctx: RequestContext, subject_id: uuid.UUID) -> None:
    """Before an assessment is started: the claimant is in the caller's case (otherwise a 404,
    audited, so ids cannot be probed). Reads and discloses nothing."""
    guards.subject_in_case(ctx, subject_id)


def find_form(ctx: RequestContext, form_id: str, form_version: int,
              language: str) -> AssessmentForm:
    """The loaded form, or a 422 naming `form_id`, `form_version` or `language`."""
    versions = [f for f in ctx.assessment_forms.forms if f.id == form_id]
    if not versions:
        raise ValidationError({"form_id": [f"Unknown assessment form {form_id!r}."]})
    form = ctx.assessment_forms.get(form_id, form_version)
    if form is None:
        raise ValidationError({"form_version": [
            f"Form {form_id} has no version {form_version}."]})
    if language not in form.languages:
        raise ValidationError({"language": [
            f"Form {form_id} is in {', '.join(form.languages)} only."]})
    return form


def record_assessment(ctx: RequestContext, subject_id: uuid.UUID, form_id: str,
                      form_version: int, language: str,
                      answers: dict[str, Any]) -> AssessmentView:
    form = find_form(ctx, form_id, form_version, language)
    normal = validate_answers(form, answers)
    subject, facts = guards.subject_in_case(ctx, subject_id)
    categories = sorted({q.category for q in form.questions if q.id in normal})
    decision = guards.decide(ctx, facts, "write", categories or ["identity"])
    details = {"form_id": form.id, "form_version": form.version}
    if not decision.allowed:
        event = ctx.audit_refusal(EventType.ASSESSMENTS_ASSESSMENT_CREATE, subject_id=subject.id,
                                  decision=decision, categories=sorted(decision.withheld),
                                  reasons=decision.reasons, details=details)
        raise ForbiddenError("You may not record some of these answers for this claimant.",
                             reasons=decision.reasons, audit_id=event.event_uuid)
    if cases.is_closed(ctx.session, subject.id):  # a closed case is read-only until reopened
        guards.deny(ctx, EventType.ASSESSMENTS_ASSESSMENT_CREATE, subject.id,
                    [str(Reason.CASE_CLOSED)], categories, decision)
    result = evaluate(form, normal)
    review_on = uk_today(ctx.now) + timedelta(days=result.review_days)
    own = frozenset(c for c in categories if case_plans.own_record(decision, c))
    assessment = store.store(
        ctx.session, subject_id=subject.id, form=form, language=language, answers=normal,
        result=result, review_on=review_on.isoformat(), data_key=subjects.data_key(
            subject, ctx.keyring), principal=ctx.principal, purpose=ctx.purpose, now=ctx.now,
        own_record=own)
    ctx.audit(EventType.ASSESSMENTS_ASSESSMENT_CREATE, subject_id=subject.id, decision=decision,
              outcome="allow", categories=categories, reasons=[],
              details={**details, "assessment_id": str(assessment.id)})
    proposals = [_check(ctx, subject.id, facts, need, language, {})
                 for need in result.needs]
    return AssessmentView(
        id=assessment.id, subject_id=subject.id, form_id=form.id, form_version=form.version,
        language=language, purpose=ctx.purpose, completed_at=assessment.completed_at,
        completed_org=assessment.completed_org,
        answers={k: list(v) if isinstance(v, tuple) else v for k, v in normal.items()},
        scores=dict(result.scores),
        explanations={k: list(v) for k, v in result.explanations.items()},
        flags=list(result.flags), level=result.level, review_on=review_on, withheld=[],
        proposals=proposals)


def list_assessments(ctx: RequestContext, subject_id: uuid.UUID) -> list[AssessmentView]:
    """The claimant's assessments, newest first, as the caller may see them (module
    docstring); one audit event for what was opened, one for what was withheld."""
    ctx.read_from_snapshot()
    subject, facts = guards.subject_in_case(ctx, subject_id)
    rows = store.assessments_of(ctx.session, subject.id)
    decision = guards.decide(ctx, facts, "read", None)
    items = store.items_of(ctx.session, [a.id for a in rows])
    accepted = store.acceptances_of(ctx.session, [a.id for a in rows])
    key = subjects.data_key(subject, ctx.keyring) if rows else b""
    views: list[AssessmentView] = []
    previous: dict[str, AssessmentView] = {}
    opened: set[str] = set()
    withheld: dict[str, list[str]] = {}
    for row in rows:
        form = ctx.assessment_forms.get(row.form_id, row.form_version)
        view = _view(ctx, subject.id, facts, row, form, items[row.id], accepted[row.id],
                     decision, key, opened, withheld)
        before = previous.get(row.form_id)
        if before is not None:
            view = dataclasses.replace(view, previous_id=before.id, changes={
                d: view.scores[d] - before.scores[d] for d in view.scores if d in before.scores})
        previous[row.form_id] = view
        views.append(view)
    _audit_read(ctx, subject.id, decision, list(rows), opened, withheld)
    return list(reversed(views))


def get_assessment(ctx: RequestContext, subject_id: uuid.UUID,
                   assessment_id: uuid.UUID) -> AssessmentView:
    """One assessment as the caller may see it (as in `list_assessments`), with what changed
    since the previous assessment of the same form where both scores are readable. Only this
    assessment is audited as read (the previous one is named as `compared_with` when a change
    was computed from its scores); the claimant's other assessments are neither opened nor
    audited. Absent: a 404, audited."""
    ctx.read_from_snapshot()
    subject, facts = guards.subject_in_case(ctx, subject_id)
    row = store.find(ctx.session, subject.id, assessment_id)
    if row is None:
        event = ctx.audit_refusal(EventType.ASSESSMENTS_ASSESSMENT_LIST, subject_id=subject.id,
                                  reasons=[str(Reason.NO_SUCH_ASSESSMENT)],
                                  details={"assessment_id": str(assessment_id)})
        raise NotFoundError("No such assessment.", audit_id=event.event_uuid)
    decision = guards.decide(ctx, facts, "read", None)
    key = subjects.data_key(subject, ctx.keyring)
    opened: set[str] = set()
    withheld: dict[str, list[str]] = {}
    view = _one_view(ctx, subject.id, facts, row, decision, key, opened, withheld)
    before_row = _previous(ctx, subject.id, row)
    extra: dict[str, Any] = {}
    if before_row is not None:
        before = _one_view(ctx, subject.id, facts, before_row, decision, key, set(), {})
        view = dataclasses.replace(view, previous_id=before.id, changes={
            d: view.scores[d] - before.scores[d] for d in view.scores if d in before.scores})
        if view.changes:
            extra["compared_with"] = str(before.id)
    _audit_read(ctx, subject.id, decision, [row], opened, withheld, extra)
    return view


def _previous(ctx: RequestContext, subject_id: uuid.UUID, row: Assessment) -> Assessment | None:
    """The assessment of the same form completed just before `row`, if any."""
    rows = store.assessments_of(ctx.session, subject_id)
    earlier = [r for r in rows if r.form_id == row.form_id and r.id != row.id
               and (r.completed_at, str(r.id)) < (row.completed_at, str(row.id))]
    return earlier[-1] if earlier else None


def _one_view(ctx: RequestContext, subject_id: uuid.UUID, facts: SubjectFacts, row: Assessment,
              decision: Decision, key: bytes, opened: set[str],
              withheld: dict[str, list[str]]) -> AssessmentView:
    form = ctx.assessment_forms.get(row.form_id, row.form_version)
    items = store.items_of(ctx.session, [row.id])[row.id]
    accepted = store.acceptances_of(ctx.session, [row.id])[row.id]
    return _view(ctx, subject_id, facts, row, form, items, accepted, decision, key, opened,
                 withheld)


def _audit_read(ctx: RequestContext, subject_id: uuid.UUID, decision: Decision,
                rows: list[Assessment], opened: set[str], withheld: dict[str, list[str]],
                extra: dict[str, Any] | None = None) -> None:
    """One event for what was opened, one for what was withheld (or for an empty read)."""
    ids = [str(a.id) for a in rows]
    if opened:
        ctx.audit(EventType.ASSESSMENTS_ASSESSMENT_LIST, subject_id=subject_id,
                  decision=decision, outcome="allow", categories=sorted(opened), reasons=[],
                  details={"assessments": ids, **(extra or {})})
    if withheld or not opened:
        ctx.audit(EventType.ASSESSMENTS_ASSESSMENT_LIST, subject_id=subject_id,
                  decision=decision, outcome="deny" if withheld else "allow",
                  categories=sorted(withheld),
                  reasons=sorted({r for rs in withheld.values() for r in rs}),
                  details={"assessments": ids,
                           "withheld": [{"category": c, "reasons": r}
                                        for c, r in sorted(withheld.items())]})


def _category_reasons(category: str, row: Assessment, decision: Decision) -> list[str]:
    """Why the caller may not read `category` of this assessment (empty: it may): the decision
    must let it read the category from the organisation that completed it."""
    permitted = decision.permitted.get(category)
    if permitted is None:
        withheld = decision.withheld.get(category)
        return list(withheld.reasons) if withheld else [str(Reason.CATEGORY_NOT_IN_PROTOCOL)]
    if row.completed_org not in permitted.sources:
        return list(permitted.reasons) or [str(Reason.DIRECTION_NOT_PERMITTED)]
    return []


def _refusals(item: AssessmentItem, row: Assessment, decision: Decision) -> dict[str, list[str]]:
    """The categories of `item` the caller may not read, with the reasons (empty: it may open
    the item). An item written as its organisation's own record opens only for it."""
    if item.own_record and decision.org is not None and row.completed_org != decision.org:
        return {c: [str(Reason.DIRECTION_NOT_PERMITTED)] for c in item.categories}
    out = {c: _category_reasons(c, row, decision) for c in item.categories}
    return {c: r for c, r in out.items() if r}


@dataclasses.dataclass
class _Parts:
    """The opened items of one assessment, by kind."""

    answers: dict[str, Any] = dataclasses.field(default_factory=dict)
    scores: dict[str, float] = dataclasses.field(default_factory=dict)
    explanations: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    flags: list[str] = dataclasses.field(default_factory=list)
    summary: dict[str, Any] = dataclasses.field(default_factory=dict)

    def put(self, item: AssessmentItem, value: Any) -> None:
        if item.kind == "answer" and value is not None:
            self.answers[item.key] = value
        elif item.kind == "score":
            self.scores[item.key] = float(value["score"])
            self.explanations[item.key] = list(value["explanation"])
        elif item.kind == "flags":
            self.flags += list(value)
        elif item.kind == "summary":
            self.summary = dict(value)


def _view(ctx: RequestContext, subject_id: uuid.UUID, facts: SubjectFacts, row: Assessment,
          form: AssessmentForm | None, items: list[AssessmentItem],
          accepted: dict[str, AssessmentAcceptance], decision: Decision, key: bytes,
          opened: set[str], withheld_all: dict[str, list[str]]) -> AssessmentView:
    parts = _Parts()
    named: dict[str, set[str]] = {}
    for item in sorted(items, key=lambda i: (i.kind, i.key)):
        refused = _refusals(item, row, decision)
        for category, why in refused.items():
            named.setdefault(category, set()).update(why)
        if not refused:
            parts.put(item, store.open_item(item, key))
            opened.update(item.categories)
    for category, why_set in named.items():
        withheld_all[category] = sorted(set(withheld_all.get(category, [])) | why_set)
    answers, scores, explanations = parts.answers, parts.scores, parts.explanations
    flags, summary = parts.flags, parts.summary
    proposals = []
    if form is not None:
        for need in form.needs:
            if need.domain in scores and scores[need.domain] >= need.min_score:
                proposals.append(_check(ctx, subject_id, facts, need, row.language, accepted))
    review_on = summary.get("review_on")
    return AssessmentView(
        id=row.id, subject_id=subject_id, form_id=row.form_id, form_version=row.form_version,
        language=row.language, purpose=row.purpose, completed_at=row.completed_at,
        completed_org=row.completed_org, answers=answers, scores=scores,
        explanations=explanations, flags=sorted(flags), level=summary.get("level"),
        review_on=date.fromisoformat(review_on) if review_on else None,
        withheld=[{"category": c, "reasons": sorted(r)} for c, r in sorted(named.items())],
        proposals=proposals)


def _check(ctx: RequestContext, subject_id: uuid.UUID, facts: SubjectFacts, need: Need,
           language: str, accepted: dict[str, AssessmentAcceptance]) -> Proposal:
    """A need's proposal, checked against protocol and consent for the caller now, with the
    reasons and the next step in plain words. Pure over the facts; discloses nothing."""
    template = need.proposal
    title = template.title.get(language) or template.title.get("en") or need.id
    base = Proposal(id=need.id, kind=template.kind, service_line=need.service_line,
                    title=title, allowed=False, reasons=(), next_step="",
                    accepted=need.id in accepted)
    if template.kind == "action":
        category = template.category or ""
        decision = guards.decide(ctx, facts, "write", [category])
        reasons = [] if decision.allowed else decision.reasons
        described = ctx.protocols.categories.get(category)
        words = described.description.lower() if described else category.replace("_", " ")
        due = (uk_today(ctx.now) + timedelta(days=template.due_in_days)
               if template.due_in_days is not None else None)
        return dataclasses.replace(
            base, category=category, due_on=due, allowed=decision.allowed,
            reasons=tuple(reasons),
            next_step=next_steps.action_step(reasons, category=words, purpose=ctx.purpose))
    to_org, purpose = template.to_org or "", template.purpose or ""
    own = to_org == ctx.principal.org
    if own:
        reasons = [str(Reason.DIRECTION_NOT_PERMITTED)]
    else:
        refused = referral_cases.sender_reason(ctx.principal, ctx.purpose, ctx.protocols,
                                               ctx.now, to_org=to_org, purpose=purpose)
        basis = referral_cases.referral_basis(ctx.protocols, ctx.now, facts,
                                              from_org=ctx.principal.org, to_org=to_org,
                                              purpose=purpose)
        reasons = [refused] if refused is not None else list(basis.reasons)
    name = ctx.protocols.party_name(to_org) or to_org
    service = _directory_service(ctx, to_org, need.service_line)
    return dataclasses.replace(
        base, to_org=to_org, purpose=purpose, allowed=not reasons, reasons=tuple(reasons),
        next_step=next_steps.referral_step(reasons, org_name=name, purpose=purpose, own_org=own),
        service_id=service.id if service else None,
        service_name=service.name if service else None)


def _directory_service(ctx: RequestContext, to_org: str,
                       service_line: str) -> directory.ServiceView | None:
    """The receiving organisation's directory service for the need's service line (the first
    by name), so the warm handover names the service the claimant will meet; None when the
    directory lists none. The directory holds no claimant data."""
    found = directory.search(ctx.session, directory.Query(service_line=service_line,
                                                          party_id=to_org, limit=1))
    return found[0] if found else None


def accept_proposal(ctx: RequestContext, subject_id: uuid.UUID, assessment_id: uuid.UUID,
                    proposal_id: str, values: dict[str, Any] | None = None) -> Accepted:
    """Accept one proposal of an assessment the caller may see: the plan entry (the plan is
    started if the claimant has none) or the referral is created by its own use case, in this
    unit of work. `values` may give a referral's `message`, `contact_name` and
    `appointment_at` (the message defaults to the proposal's title, the contact to the
    receiving organisation's name) or an action's `owner_name`."""
    values = values or {}
    subject, facts = guards.subject_in_case(ctx, subject_id)
    row = store.find(ctx.session, subject.id, assessment_id)
    form = ctx.assessment_forms.get(row.form_id, row.form_version) if row else None
    if row is None or form is None:
        _not_found(ctx, subject.id, assessment_id, proposal_id, "No such assessment.")
    need = next((n for n in form.needs if n.id == proposal_id), None)
    decision = guards.decide(ctx, facts, "read", None)
    score = _score(ctx, row, need, decision, subject)
    if need is None or score is None or score < need.min_score:
        # A proposal the caller cannot see (its score is withheld) does not exist for them.
        _not_found(ctx, subject.id, assessment_id, proposal_id, "No such proposal.")
    details = {"assessment_id": str(row.id), "proposal_id": need.id}
    if need.id in store.acceptances_of(ctx.session, [row.id])[row.id]:
        event = ctx.audit_refusal(EventType.ASSESSMENTS_PROPOSAL_ACCEPT, subject_id=subject.id,
                                  reasons=[str(Reason.ALREADY_ACCEPTED)], details=details)
        raise store.AlreadyAcceptedError(audit_id=event.event_uuid)
    proposal = _check(ctx, subject.id, facts, need, row.language, {})
    if not proposal.allowed:
        event = ctx.audit_refusal(EventType.ASSESSMENTS_PROPOSAL_ACCEPT, subject_id=subject.id,
                                  reasons=list(proposal.reasons),
                                  details={**details, "next_step": proposal.next_step})
        raise ForbiddenError(f"This proposal is not allowed. {proposal.next_step}",
                             reasons=list(proposal.reasons), audit_id=event.event_uuid)
    if proposal.kind == "action":
        kind, item = "entry", _add_action(ctx, subject.id, proposal, values)
    else:
        kind, item = "referral", referral_cases.create_referral(ctx, subject.id, {
            "to_org": proposal.to_org, "purpose": proposal.purpose,
            "message": values.get("message") or proposal.title,
            # No person named yet: the receiving organisation is the contact.
            "contact_name": values.get("contact_name") or ctx.protocols.party_name(
                proposal.to_org or "") or proposal.to_org,
            "appointment_at": values.get("appointment_at"),
            **({"service_id": proposal.service_id} if proposal.service_id else {})})
    store.record_acceptance(ctx.session, assessment=row, proposal_id=need.id, created_kind=kind,
                            created_id=item["id"], principal=ctx.principal, now=ctx.now)
    ctx.audit(EventType.ASSESSMENTS_PROPOSAL_ACCEPT, subject_id=subject.id, outcome="allow",
              categories=[proposal.category] if proposal.category else [], reasons=[],
              details={**details, "created": kind, "created_id": str(item["id"])})
    return Accepted(kind, need.id, item)


def _score(ctx: RequestContext, row: Assessment, need: Need | None, decision: Decision,
           subject: Any) -> float | None:
    """The need's domain score of `row`, if the caller may read it."""
    if need is None:
        return None
    item = next((i for i in store.items_of(ctx.session, [row.id])[row.id]
                 if i.kind == "score" and i.key == need.domain), None)
    if item is None or _refusals(item, row, decision):
        return None
    return float(store.open_item(item, subjects.data_key(subject, ctx.keyring))["score"])


def _add_action(ctx: RequestContext, subject_id: uuid.UUID, proposal: Proposal,
                values: dict[str, Any]) -> dict[str, Any]:
    entry = {"kind": "action", "category": proposal.category, "title": proposal.title,
             "due_on": proposal.due_on, "service": PLAN_SERVICE.get(proposal.service_line),
             "owner_name": values.get("owner_name")}
    if plans.find_plan(ctx.session, subject_id) is not None:
        opened, _etag = case_plans.add_plan_entry(ctx, subject_id, entry)
        return opened
    _plan, disclosure, _etag = case_plans.create_case_plan(ctx, subject_id, [entry])
    return next(i for i in disclosure.items if i["title"] == proposal.title)


def _not_found(ctx: RequestContext, subject_id: uuid.UUID, assessment_id: uuid.UUID,
               proposal_id: str, message: str) -> NoReturn:
    event = ctx.audit_refusal(EventType.ASSESSMENTS_PROPOSAL_ACCEPT, subject_id=subject_id,
                              reasons=[str(Reason.NO_SUCH_PROPOSAL)],
                              details={"assessment_id": str(assessment_id),
                                       "proposal_id": proposal_id[:80]})
    raise NotFoundError(message, audit_id=event.event_uuid)
