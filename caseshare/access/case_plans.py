"""The request path for subject data. Read this first.

    principal + purpose  ->  subject facts  ->  decision (pure)  ->  open permitted fields
                         ->  audit event in the same transaction  ->  commit  ->  respond

Nothing leaves before the commit that holds its audit event succeeds. A use case never commits:
it runs inside the request's unit of work (`access.begin`), which commits once when it ends; a
denial is audited with `ctx.audit_refusal` and that event alone is committed before the error
goes on up. Writes are authorised here, then handed to the domain service, and committed with
their audit event as one unit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, NoReturn

from caseshare.access import guards
from caseshare.access.context import RequestContext
from caseshare.access.decision import Decision, audience, evaluate
from caseshare.access.disclosure import Disclosure, disclose_entries, may_see
from caseshare.audit.event_types import EventType
from caseshare.case_plan import service as plans
from caseshare.case_plan.models import CasePlan, PlanEntry
from caseshare.case_plan.read_model import get_plan_with_entries
from caseshare.case_plan.service import PlanView
from caseshare.cases import service as cases
from caseshare.errors import (
    ForbiddenError,
    NotFoundError,
    PreconditionFailedError,
    ValidationError,
)
from caseshare.reasons import Reason
from caseshare.subjects import service as subjects


def known_categories(ctx: RequestContext, categories: list[str] | None) -> list[str] | None:
    """The requested categories, once each; a code no protocol declares is a 422 naming
    `categories` (before anything is read or audited)."""
    if not categories:
        return categories
    unknown = sorted({c for c in categories if c not in ctx.protocols.categories})
    if unknown:
        shown = ", ".join(unknown[:5]) + (f" and {len(unknown) - 5} more" if len(unknown) > 5
                                          else "")
        raise ValidationError({"categories": [f"Unknown category: {shown}."]})
    return list(dict.fromkeys(categories))


def read_case_plan(ctx: RequestContext, subject_id: uuid.UUID,
                   categories: list[str] | None = None) -> tuple[PlanView, Disclosure, str]:
    categories = known_categories(ctx, categories)
    ctx.read_from_snapshot()
    subject, facts = guards.subject_in_case(ctx, subject_id)
    try:
        plan, entries = get_plan_with_entries(ctx.session, subject.id)
    except NotFoundError:
        _no_plan(ctx, EventType.CASE_PLAN_PLAN_READ, subject.id)
    decision = guards.decide(ctx, facts, "read", categories)
    disclosure = disclose_entries(entries, decision, subjects.data_key(subject, ctx.keyring))
    guards.audit_read(ctx, EventType.CASE_PLAN_PLAN_READ, subject.id, decision, disclosure)
    return plans.plan_view(plan, facts.case_orgs), disclosure, plans.view_etag(disclosure.entries)


def create_case_plan(ctx: RequestContext, subject_id: uuid.UUID,
                     entries: list[dict[str, Any]]) -> tuple[PlanView, Disclosure, str]:
    """Create the plan with its first entries, and answer with the plan as the caller now
    reads it (the entries it may see, the categories withheld, the ETag), from what this unit
    of work wrote: one transaction, one audit event."""
    subject, facts = guards.subject_in_case(ctx, subject_id)
    decision = guards.authorise_write(ctx, subject.id, facts, [e["category"] for e in entries])
    for values in entries:
        _keep_own_record(ctx, decision, values["category"], values.get("owner_org"))
    plan = plans.create_plan(ctx.session, subject_id=subject.id, lead_org=subject.lead_org_id,
                             principal=ctx.principal, now=ctx.now)
    key = subjects.data_key(subject, ctx.keyring)
    created = [plans.add_entry(ctx.session, plan=plan, data_key=key, principal=ctx.principal,
                               purpose=ctx.purpose, values=e, now=ctx.now,
                               own_record=own_record(decision, e["category"]))
               for e in entries]
    # The event names the protocols and consent the write relied on (as an entry's does), so
    # the IG officers of those protocols see the request; it is the only event of this POST.
    ctx.audit(EventType.CASE_PLAN_PLAN_CREATE, subject_id=subject.id, decision=decision,
              outcome="allow", categories=[e.category for e in created],
              details={"plan_id": str(plan.id), "entries": [str(e.id) for e in created]})
    readable = guards.decide(ctx, facts, "read", None)
    disclosure = disclose_entries(plans.entries_of(ctx.session, plan), readable, key)
    return plans.plan_view(plan, facts.case_orgs), disclosure, plans.view_etag(disclosure.entries)


def add_plan_entry(ctx: RequestContext, subject_id: uuid.UUID,
                   values: dict[str, Any]) -> tuple[dict[str, Any], str]:
    subject, facts = guards.subject_in_case(ctx, subject_id)
    plan = _plan(ctx, EventType.CASE_PLAN_ENTRY_CREATE, subject.id)
    decision = guards.authorise_write(ctx, subject.id, facts, [values["category"]])
    guards.check_owner(ctx, facts, values)
    _keep_own_record(ctx, decision, values["category"], values.get("owner_org"))
    key = subjects.data_key(subject, ctx.keyring)
    entry = plans.add_entry(ctx.session, plan=plan, data_key=key, principal=ctx.principal,
                            purpose=ctx.purpose, values=values, now=ctx.now,
                            own_record=own_record(decision, values["category"]))
    ctx.audit(EventType.CASE_PLAN_ENTRY_CREATE, subject_id=subject.id, decision=decision,
              outcome="allow", categories=[entry.category], details={"entry_id": str(entry.id)})
    opened = plans.open_entry(entry, key)
    return opened, plans.entry_etag(entry)


def update_plan_entry(ctx: RequestContext, subject_id: uuid.UUID, entry_id: uuid.UUID,
                      if_match: str, changes: dict[str, Any]) -> tuple[dict[str, Any], str]:
    subject, facts = guards.subject_in_case(ctx, subject_id)
    plan = _plan(ctx, EventType.CASE_PLAN_ENTRY_UPDATE, subject.id)
    entry = plans.find_entry(ctx.session, plan, entry_id)
    readable = guards.decide(ctx, facts, "read", None)
    # An entry the caller cannot read does not exist for them (the probe is audited).
    if entry is None or not may_see(entry, readable):
        event = ctx.audit_refusal(EventType.CASE_PLAN_ENTRY_UPDATE, subject_id=subject.id,
                                  decision=readable,
                                  details={"entry_id": str(entry_id)})
        raise NotFoundError("No such case plan entry.", audit_id=event.event_uuid)
    decision = guards.authorise_write(ctx, subject.id, facts, [entry.category])
    guards.check_owner(ctx, facts, changes)
    if own_record(decision, entry.category) and entry.created_org != ctx.principal.org:
        # Its changes would reach, under the author's flows, readers no flow of ours reaches.
        guards.deny(ctx, EventType.ACCESS_WRITE_DENY, subject.id,
                    [str(Reason.DIRECTION_NOT_PERMITTED)], [entry.category], decision)
    _keep_own_record(ctx, decision, entry.category, changes.get("owner_org"))
    key = subjects.data_key(subject, ctx.keyring)
    if entry.created_org != ctx.principal.org:
        changes = _codes_only(ctx, subject.id, entry, key, changes, decision)
    visible = [e for e in plans.entries_of(ctx.session, plan) if may_see(e, readable)]
    if if_match not in (plans.entry_etag(entry), plans.view_etag(visible)):
        raise PreconditionFailedError("The entry changed since you read it; reload and retry.")
    plans.update_entry(ctx.session, entry=entry, data_key=key, principal=ctx.principal,
                       purpose=ctx.purpose, changes=changes, now=ctx.now)
    ctx.audit(EventType.CASE_PLAN_ENTRY_UPDATE, subject_id=subject.id, decision=decision,
              outcome="allow", categories=[entry.category],
              details={"entry_id": str(entry.id), "fields": sorted(changes)})
    opened = plans.open_entry(entry, key)
    return opened, plans.entry_etag(entry)


def own_record(decision: Decision, category: str) -> bool:
    """The write is allowed only as the caller's own record: no flow shares `category` onward
    for this purpose, so only the caller's organisation will see the entry."""
    allowed = decision.permitted.get(category)
    return allowed is not None and Reason.OWN_RECORD in allowed.reasons


