"""Tables: legal holds (placed and lifted by IG officers) and deleted copies (one row per
subject, organisation and category whose copy the retention pass deleted; the decision treats
the category as erased for that organisation from then on)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from caseshare.db import Base, uuid_pk


class LegalHold(Base):
    __tablename__ = "legal_holds"
    # One active hold per subject (migration retention_ig_one_active_hold).
    __table_args__ = (Index("uq_legal_holds_active_subject", "subject_id", unique=True,
                            sqlite_where=text("lifted_at IS NULL"),
                            postgresql_where=text("lifted_at IS NULL")),)

    id: Mapped[uuid_pk]
    subject_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subjects.id"), index=True)
    # The IG officer's reason: a reference and a short explanation, never claimant detail
    # (shown on the IG pages and in the audit event).
    reason: Mapped[str] = mapped_column(Text)
    placed_at: Mapped[datetime]
    placed_by: Mapped[uuid.UUID]
    placed_org: Mapped[str] = mapped_column(String(64))
    lifted_at: Mapped[datetime | None]
    lifted_by: Mapped[uuid.UUID | None]


class DeletedCopy(Base):
    """The retention pass deleted `org_id`'s copy of `category` for this subject on `due_on`'s
    rule (`rule` names the protocol and flow, or `lead_controller`); the deletion certificate is
    the audit event of the same pass."""

    __tablename__ = "retention_deleted_copies"
    __table_args__ = (UniqueConstraint("subject_id", "org_id", "category"),)

    id: Mapped[uuid_pk]
    subject_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subjects.id"), index=True)
    org_id: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(64))
    due_on: Mapped[date]
    rule: Mapped[str] = mapped_column(String(200))
    deleted_at: Mapped[datetime]
