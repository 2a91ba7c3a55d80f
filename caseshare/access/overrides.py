"""Use case: break glass. The request is checked against the protocol's override rules, then
recorded with a sealed justification, audited as its own event type and committed, and the
IG officers named by the protocol are due to review it by its deadline."""

from __future__ import annotations

import uuid

from caseshare.access import steps
from caseshare.access.context import RequestContext
from caseshare.access.reasons import Reason
from caseshare.errors import ValidationError
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