def _keep_own_record(ctx: RequestContext, decision: Decision, category: str,
                     owner_org: str | None) -> None:
    """An own record stays the caller's organisation's: another organisation named responsible
    could never read its own action (422 naming `owner_org`)."""
    if own_record(decision, category) and owner_org not in (None, ctx.principal.org):
        raise ValidationError({"owner_org": [
            "Only your organisation will see this entry (no agreement shares this kind of "
            "information onward for this purpose), so your organisation must be responsible "
            "for it."]})


def _codes_only(ctx: RequestContext, subject_id: uuid.UUID, entry: PlanEntry, key: bytes,
                changes: dict[str, Any], decision: Decision) -> dict[str, Any]:
    """Provenance: an entry's words are its author organisation's, shared under that
    organisation's flows, so a reader with a flow from the author and none from the editor
    would otherwise read the editor's words under the author's name. Another case organisation
    changes only the codes; a change to the words is refused (403, audited). Text sent back
    unchanged is dropped, so the version records no words from this organisation."""
    words = plans.text_changes(entry, key, changes)
    if words:
        reasons = [str(Reason.NOT_AUTHOR_OF_ENTRY)]
        event = ctx.audit_refusal(EventType.CASE_PLAN_ENTRY_UPDATE, subject_id=subject_id,
                                  decision=decision,
                                  categories=[entry.category], reasons=reasons,
                                  details={"entry_id": str(entry.id), "fields": words})
        raise ForbiddenError(
            "Only the organisation that wrote this entry can change its words. Change its "
            "status, due date or organisation responsible, or add your own note.",
            reasons=reasons, audit_id=event.event_uuid)
    return {name: value for name, value in changes.items() if name not in plans.TEXT_FIELDS}


