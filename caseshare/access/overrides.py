"""Use case: break glass. The request is checked against the protocols' override rules, then
recorded with a sealed justification (personal to the requester, bound to the protocols that
permitted it), audited as its own event type and committed; the IG officers of the lead
organisation and of the requester's organisation are notified at once and are due to review it
by its deadline. A repeat while the requester's own override is active is refused (409)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from caseshare.access import guards
from caseshare.access.context import RequestContext
from caseshare.audit.event_types import EventType
from caseshare.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
from caseshare.facts import Principal
from caseshare.notifications import service as notifications
from caseshare.overrides import incidents
from caseshare.overrides import service as overrides
from caseshare.overrides.models import OverrideRecord
from caseshare.policy.models import usable_protocols
from caseshare.reasons import Reason
from caseshare.subjects import service as subjects

GRANT_EVENT = EventType.ACCESS_OVERRIDE_GRANT
DENY_EVENT = EventType.ACCESS_OVERRIDE_DENY


def request_override(ctx: RequestContext, subject_id: uuid.UUID,
                     request: overrides.OverrideRequest) -> OverrideRecord:
    unknown = sorted({c for c in request.categories if c not in ctx.protocols.categories})
    if unknown:
        raise ValidationError({"categories": [f"Unknown category: {', '.join(unknown)}."]})
    subject, facts = guards.subject_in_case(ctx, subject_id)
    # Breaking glass is for organisations working with the claimant, not for those merely
    # named in a consent.
    if ctx.principal.org not in facts.case_orgs:
        guards.deny(ctx, DENY_EVENT, subject.id, [Reason.NO_CASE_RELATIONSHIP],
                   request.categories)
    try:
        chosen = overrides.choose_protocols(ctx.protocols, ctx.principal, ctx.purpose, request,
                                            ctx.now)
    except overrides.OverrideRefused as refused:
        guards.deny(ctx, DENY_EVENT, subject.id, [refused.reason], request.categories)
        raise  # unreachable: deny raises
    active = overrides.find_active(ctx.session, subject_id=subject.id, principal=ctx.principal,
                                   purpose=ctx.purpose, categories=request.categories,
                                   now=ctx.now)
    if active is not None:
        # A repeat while the requester's own override is active is refused: it would extend
        # the time box (or widen it) without a fresh decision. The refusal is audited.
        event = ctx.audit_refusal(DENY_EVENT, subject_id=subject.id,
                                  categories=sorted(set(request.categories)),
                                  override_id=active.id,
                                  details={"refused": "override_already_active"})
        raise ConflictError("You already have an active override for this claimant, purpose "
                            "and some of these categories; it is not extended or repeated.",
                            audit_id=event.event_uuid, override_id=str(active.id),
                            expires_at=active.expires_at.isoformat())
    record = overrides.create_override(
        ctx.session, subject_id=subject.id, data_key=subjects.data_key(subject, ctx.keyring),
        dek_version=subject.dek_version, principal=ctx.principal, purpose=ctx.purpose,
        protocols=chosen, request=request, now=ctx.now)
    # The IG officers of the lead organisation and of the requester's organisation see it on
    # their next page (GET /notifications, the banner on their pages); codes and ids only.
    ig_orgs = sorted({subject.lead_org_id, ctx.principal.org})
    for org in ig_orgs:
        notifications.notify(ctx.session, type="override_granted", org=org, role="ig_officer",
                             subject_id=subject.id, now=ctx.now,
                             details={"override_id": str(record.id),
                                      "requested_by_org": ctx.principal.org,
                                      "categories": record.categories})
    # The justification stays sealed: the event names the override, never its text.
    ctx.audit(GRANT_EVENT, subject_id=subject.id, outcome="allow",
              categories=record.categories, override_id=record.id,
              details={"protocol": record.protocol, "protocols": record.protocols,
                       "route": record.route, "hours": request.hours,
                       "expires_at": record.expires_at.isoformat(),
                       "review_due_at": record.review_due_at.isoformat(),
                       "notify": record.notify, "notified_ig_orgs": ig_orgs})
    return record


def emergency_refusal(ctx: RequestContext, subject_id: uuid.UUID) -> Reason | None:
    """Why the caller could not break glass for this claimant at all (a case member only, an
    agreement in force whose override rules cover their purpose and role), or None when a route
    exists: the pages offer emergency access only then. The request itself still decides."""
    _subject, facts = guards.subject_in_case(ctx, subject_id)
    if ctx.principal.org not in facts.case_orgs:
        return Reason.NO_CASE_RELATIONSHIP
    usable, _why = usable_protocols(ctx.principal.org, ctx.protocols, ctx.now)
    rules = [p.override for p in usable if p.override.permitted and ctx.purpose in p.purposes]
    if not rules:
        return Reason.OVERRIDE_NOT_PERMITTED
    if not any(rule.routes and rule.roles & ctx.principal.roles for rule in rules):
        return Reason.ROLE_NOT_GRANTED
    return None


def _reach(ctx: RequestContext) -> frozenset[str]:
    return overrides.reviewable_orgs(ctx.protocols, ctx.principal.org, ctx.now)


def _in_reach(ctx: RequestContext, override_id: uuid.UUID, type: EventType) -> OverrideRecord:
    """The override, if the caller may review it; otherwise 404, audited like every refusal."""
    try:
        return overrides.get_override(ctx.session, override_id, _reach(ctx))
    except NotFoundError as exc:
        event = ctx.audit_refusal(type, reasons=["not_in_reach"],
                                  details={"override_id": str(override_id)})
        raise NotFoundError(exc.detail, audit_id=event.event_uuid) from None


@dataclass(frozen=True)
class QueueItem:
    """An override in the review queue, with whether its review is overdue now."""

    record: OverrideRecord
    overdue: bool

    def __getattr__(self, name: str) -> object:
        return getattr(self.record, name)


def is_overdue(record: OverrideRecord, now: datetime) -> bool:
    """Still awaiting review after its deadline (by the request's clock, which tests inject)."""
    return record.status == "pending_review" and now > record.review_due_at


def list_for_review(ctx: RequestContext, status: str | None) -> list[QueueItem]:
    """The IG review queue (no justifications: those are opened one at a time, audited),
    soonest deadline first, each flagged when its review is overdue."""
    found = overrides.list_overrides(ctx.session, orgs=_reach(ctx), status=status)
    items = [QueueItem(r, is_overdue(r, ctx.now)) for r in found]
    ctx.audit(EventType.ACCESS_OVERRIDE_LIST, outcome="allow",
              details={"status": status, "overrides": [str(r.id) for r in found],
                       "overdue": [str(i.record.id) for i in items if i.overdue]})
    return items


def _reader(principal: Principal) -> notifications.Reader:
    return notifications.Reader(principal.actor_uuid, principal.org, principal.roles)


def unread_override_notices(session: Session,
                            principal: Principal) -> list[notifications.NotificationView]:
    """An IG officer's unread `override_granted` notifications, newest first, for the banner
    on their pages (codes and ids only; the override itself is opened through review)."""
    if "ig_officer" not in principal.roles or principal.actor_type != "staff":
        return []
    return [n for n in notifications.list_for(session, _reader(principal), unread_only=True)
            if n.type == "override_granted"]


def read_for_review(ctx: RequestContext, override_id: uuid.UUID) -> tuple[OverrideRecord, str]:
    record = _in_reach(ctx, override_id, EventType.ACCESS_OVERRIDE_READ)
    subject = subjects.get_subject(ctx.session, record.subject_id)
    justification = overrides.open_justification(record, subjects.data_key(subject, ctx.keyring))
    # Opening the override answers its notification for this reader.
    answered = [n.id for n in unread_override_notices(ctx.session, ctx.principal)
                if n.details.get("override_id") == str(record.id)]
    for notice in answered:
        notifications.mark_read(ctx.session, _reader(ctx.principal), notice, now=ctx.now)
    details: dict[str, object] = {"fields": ["justification"]}
    if answered:
        details["notifications_read"] = [str(n) for n in answered]
    ctx.audit(EventType.ACCESS_OVERRIDE_READ, subject_id=record.subject_id, outcome="allow",
              categories=record.categories, override_id=record.id, details=details)
    return record, justification


def review_override(ctx: RequestContext, override_id: uuid.UUID, outcome: str,
                    note: str) -> OverrideRecord:
    record = _in_reach(ctx, override_id, EventType.ACCESS_OVERRIDE_REVIEW)
    subject = subjects.get_subject(ctx.session, record.subject_id)
    if record.org_id == ctx.principal.org and record.requested_by == ctx.principal.actor_id:
        # Refusals are audited like any other (no reason code fits: the detail says why).
        event = ctx.audit_refusal(EventType.ACCESS_OVERRIDE_REVIEW, subject_id=record.subject_id,
                                  categories=record.categories, override_id=record.id,
                                  details={"refused": "own_override"})
        raise ForbiddenError("Nobody reviews their own override.", audit_id=event.event_uuid)
    overdue = is_overdue(record, ctx.now)
    overrides.review(ctx.session, record=record, outcome=outcome, note=note,
                     data_key=subjects.data_key(subject, ctx.keyring),
                     dek_version=subject.dek_version, reviewer=ctx.principal, now=ctx.now)
    details: dict[str, object] = {"outcome": outcome, "overdue": overdue}
    if outcome == "not_justified":
        # Access without consent that was not justified is a possible unlawful disclosure: an
        # incident is opened in the same unit of work, for the IG officer to assess.
        incident = incidents.open_for_override(
            ctx.session, override_id=record.id, subject_id=record.subject_id,
            org=record.org_id, actor=record.requested_by, reviewer=ctx.principal, now=ctx.now)
        details["incident_id"] = str(incident.id)
    ctx.audit(EventType.ACCESS_OVERRIDE_REVIEW, subject_id=record.subject_id, outcome="allow",
              categories=record.categories, override_id=record.id, details=details)
    return record
