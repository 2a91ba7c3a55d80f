"""Break-glass overrides and the information-governance incidents opened when one is found not
justified. Table names are those of the first migrations (`overrides`, `incidents`)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from caseshare.db import Base, uuid_pk


class OverrideRecord(Base):
    """A break-glass override: access without consent under a lawful route the protocol allows,
    for exactly these categories and this purpose, for the staff member who asked only
    (`requested_by` in `org_id`), on flows of the protocols it was granted under, for a short
    time. It is also the IG review item: `status` stays `pending_review` until an IG officer
    reviews it. The justification is sealed under the subject's data key (it usually holds
    personal data).
    """

    __tablename__ = "overrides"
    __table_args__ = (
        CheckConstraint("expires_at > starts_at", name="expires_after_start"),
        CheckConstraint("status IN ('pending_review', 'justified', 'not_justified')",
                        name="known_status"),
        Index("ix_overrides_status_review_due_at", "status", "review_due_at"),
    )

    id: Mapped[uuid_pk]
    subject_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subjects.id"), index=True)
    org_id: Mapped[str] = mapped_column(String(64))
    requested_by: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(String(64))
    route: Mapped[str] = mapped_column(String(64))
    categories: Mapped[list[str]]
    protocol: Mapped[str] = mapped_column(String(80))  # the first of `protocols`, for display
    # Every protocol whose override rules permitted this request: the decision uses the
    # override only on flows of these protocols (and only while their rules still permit it).
    protocols: Mapped[list[str]]
    justification_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    notify: Mapped[list[str]]
    created_at: Mapped[datetime]
    starts_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    review_due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="pending_review")
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_at: Mapped[datetime | None]
    review_note_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)


class Incident(Base):
    """An information-governance incident to investigate: opened when an IG officer finds a
    break-glass override not justified (a possible unlawful disclosure, to be assessed for ICO
    reporting within 72 hours). It names the claimant, organisation, staff member and override
    by id; the reviewer's reasoning stays sealed on the override's review note."""

    __tablename__ = "incidents"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'closed')", name="known_status"),
        UniqueConstraint("override_id"),  # one incident per override review
    )

    id: Mapped[uuid_pk]
    kind: Mapped[str] = mapped_column(String(40))  # override_not_justified
    status: Mapped[str] = mapped_column(String(16), default="open")
    subject_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subjects.id"), index=True)
    org_id: Mapped[str] = mapped_column(String(64))  # whose access is in question
    actor: Mapped[str] = mapped_column(String(64))  # the staff member or client concerned
    override_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("overrides.id"))
    opened_at: Mapped[datetime]
    opened_by: Mapped[str] = mapped_column(String(64))
    opened_org: Mapped[str] = mapped_column(String(64))