def entry_history(ctx: RequestContext, subject_id: uuid.UUID,
                  entry_id: uuid.UUID) -> list[dict[str, Any]]:
    """Who changed an entry, when, for what purpose, and what it said: only for an entry the
    caller may read now (anything else does not exist for them)."""
    subject, facts = guards.subject_in_case(ctx, subject_id)
    plan = _plan(ctx, EventType.CASE_PLAN_ENTRY_HISTORY, subject.id)
    entry = plans.find_entry(ctx.session, plan, entry_id)
    readable = guards.decide(ctx, facts, "read", [entry.category] if entry else None)
    if entry is None or not may_see(entry, readable):
        event = ctx.audit_refusal(EventType.CASE_PLAN_ENTRY_HISTORY, subject_id=subject.id,
                                  decision=readable,
                                  details={"entry_id": str(entry_id)})
        raise NotFoundError("No such case plan entry.", audit_id=event.event_uuid)
    key = subjects.data_key(subject, ctx.keyring)
    # Provenance: a version made by an organisation the caller has no flow from is left out
    # (who acted, when and why is that organisation's information), and so is any text field
    # holding the words of such an organisation.
    sources = readable.permitted[entry.category].sources
    stored = plans.entry_history(ctx.session, entry)
    writers = plans.text_writers(stored)
    versions, hidden = [], []
    for v in stored:
        if v.changed_org not in sources:
            hidden.append(v.version)
            continue
        withhold = sorted(f for f, org in writers[v.version].items() if org not in sources)
        versions.append({**plans.open_version(entry, v, key, withhold),
                         "withheld_fields": withhold})
    ctx.audit(EventType.CASE_PLAN_ENTRY_HISTORY, subject_id=subject.id, decision=readable,
              outcome="allow", categories=[entry.category], reasons=[],
              details={"entry_id": str(entry.id), "versions": [v["version"] for v in versions],
                       "versions_withheld": hidden})
    return versions


def _plan(ctx: RequestContext, type: EventType, subject_id: uuid.UUID) -> CasePlan:
    plan = plans.find_plan(ctx.session, subject_id)
    if plan is None:
        _no_plan(ctx, type, subject_id)
    return plan


