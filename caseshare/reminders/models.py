"""Tables: contact preferences (sealed address) and the reminder outbox."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from caseshare.db import Base, uuid_pk


class ContactPreference(Base):
    """The claimant agreed to be contacted about appointments: by `channel` (sms | email) at a
    sealed address or number (category `contact`, under the subject's data key), in `language`
    (en | cy). At most one is current per claimant (`ended_at` null): recording a new one ends
    the old (`ended_reason` replaced); withdrawing ends it (withdrawn) at once."""

    __tablename__ = "contact_preferences"
    __table_args__ = (
        CheckConstraint("channel IN ('sms', 'email')", name="known_channel"),
        CheckConstraint("language IN ('en', 'cy')", name="known_language"),
    )

    id: Mapped[uuid_pk]
    subject_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subjects.id"), index=True)
    channel: Mapped[str] = mapped_column(String(8))
    address: Mapped[bytes] = mapped_column(LargeBinary)
    language: Mapped[str] = mapped_column(String(2))
    method: Mapped[str] = mapped_column(String(32))
    agreed_at: Mapped[datetime]
    recorded_by: Mapped[uuid.UUID]
    recorded_org: Mapped[str] = mapped_column(String(64))
    ended_at: Mapped[datetime | None]
    ended_reason: Mapped[str | None] = mapped_column(String(16))
    ended_by: Mapped[uuid.UUID | None]


class Reminder(Base):
    """One appointment reminder in the outbox. `key` (referral and appointment time) is unique,
    so scheduling the same appointment twice makes one row; a rebooked appointment supersedes
    the referral's earlier pending row. The address is read from the current contact preference
    when it is sent, never copied here; `recipient` keeps only a masked form for the operator.
    `last_error` is a code, never a provider's text."""

    __tablename__ = "reminders"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'sent', 'failed', 'superseded', 'cancelled')",
                        name="known_status"),
        Index("ix_reminders_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[uuid_pk]
    key: Mapped[str] = mapped_column(String(100), unique=True)
    subject_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subjects.id"), index=True)
    referral_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("referrals.id"), index=True)
    appointment_at: Mapped[datetime]
    location: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str | None] = mapped_column(String(8))
    language: Mapped[str | None] = mapped_column(String(2))
    recipient: Mapped[str | None] = mapped_column(String(64))
    outbound: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
