"""Retention for information-governance officers: what is due for deletion, legal holds that
pause it, and the certificates of what the retention pass deleted.

Who: the `ig_officer` role under the reserved `audit` purpose, whose organisation is party to a
protocol in force; anyone else is refused (403, audited), as for the audit log
(`audit_trail.audit_scope`). Reach, the same rule as the audit log's: the officer's partnership,
every party to the protocols in force for their organisation. They see the due items and
deletion certificates of copies held by those organisations, and may place a hold on a claimant
that one of those organisations works with (a case member or named in a consent); any other
claimant is a 404, audited, so ids cannot be probed. A hold is lifted by an IG officer of the
organisation that placed it (403 for anyone else: another partner's litigation hold is not
theirs to end).

Every action is audited in the request's unit of work: placing and lifting a hold, and every
listing (due items, holds, certificates), which is itself an audited read.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import date

from caseshare.access import guards
from caseshare.access.audit_trail import audit_scope
from caseshare.access.context import RequestContext
from caseshare.audit.event_types import EventType
from caseshare.audit.scope import AuditScope
from caseshare.errors import BadCursorError, ForbiddenError, NotFoundError
from caseshare.retention import certificates, holds
from caseshare.retention import service as retention
from caseshare.retention.models import LegalHold
from caseshare.retention.schedule import DueItem
from caseshare.subjects import service as subjects
from caseshare.uk_time import uk_today

UPCOMING_DAYS = 90


def _encode_cursor(item: DueItem) -> str:
    on, rest = retention.cursor_of(item)
    return base64.urlsafe_b64encode(f"{on.isoformat()}|{rest}".encode()).decode("ascii")


def _decode_cursor(cursor: str) -> tuple[date, str]:
    """The keyset position in a cursor `_encode_cursor` made; anything else is a 400 naming
    `cursor`."""
    try:
        on, rest = base64.urlsafe_b64decode(cursor.encode("ascii")).decode("ascii").split("|", 1)
        subject, org, category = rest.split("|")
        return date.fromisoformat(on), f"{uuid.UUID(subject)}|{org}|{category}"
    except (ValueError, binascii.Error, UnicodeError):
        raise BadCursorError("Not a valid cursor.") from None


def list_due(ctx: RequestContext, *, cursor: str | None = None,
             limit: int = 100) -> tuple[list[DueItem], str | None]:
    """Copies held by the partnership's organisations that are due for deletion today (UK),
    soonest first, held ones marked; one page and the cursor of the next. Audited."""
    scope = audit_scope(ctx)
    after = _decode_cursor(cursor) if cursor else None
    found = retention.list_due(ctx.session, ctx.protocols, as_of=uk_today(ctx.now),
                               orgs=scope.orgs, after=after, limit=limit + 1)
    items, more = found[:limit], len(found) > limit
    ctx.audit(EventType.RETENTION_DUE_LIST, outcome="allow",
              details={"returned": len(items), "held": sum(i.hold for i in items),
                       "subjects": sorted({str(i.subject_id) for i in items}),
                       "page": cursor is not None})
    return items, (_encode_cursor(items[-1]) if more and items else None)


def list_upcoming(ctx: RequestContext, *, offset: int = 0,
                  limit: int = 50) -> tuple[list[DueItem], bool]:
    """Copies that become due within the next UPCOMING_DAYS if nothing changes; one page and
    whether another follows. Audited like the due list."""
    scope = audit_scope(ctx)
    found = retention.upcoming(ctx.session, ctx.protocols, as_of=uk_today(ctx.now),
                               orgs=scope.orgs, within_days=UPCOMING_DAYS)
    items = found[max(offset, 0):max(offset, 0) + limit]
    ctx.audit(EventType.RETENTION_DUE_LIST, outcome="allow",
              details={"upcoming_days": UPCOMING_DAYS, "returned": len(items),
                       "subjects": sorted({str(i.subject_id) for i in items}),
                       "offset": offset})
    return items, len(found) > offset + limit


def _reached(ctx: RequestContext, scope: AuditScope, subject_id: uuid.UUID,
             type: EventType) -> bool:
    """Whether the subject, which must be in the officer's reach (else 404, audited), has been
    erased."""
    found = subjects.find_subject_with_facts(ctx.session, subject_id)
    if found is None or not any(guards.related_org(org, found[1]) for org in scope.orgs):
        event = ctx.audit_refusal(type, subject_id=subject_id, reasons=["not_in_reach"])
        raise NotFoundError("No such claimant.", audit_id=event.event_uuid)
    subject, facts = found
    return facts.erased or subjects.is_erased(subject, ctx.keyring)


def hold_for(ctx: RequestContext, subject_id: uuid.UUID) -> LegalHold | None:
    """The subject's active hold, if any (for the place-a-hold page), audited as a read."""
    scope = audit_scope(ctx, subject_id)
    _reached(ctx, scope, subject_id, EventType.RETENTION_HOLD_LIST)
    hold = holds.active_hold(ctx.session, subject_id)
    ctx.audit(EventType.RETENTION_HOLD_LIST, subject_id=subject_id, outcome="allow",
              details={"active": [str(hold.id)] if hold else []})
    return hold


