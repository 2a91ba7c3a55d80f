from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from caseshare.db import Base, uuid_pk


class Consent(Base):
    """One immutable consent version. Changes are new versions (`supersedes`) or withdrawals."""

    __tablename__ = "consents"
    __table_args__ = (CheckConstraint("expires_at > valid_from", name="expires_after_start"),)

    id: Mapped[uuid_pk]
    subject_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subjects.id"), index=True)
    supersedes_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("consents.id"))
    given_by_type: Mapped[str] = mapped_column(String(32))
    given_by_name: Mapped[str | None] = mapped_column(String(200))
    authority_ref: Mapped[str | None] = mapped_column(String(200))
    recipients: Mapped[list[str]]
    purposes: Mapped[list[str]]
    categories: Mapped[list[str]]
    excluded_categories: Mapped[list[str]]
    explicit_statement: Mapped[str | None] = mapped_column(Text)
    form_id: Mapped[str] = mapped_column(String(64))
    form_version: Mapped[int]
    language: Mapped[str] = mapped_column(String(2))
    text_hash: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(32))
    evidence_ref: Mapped[str | None] = mapped_column(String(200))
    verified: Mapped[bool]
    captured_by: Mapped[uuid.UUID]
    captured_org: Mapped[str] = mapped_column(String(64))
    captured_at: Mapped[datetime]
    valid_from: Mapped[datetime]
    expires_at: Mapped[datetime]


class ConsentWithdrawal(Base):
    """A withdrawal, whole or partial, appended against a consent; never edited."""

    __tablename__ = "consent_withdrawals"

    id: Mapped[uuid_pk]
    consent_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("consents.id"), index=True)
    withdrawn_at: Mapped[datetime]
    channel: Mapped[str] = mapped_column(String(32))
    scope: Mapped[dict[str, Any]]
    reason: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[uuid.UUID]
    recorded_org: Mapped[str] = mapped_column(String(64))
