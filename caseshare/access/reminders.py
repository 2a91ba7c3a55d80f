"""The reminder outbox for the operator page: what was sent, retried, failed or cancelled.

Information governance officers see it (role `ig_officer`, purpose `audit`, like the audit
log): it is about the service's own disclosures to a mail server or Notify, carries no claimant
data (a masked recipient, codes, times) and an IG officer is who answers "did we message this
person, and how?". Only reminders for referrals between parties to the officer's protocols
are listed. Anyone else: 403 (audited)."""

from __future__ import annotations

from caseshare.access import audit_trail
from caseshare.access.context import RequestContext
from caseshare.audit.event_types import EventType
from caseshare.reminders import service as reminders
from caseshare.reminders.models import Reminder

LIMIT = 200


def list_outbox(ctx: RequestContext) -> list[Reminder]:
    """The outbox, newest first (at most LIMIT rows); no sealed value is opened."""
    scope = audit_trail.audit_scope(ctx)
    rows = reminders.outbox(ctx.session, orgs=scope.orgs, limit=LIMIT)
    ctx.audit(EventType.REMINDERS_OUTBOX_LIST, outcome="allow",
              details={"returned": len(rows)})
    return rows