def place_hold(ctx: RequestContext, subject_id: uuid.UUID, reason: str) -> LegalHold:
    """Place a legal hold on a claimant in reach (422 for the reason, 409 when one is active,
    410 for an erased claimant: nothing is left to hold)."""
    scope = audit_scope(ctx, subject_id)
    erased = _reached(ctx, scope, subject_id, EventType.LEGAL_HOLD_PLACED)
    if erased:
        ctx.audit_refusal(EventType.LEGAL_HOLD_PLACED, subject_id=subject_id,
                          reasons=["subject_erased"])
        raise subjects.SubjectErasedError()
    hold = holds.place(ctx.session, subject_id=subject_id, reason=reason, by=ctx.principal,
                       now=ctx.now)
    ctx.audit(EventType.LEGAL_HOLD_PLACED, subject_id=subject_id, outcome="allow",
              details={"hold_id": str(hold.id)})
    return hold


def lift_hold(ctx: RequestContext, subject_id: uuid.UUID, hold_id: uuid.UUID) -> LegalHold:
    """Lift a hold this officer's organisation placed (404 out of reach or no such hold, 403
    for another organisation's hold, 409 when already lifted)."""
    scope = audit_scope(ctx, subject_id)
    _reached(ctx, scope, subject_id, EventType.LEGAL_HOLD_LIFTED)
    try:
        hold = holds.get_hold(ctx.session, subject_id, hold_id)
    except NotFoundError as exc:
        event = ctx.audit_refusal(EventType.LEGAL_HOLD_LIFTED, subject_id=subject_id,
                                  reasons=["not_in_reach"], details={"hold_id": str(hold_id)})
        raise NotFoundError(exc.detail, audit_id=event.event_uuid) from None
    if hold.placed_org != ctx.principal.org:
        event = ctx.audit_refusal(EventType.LEGAL_HOLD_LIFTED, subject_id=subject_id,
                                  details={"hold_id": str(hold.id), "refused": "other_org_hold"})
        raise ForbiddenError("Only an IG officer of the organisation that placed this hold "
                             "can lift it.", audit_id=event.event_uuid)
    holds.lift(ctx.session, hold, by=ctx.principal, now=ctx.now)
    ctx.audit(EventType.LEGAL_HOLD_LIFTED, subject_id=subject_id, outcome="allow",
              details={"hold_id": str(hold.id)})
    return hold


def list_holds(ctx: RequestContext, *, active: bool, offset: int = 0,
               limit: int = 50) -> holds.HoldPage:
    """Holds placed by the partnership's IG officers (active, or lifted), newest first."""
    scope = audit_scope(ctx)
    found = holds.list_holds(ctx.session, orgs=scope.orgs, active=active, offset=offset,
                             limit=limit)
    ctx.audit(EventType.RETENTION_HOLD_LIST, outcome="allow",
              details={"active": active, "holds": [str(h.id) for h in found.holds],
                       "offset": offset})
    return found


def list_deleted(ctx: RequestContext, *, offset: int = 0,
                 limit: int = 50) -> certificates.CertificatePage:
    """Deletion certificates of copies held by the partnership's organisations."""
    scope = audit_scope(ctx)
    found = certificates.list_deleted(ctx.session, orgs=scope.orgs, offset=offset, limit=limit)
    ctx.audit(EventType.RETENTION_DELETED_LIST, outcome="allow",
              details={"copies": [str(c.id) for c in found.copies], "offset": offset})
    return found
