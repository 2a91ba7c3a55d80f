"""Tables: a case conference, its attendees, its minutes (one sealed text per data category, so
each attending organisation reads only the categories the decision lets it read) and its
decisions (each one a plan action with an owner and a due date)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from caseshare.db import Base, uuid_pk


class Conference(Base):
    __tablename__ = "case_conferences"

    id: Mapped[uuid_pk]
    subject_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subjects.id"), index=True)
    held_on: Mapped[date]
    recorded_at: Mapped[datetime]
    recorded_by: Mapped[uuid.UUID]
    recorded_org: Mapped[str] = mapped_column(String(64))
    recorded_purpose: Mapped[str] = mapped_column(String(64))


class ConferenceAttendee(Base):
    """An organisation at the table and, optionally, the staff member who attended for it
    (a staff member's name is not claimant data, so it is not sealed)."""

    __tablename__ = "case_conference_attendees"

    id: Mapped[uuid_pk]
    conference_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case_conferences.id"),
                                                     index=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    staff_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff_members.id"))


class ConferenceMinute(Base):
    """The minutes about one data category, sealed under the subject's data key."""

    __tablename__ = "case_conference_minutes"
    __table_args__ = (UniqueConstraint("conference_id", "category"),)

    id: Mapped[uuid_pk]
    conference_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case_conferences.id"),
                                                     index=True)
    subject_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subjects.id"), index=True)
    category: Mapped[str] = mapped_column(String(64))
    text: Mapped[bytes] = mapped_column(LargeBinary)


class ConferenceDecision(Base):
    """A decision taken at the conference: the plan action it became."""

    __tablename__ = "case_conference_decisions"

    id: Mapped[uuid_pk]
    conference_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case_conferences.id"),
                                                     index=True)
    entry_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("plan_entries.id"))
