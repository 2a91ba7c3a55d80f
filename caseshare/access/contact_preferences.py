"""The claimant's contact preference for appointment reminders: record, read and withdraw it.

It is a record of its own (`caseshare/reminders/`), not part of a sharing consent: a consent
says which organisations may see which categories; this says the claimant agreed to be
contacted about appointments, how, and in which language. It is recorded like consent (who,
when, how, audited) and withdrawn as easily, at once, by any organisation working with the
claimant. The address or number is `contact` data: writing it needs the decision to write
`contact` for the purpose; reading it needs a flow bringing the recording organisation's
`contact` data to the caller (otherwise the preference is shown without it).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from caseshare.access import guards
from caseshare.access.context import RequestContext
from caseshare.audit.event_types import EventType
from caseshare.policy.models import RESERVED_PURPOSES
from caseshare.reasons import Reason
from caseshare.reminders import service as reminders
from caseshare.reminders.models import ContactPreference
from caseshare.subjects import service as subjects

CATEGORY = "contact"


@dataclass(frozen=True)
class PreferenceView:
    """What the caller sees: `status` none (never agreed), active, withdrawn or replaced (the
    latest record ended); `address` only where the decision opens it (else `withheld`)."""

    subject_id: uuid.UUID
    status: str
    id: uuid.UUID | None = None
    channel: str | None = None
    address: str | None = None
    language: str | None = None
    method: str | None = None
    agreed_at: datetime | None = None
    recorded_org: str | None = None
    withdrawn_at: datetime | None = None
    withheld: tuple[dict[str, Any], ...] = ()


def record_preference(ctx: RequestContext, subject_id: uuid.UUID,
                      data: dict[str, Any]) -> PreferenceView:
    """Record that the claimant agreed to be contacted (replacing any current preference)."""
    subject, facts = guards.subject_in_case(ctx, subject_id)
    decision = guards.authorise_write(ctx, subject.id, facts, [CATEGORY])
    preference, replaced = reminders.record_preference(
        ctx.session, subject_id=subject.id, channel=data["channel"], address=data["address"],
        language=data["language"], method=data["method"], principal=ctx.principal,
        data_key=subjects.data_key(subject, ctx.keyring), dek_version=subject.dek_version,
        now=ctx.now)
    ctx.audit(EventType.REMINDERS_CONTACT_PREFERENCE_RECORD, subject_id=subject.id,
              decision=decision, outcome="allow", categories=[CATEGORY],
              details={"preference_id": str(preference.id), "channel": preference.channel,
                       "language": preference.language, "method": preference.method,
                       "replaced": str(replaced.id) if replaced else None})
    return _view(preference, data["address"])


def read_preference(ctx: RequestContext, subject_id: uuid.UUID) -> PreferenceView:
    """The current preference (or the latest one, ended), as much as the caller may see."""
    subject, facts = guards.subject_in_case(ctx, subject_id)
    preference = reminders.latest_preference(ctx.session, subject.id)
    if preference is None:
        ctx.audit(EventType.REMINDERS_CONTACT_PREFERENCE_READ, subject_id=subject.id,
                  outcome="allow", details={"preference_id": None})
        return PreferenceView(subject_id=subject.id, status="none")
    decision = guards.decide(ctx, facts, "read", [CATEGORY])
    allowed = decision.permitted.get(CATEGORY)
    if allowed is not None and preference.recorded_org in allowed.sources:
        address = reminders.open_address(preference, subjects.data_key(subject, ctx.keyring))
        ctx.audit(EventType.REMINDERS_CONTACT_PREFERENCE_READ, subject_id=subject.id,
                  decision=decision, outcome="allow", categories=[CATEGORY], reasons=[],
                  details={"preference_id": str(preference.id)})
        return _view(preference, address)
    reasons = list(decision.withheld[CATEGORY].reasons) if CATEGORY in decision.withheld else []
    reasons = reasons or [str(Reason.DIRECTION_NOT_PERMITTED)]
    ctx.audit(EventType.REMINDERS_CONTACT_PREFERENCE_READ, subject_id=subject.id,
              decision=decision, outcome="deny", categories=[CATEGORY], reasons=reasons,
              details={"preference_id": str(preference.id)})
    return _view(preference, None, withheld=({"category": CATEGORY, "reasons": reasons},))


def withdraw_preference(ctx: RequestContext, subject_id: uuid.UUID) -> PreferenceView:
    """The claimant no longer wants reminders: ended at once, pending reminders cancelled. Any
    organisation working with the claimant may record it (withdrawing discloses nothing and
    must be as easy as agreeing); none current: 409. Not under a reserved purpose (`audit`,
    `subject_access`): those open no claimant data and record nothing on the claimant's case."""
    subject, _facts = guards.subject_in_case(ctx, subject_id)
    if ctx.purpose in RESERVED_PURPOSES:
        guards.deny(ctx, EventType.REMINDERS_CONTACT_PREFERENCE_WITHDRAW, subject.id,
                    [str(Reason.PURPOSE_RESERVED)], [])
    preference, cancelled = reminders.withdraw_preference(
        ctx.session, subject_id=subject.id, principal=ctx.principal, now=ctx.now)
    ctx.audit(EventType.REMINDERS_CONTACT_PREFERENCE_WITHDRAW, subject_id=subject.id,
              outcome="allow",
              details={"preference_id": str(preference.id),
                       "reminders_cancelled": [str(r) for r in cancelled]})
    return _view(preference, None)


def _view(preference: ContactPreference, address: str | None,
          withheld: tuple[dict[str, Any], ...] = ()) -> PreferenceView:
    status = "active" if preference.ended_at is None else preference.ended_reason or "withdrawn"
    return PreferenceView(subject_id=preference.subject_id, status=status, id=preference.id,
                          channel=preference.channel, address=address,
                          language=preference.language, method=preference.method,
                          agreed_at=preference.agreed_at, recorded_org=preference.recorded_org,
                          withdrawn_at=preference.ended_at, withheld=withheld)


def record_refusal(ctx: RequestContext, subject_id: uuid.UUID) -> list[str]:
    """Why the caller may not record a preference for this claimant and purpose (empty: it
    may), for the page to offer the form or say why not; audited like "why can't I?" (nothing
    disclosed)."""
    subject, facts = guards.subject_in_case(ctx, subject_id)
    decision = guards.decide(ctx, facts, "write", [CATEGORY])
    ctx.audit(EventType.ACCESS_DECISION_EXPLAIN, subject_id=subject.id, decision=decision,
              outcome="allow" if decision.allowed else "deny", categories=[CATEGORY],
              details={"action": "write", "record": "contact_preference"})
    return [] if decision.allowed else decision.reasons
