"""Tables: one case per registered claimant (lead worker, review date, open or closed) and the
history of its lead workers.

A case row is created lazily (the first time a lead worker, review date or closure is set):
a claimant without one has an open case led by their lead organisation with no named worker.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from caseshare.db import Base, uuid_pk


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (CheckConstraint("status IN ('open', 'closed')", name="known_status"),)

    subject_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subjects.id"), primary_key=True)
    # A staff member of the subject's lead organisation (checked by the use case).
    lead_worker_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff_members.id"))
    review_on: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(8), default="open", server_default="open")
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[uuid.UUID | None]
    # Who closed it (with the lead organisation, the only readers of the closure note).
    closed_org: Mapped[str | None] = mapped_column(String(64))
    closure_reason: Mapped[str | None] = mapped_column(String(32))  # closure.CLOSURE_REASONS
    # "other" needs words: sealed under the subject's data key, category `case_admin`.
    closure_note: Mapped[bytes | None] = mapped_column(LargeBinary)
    reopened_at: Mapped[datetime | None]
    reopened_by: Mapped[uuid.UUID | None]
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime]


class LeadWorkerChange(Base):
    """Who led the case from when to when: appended on every change, never edited."""

    __tablename__ = "case_lead_worker_changes"

    id: Mapped[uuid_pk]
    subject_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subjects.id"), index=True)
    lead_worker_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff_members.id"))
    changed_at: Mapped[datetime]
    changed_by: Mapped[uuid.UUID]
    changed_org: Mapped[str] = mapped_column(String(64))
