from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from caseshare.db import Base, uuid_pk


class Notification(Base):
    """One thing an organisation's team (optionally only its staff with one role, or one named
    staff member) should know about: a consent withdrawn, an override granted, ...

    It carries codes and ids only, never personal data: the page that shows it looks the
    claimant up through the access path, under the reader's own decision.
    """

    __tablename__ = "notifications"

    id: Mapped[uuid_pk]
    org_id: Mapped[str] = mapped_column(String(64), index=True)
    type: Mapped[str] = mapped_column(String(64))
    # Only staff holding this role see it (e.g. ig_officer); None: the whole organisation.
    role: Mapped[str | None] = mapped_column(String(32))
    # Only this staff member sees it; None: everyone the org/role selects.
    staff_id: Mapped[uuid.UUID | None]
    subject_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("subjects.id"))
    consent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("consents.id"))
    created_at: Mapped[datetime]
    details: Mapped[dict[str, Any]]
    # Set on reminders that must be raised once only (e.g. "consent <id> expires in 7 days"):
    # the unique index makes a second worker's attempt fail instead of duplicating it.
    once_key: Mapped[str | None] = mapped_column(String(200), unique=True)


class NotificationRead(Base):
    """Who has read which notification (a team notification is read per person)."""

    __tablename__ = "notification_reads"

    notification_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    staff_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    read_at: Mapped[datetime]
