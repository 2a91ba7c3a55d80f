from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from caseshare.db import Base, uuid_pk

SEALED_ENTRY_FIELDS = ("title", "detail", "owner_name")


class CasePlan(Base):
    __tablename__ = "case_plans"

    id: Mapped[uuid_pk]
    subject_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subjects.id"), unique=True)
    lead_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    created_at: Mapped[datetime]
    created_by: Mapped[uuid.UUID]


class PlanEntry(Base):
    """A goal, action or note. Kind, category, owner and status are plain (they drive access);
    title, detail and the named worker are sealed under the subject's data key."""

    __tablename__ = "plan_entries"

    id: Mapped[uuid_pk]
    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case_plans.id"), index=True)
    subject_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subjects.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(64))
    owner_org: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    # The organisation that wrote the entry: the source of the data for sharing decisions.
    created_org: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    status: Mapped[str] = mapped_column(String(16))
    due_on: Mapped[date | None]
    title: Mapped[bytes] = mapped_column(LargeBinary)
    detail: Mapped[bytes | None] = mapped_column(LargeBinary)
    owner_name: Mapped[bytes | None] = mapped_column(LargeBinary)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]
    created_by: Mapped[uuid.UUID]
    updated_at: Mapped[datetime]
    updated_by: Mapped[uuid.UUID]
    updated_purpose: Mapped[str] = mapped_column(String(64))

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