def _no_plan(ctx: RequestContext, type: EventType, subject_id: uuid.UUID) -> NoReturn:
    """A claimant without a plan yet: 404, audited like every other refusal."""
    event = ctx.audit_refusal(type, subject_id=subject_id, reasons=["no_case_plan"])
    raise NotFoundError("This claimant has no case plan yet.", audit_id=event.event_uuid)


def explain(ctx: RequestContext, subject_id: uuid.UUID, category: str, action: str) -> Decision:
    """'Why can't I see this?': the decision, audited, with no data disclosed."""
    if category not in ctx.protocols.categories:
        raise ValidationError({"category": [f"Unknown category {category!r}."]})
    subject, facts = guards.subject_in_case(ctx, subject_id)
    decision = evaluate(ctx.principal, ctx.purpose, action, [category], facts, ctx.protocols,
                        ctx.now)
    ctx.audit(EventType.ACCESS_DECISION_EXPLAIN, subject_id=subject.id, decision=decision,
              outcome="allow" if decision.allowed else "deny", categories=[category],
              details={"action": action})
    return decision


@dataclass(frozen=True)
class WriteChoice:
    """What the caller may record in one category for this claimant and purpose, and who would
    see it: `audience` is the other organisations a shared entry of the caller's organisation in
    this category reaches (a new entry recorded as `own_record` reaches none of them)."""

    category: str
    allowed: bool
    reasons: tuple[str, ...]
    own_record: bool
    audience: tuple[str, ...]


@dataclass(frozen=True)
class PlanPermissions:
    """For the plan pages: the categories of the caller's agreements with what it may write in
    each, and the entries (ids) it may change. Codes and ids only, nothing sealed."""

    has_plan: bool
    lead_org: str
    choices: dict[str, WriteChoice]
    updatable: frozenset[uuid.UUID]
    own_records: frozenset[uuid.UUID] = frozenset()  # visible entries no one else sees

    @property
    def writable(self) -> list[WriteChoice]:
        return [c for c in self.choices.values() if c.allowed]

    @property
    def refused(self) -> list[WriteChoice]:
        return [c for c in self.choices.values() if not c.allowed]


def plan_permissions(ctx: RequestContext, subject_id: uuid.UUID) -> PlanPermissions:
    """The write decision for every category the caller's agreements declare, for this claimant
    and purpose, audited like 'why can't I?' (no claimant data disclosed)."""
    subject, facts = guards.subject_in_case(ctx, subject_id)
    org = ctx.principal.org
    declared = sorted({c.code for p in ctx.protocols.for_party(org) for c in p.categories})
    decision = guards.decide(ctx, facts, "write", declared)
    closed = cases.is_closed(ctx.session, subject.id)  # a closed case's plan is read-only
    choices = {}
    for c in decision.categories:
        own = own_record(decision, c.category)
        allowed = c.allowed and not closed
        seen_by = () if not allowed else tuple(sorted(
            audience(ctx.principal, c.category, facts, ctx.protocols, ctx.now)))
        reasons = (str(Reason.CASE_CLOSED),) if closed and c.allowed else c.reasons
        choices[c.category] = WriteChoice(c.category, allowed, reasons, own, seen_by)
    plan = plans.find_plan(ctx.session, subject.id)
    updatable: set[uuid.UUID] = set()
    own_records: set[uuid.UUID] = set()
    if plan is not None:
        readable = guards.decide(ctx, facts, "read", None)
        visible = [e for e in plans.entries_of(ctx.session, plan) if may_see(e, readable)]
        own_records = {e.id for e in visible if e.own_record}
        updatable = {e.id for e in visible if choices.get(e.category) is not None
                     and choices[e.category].allowed
                     and (not choices[e.category].own_record or e.created_org == org)}
    ctx.audit(EventType.ACCESS_DECISION_EXPLAIN, subject_id=subject.id, decision=decision,
              outcome="allow" if decision.permitted else "deny", categories=declared,
              details={"action": "write", "updatable": len(updatable)})
    # The plan's lead, or the organisation that will lead it once started (the claimant's).
    return PlanPermissions(plan is not None, plan.lead_org_id if plan else subject.lead_org_id,
                           choices, frozenset(updatable), frozenset(own_records))
