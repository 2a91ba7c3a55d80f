"""The IG officer's overviews of the audit log, for the web pages: the dashboard's figures, and
event searches with each staff member's name beside their events.

Same rule as audit_trail (role ig_officer, purpose `audit`; events recorded under a protocol
their organisation is party to, or by their own staff: caseshare.audit.scope); every look is
audited, and the request's unit of work commits that before anything leaves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from caseshare.access import audit_trail
from caseshare.access.context import RequestContext
from caseshare.audit import queries, stats
from caseshare.audit.checkpoints import checkpoint_message
from caseshare.audit.event_types import EventType
from caseshare.audit.models import Checkpoint
from caseshare.audit.scope import EventView
from caseshare.errors import NotFoundError, ValidationError
from caseshare.identity import service as identity
from caseshare.identity.service import staff_names


@dataclass(frozen=True)
class Dashboard:
    since: datetime
    per_day: list[stats.DayCount]
    denials: list[tuple[str, int]]  # organisation, denied attempts; most first
    seal: stats.SealState
    # The latest checkpoint's signature checked now against the log's key (None: no
    # checkpoint yet). This is not `audit verify`, which recomputes the whole tree.
    signature_ok: bool | None


def dashboard(ctx: RequestContext, *, days: int, public_key: Ed25519PublicKey) -> Dashboard:
    scope = audit_trail.audit_scope(ctx)
    first_day = ctx.now.astimezone(UTC).date() - timedelta(days=days - 1)
    since = datetime(first_day.year, first_day.month, first_day.day, tzinfo=UTC)
    per_day = stats.access_per_day(ctx.session, scope=scope, first_day=first_day, days=days)
    denials = stats.denials_per_org(ctx.session, scope=scope, since=since,
                                    until=since + timedelta(days=days))
    seal = stats.seal_state(ctx.session)
    signature_ok = None if seal.checkpoint is None else _signed(seal.checkpoint, public_key)
    ctx.audit(EventType.AUDIT_SUMMARY_READ, outcome="allow",
              details={"days": days, "protocols": sorted(scope.protocols),
                       "tree_size": seal.checkpoint.tree_size if seal.checkpoint else 0})
    ranked = sorted(denials.items(), key=lambda item: (-item[1], item[0]))
    return Dashboard(since, per_day, ranked, seal, signature_ok)


def _signed(checkpoint: Checkpoint, public_key: Ed25519PublicKey) -> bool:
    message = checkpoint_message(checkpoint.tree_size, checkpoint.root_hash, checkpoint.timestamp)
    try:
        public_key.verify(checkpoint.signature, message)
    except InvalidSignature:
        return False
    return True


def search_named(ctx: RequestContext, filters: queries.EventFilter, cursor: str | None,
                 limit: int) -> tuple[list[EventView], str | None, dict[str, str]]:
    """audit_trail.search_events (audited there), plus staff names for the events found."""
    found, next_cursor = audit_trail.search_events(ctx, filters, cursor, limit)
    return found, next_cursor, staff_names(ctx.session, (e.actor for e in found))


def staff_actor(ctx: RequestContext, email: str) -> str:
    """The actor id of a staff member of the partnership, for a search by staff member.
    Staff outside the caller's reach are reported as unknown, like unknown emails."""
    orgs = audit_trail.audit_scope(ctx).orgs
    try:
        staff = identity.get_staff_by_email(ctx.session, email)
    except NotFoundError:
        staff = None
    if staff is None or staff.org_id not in orgs:
        raise ValidationError({"actor": ["No staff member of your partnership has this email "
                                         "address."]})
    return str(staff.id)

