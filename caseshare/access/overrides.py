"""Use case: break glass. The request is checked against the protocol's override rules, then
recorded with a sealed justification, audited as its own event type and committed, and the
IG officers named by the protocol are due to review it by its deadline."""

from __future__ import annotations

import uuid

from caseshare.access import steps
from caseshare.access.context import RequestContext
from caseshare.access.reasons import Reason
from caseshare.errors import ForbiddenError, ValidationError
from caseshare.policy import overrides
from caseshare.policy.models import OverrideRecord
from caseshare.subjects import service as subjects

GRANT_EVENT = "access:override:grant"
DENY_EVENT = "access:override:deny"


def request_override(ctx: RequestContext, subject_id: uuid.UUID,
                     request: overrides.OverrideRequest) -> OverrideRecord:
    unknown = sorted({c for c in request.categories if c not in ctx.protocols.categories})
    if unknown:
        raise ValidationError({"categories": [f"Unknown category: {', '.join(unknown)}."]})
    subject, facts = steps.subject_in_case(ctx, subject_id)
    # Breaking glass is for organisations working with the claimant, not for those merely
    # named in a consent.
    if ctx.principal.org not in facts.case_orgs:
        steps.deny(ctx, DENY_EVENT, subject.id, [Reason.NO_CASE_RELATIONSHIP],
                   request.categories)
    try:
        protocol = overrides.choose_protocol(ctx.protocols, ctx.principal, ctx.purpose, request,
                                             ctx.now)
    except overrides.OverrideRefused as refused:
        steps.deny(ctx, DENY_EVENT, subject.id, [refused.reason], request.categories)
        raise  # unreachable: deny raises
    record = overrides.create_override(
        ctx.session, subject_id=subject.id, data_key=subjects.data_key(subject, ctx.keyring),
        dek_version=subject.dek_version, principal=ctx.principal, purpose=ctx.purpose,
        protocol=protocol, request=request, now=ctx.now)
    # The justification stays sealed: the event names the override, never its text.
    ctx.audit(GRANT_EVENT, subject_id=subject.id, outcome="allow",
              categories=record.categories, override_id=record.id,
              details={"protocol": protocol.ref, "route": record.route,
                       "hours": request.hours, "expires_at": record.expires_at.isoformat(),
                       "review_due_at": record.review_due_at.isoformat(),
                       "notify": record.notify})
    ctx.commit()
    return record


def _reach(ctx: RequestContext) -> frozenset[str]:
    return overrides.reviewable_orgs(ctx.protocols, ctx.principal.org, ctx.now)


def list_for_review(ctx: RequestContext, status: str | None) -> list[OverrideRecord]:
    """The IG review queue (no justifications: those are opened one at a time, audited)."""
    found = overrides.list_overrides(ctx.session, orgs=_reach(ctx), status=status)
    ctx.audit("access:override:list", outcome="allow",
              details={"status": status, "overrides": [str(r.id) for r in found]})
    ctx.commit()
    return found


def read_for_review(ctx: RequestContext, override_id: uuid.UUID) -> tuple[OverrideRecord, str]:
    record = overrides.get_override(ctx.session, override_id, _reach(ctx))
    subject = subjects.get_subject(ctx.session, record.subject_id)
    justification = overrides.open_justification(record, subjects.data_key(subject, ctx.keyring))
    ctx.audit("access:override:read", subject_id=record.subject_id, outcome="allow",
              categories=record.categories, override_id=record.id,
              details={"fields": ["justification"]})
    ctx.commit()
    return record, justification


def review_override(ctx: RequestContext, override_id: uuid.UUID, outcome: str,
                    note: str) -> OverrideRecord:
    record = overrides.get_override(ctx.session, override_id, _reach(ctx))
    subject = subjects.get_subject(ctx.session, record.subject_id)
    if record.org_id == ctx.principal.org and record.requested_by == ctx.principal.actor_id:
        # Refusals are audited like any other (no reason code fits: the detail says why).
        event = ctx.audit("access:override:review", subject_id=record.subject_id,
                          outcome="deny", categories=record.categories, override_id=record.id,
                          details={"refused": "own_override"})
        ctx.commit()
        raise ForbiddenError("Nobody reviews their own override.", audit_id=event.event_uuid)
    overrides.review(ctx.session, record=record, outcome=outcome, note=note,
                     data_key=subjects.data_key(subject, ctx.keyring),
                     dek_version=subject.dek_version, reviewer=ctx.principal, now=ctx.now)
    ctx.audit("access:override:review", subject_id=record.subject_id, outcome="allow",
              categories=record.categories, override_id=record.id,
              details={"outcome": outcome,
                       "overdue": bool(ctx.now > record.review_due_at)})
    ctx.commit()
    return record
