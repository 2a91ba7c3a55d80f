"""The caller's in-app notifications: list them and mark them read."""

from __future__ import annotations

import uuid

from caseshare.access.context import RequestContext
from caseshare.audit.event_types import EventType
from caseshare.notifications import service as notifications
from caseshare.notifications.service import NotificationView


def list_notifications(ctx: RequestContext) -> list[NotificationView]:
    """The caller's notifications: their organisation's, their role's and their own."""
    notices = notifications.list_for(ctx.session, _reader(ctx))
    ctx.audit(EventType.CONSENT_NOTIFICATION_LIST, outcome="allow",
              details={"notifications": len(notices)})
    return notices


def mark_notification_read(ctx: RequestContext, notification_id: uuid.UUID) -> None:
    notifications.mark_read(ctx.session, _reader(ctx), notification_id, now=ctx.now)
    ctx.audit(EventType.CONSENT_NOTIFICATION_READ, outcome="allow",
              details={"notification_id": str(notification_id)})


def _reader(ctx: RequestContext) -> notifications.Reader:
    p = ctx.principal
    return notifications.Reader(p.actor_uuid, p.org, p.roles)
