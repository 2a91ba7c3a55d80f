"""Raise notifications and read them for one staff member. The caller's unit of work commits."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from caseshare.errors import NotFoundError
from caseshare.notifications.models import Notification, NotificationRead

# Every kind the service raises; the pages word each one (web templates), the API lists codes.
TYPES = (
    "consent_withdrawn",
    "consent_expiring",
    "consent_regranted_after_withdrawal",
    "referral_received",
    "referral_updated",
    "referral_overdue",
    "override_granted",
    # Raised by the worker's reminder jobs (caseshare/jobs/staff_reminders.py), once each.
    "protocol_review_due",
    "override_review_overdue",
    # Arrears recorded for a month after the claimant's APA ended (access/support_records.py).
    "arrears_after_apa",
)


@dataclass(frozen=True)
class Reader:
    """Who is reading: their id, organisation and roles."""

    staff_id: uuid.UUID
    org: str
    roles: frozenset[str]


@dataclass(frozen=True)
class NotificationView:
    id: uuid.UUID
    type: str
    subject_id: uuid.UUID | None
    consent_id: uuid.UUID | None
    created_at: datetime
    read: bool
    details: dict[str, Any]


def notify(session: Session, *, type: str, org: str, now: datetime,
           role: str | None = None, staff_id: uuid.UUID | None = None,
           subject_id: uuid.UUID | None = None, consent_id: uuid.UUID | None = None,
           details: dict[str, Any] | None = None,
           once_key: str | None = None) -> Notification:
    """Add a notification for `org` (narrowed to a role or one person) to the unit of work.
    `details` must hold codes and ids only, never personal data. `once_key` (unique) marks a
    reminder raised once only: a second insert with the same key fails at the flush."""
    if type not in TYPES:
        raise ValueError(f"unknown notification type {type!r}")
    note = Notification(id=uuid.uuid4(), type=type, org_id=org, role=role, staff_id=staff_id,
                        subject_id=subject_id, consent_id=consent_id, created_at=now,
                        details=dict(details or {}), once_key=once_key)
    session.add(note)
    return note


def once_raised(session: Session, once_key: str) -> bool:
    """Whether the notification raised once only under `once_key` already exists."""
    return session.scalar(select(Notification.id).where(
        Notification.once_key == once_key)) is not None


def visible_to(reader: Reader) -> Any:
    """The notifications this reader sees: their organisation's, their role's and their own."""
    return and_(
        Notification.org_id == reader.org,
        or_(Notification.role.is_(None), Notification.role.in_(sorted(reader.roles))),
        or_(Notification.staff_id.is_(None), Notification.staff_id == reader.staff_id),
    )


def list_for(session: Session, reader: Reader, *, limit: int = 200,
             unread_only: bool = False) -> list[NotificationView]:
    """The reader's notifications, newest first."""
    read_at = (select(NotificationRead.notification_id)
               .where(NotificationRead.staff_id == reader.staff_id))
    read_ids = set(session.scalars(read_at))
    rows = session.scalars(
        select(Notification).where(visible_to(reader))
        .order_by(Notification.created_at.desc(), Notification.id).limit(limit * 4)
    )
    out = []
    for n in rows:
        is_read = n.id in read_ids
        if unread_only and is_read:
            continue
        out.append(NotificationView(n.id, n.type, n.subject_id, n.consent_id, n.created_at, is_read,
                                    dict(n.details)))
        if len(out) >= limit:
            break
    return out


def mark_read(session: Session, reader: Reader, notification_id: uuid.UUID, *,
              now: datetime) -> None:
    """Mark one of the reader's notifications read (idempotent); anyone else's is not found."""
    found = session.scalar(
        select(Notification.id).where(Notification.id == notification_id, visible_to(reader))
    )
    if found is None:
        raise NotFoundError("No such notification.")
    if session.get(NotificationRead, (notification_id, reader.staff_id)) is None:
        session.add(NotificationRead(notification_id=notification_id,
                                     staff_id=reader.staff_id, read_at=now))
