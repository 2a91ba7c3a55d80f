from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from caseshare.db import Base, uuid_pk

SEALED_ENTRY_FIELDS = ("title", "detail", "owner_name", "outcome")
# The LSSF support service lines an entry can deliver (DWP Local Support Services Framework).
SUPPORT_SERVICES = (
    "basic_advice_triage",
    "online_access",
    "assisted_digital",
    "intermediary_support",
    "financial_inclusion",
    "budgeting_support",
    "apa_identification",
)


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
    service: Mapped[str | None] = mapped_column(String(40))
    outcome: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Recorded where no flow shares its category onward for the purpose it was written for:
    # only the organisation that wrote it ever sees it (access/decision.py, `own_record`).
    own_record: Mapped[bool] = mapped_column(default=False, server_default=false())
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]
    created_by: Mapped[uuid.UUID]
    updated_at: Mapped[datetime]
    updated_by: Mapped[uuid.UUID]
    updated_purpose: Mapped[str] = mapped_column(String(64))

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class PlanEntryVersion(Base):
    """One state of an entry, written with every create and update: who, when, which
    organisation, for what purpose, and the sealed values as they were (the ciphertext is copied
    byte for byte; its associated data names the entry, so it opens only as that entry's field).
    """

    __tablename__ = "plan_entry_versions"
    __table_args__ = (UniqueConstraint("entry_id", "version"),)

    id: Mapped[uuid_pk]
    entry_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("plan_entries.id"), index=True)
    subject_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subjects.id"), index=True)
    version: Mapped[int]
    action: Mapped[str] = mapped_column(String(16))  # create | update
    changed_fields: Mapped[list[str]]
    category: Mapped[str] = mapped_column(String(64))
    owner_org: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    due_on: Mapped[date | None]
    title: Mapped[bytes] = mapped_column(LargeBinary)
    detail: Mapped[bytes | None] = mapped_column(LargeBinary)
    owner_name: Mapped[bytes | None] = mapped_column(LargeBinary)
    service: Mapped[str | None] = mapped_column(String(40))
    outcome: Mapped[bytes | None] = mapped_column(LargeBinary)
    changed_at: Mapped[datetime]
    changed_by: Mapped[uuid.UUID]
    changed_org: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(64))


# `open` is the lifecycle's "sent" (kept: partners filter on it); then accepted or declined,
# booked, attended or did_not_attend (rebooked: booked again), completed; withdrawn by the
# sender; suspended when the basis is lost (case_plan/referral_steps.py holds the order).
REFERRAL_STATUSES = ("open", "accepted", "declined", "booked", "attended", "did_not_attend",
                     "completed", "withdrawn", "suspended")
SEALED_REFERRAL_FIELDS = ("message", "contact_name", "decline_reason")


class Referral(Base):
    """A warm handover from one organisation to another, for a purpose, relying on a consent.

    The message, the named contact and a decline reason are personal data: sealed under the
    subject's data key. Organisations, purpose and status are plain (they drive access).
    """

    __tablename__ = "referrals"

    id: Mapped[uuid_pk]
    subject_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subjects.id"), index=True)
    from_org: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    to_org: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), index=True)
    message: Mapped[bytes] = mapped_column(LargeBinary)
    contact_name: Mapped[bytes] = mapped_column(LargeBinary)
    appointment_at: Mapped[datetime | None]
    protocol: Mapped[str] = mapped_column(String(80))
    flow_id: Mapped[str] = mapped_column(String(64))
    consent_id: Mapped[uuid.UUID | None]
    service_id: Mapped[str | None] = mapped_column(String(100))  # a directory service
    created_at: Mapped[datetime]
    created_by: Mapped[uuid.UUID]
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[uuid.UUID | None]
    decline_reason: Mapped[bytes | None] = mapped_column(LargeBinary)
    suspended_reasons: Mapped[list[str]] = mapped_column(default=list)
    # The response standard: accepted or declined before this moment (working days after it
    # was sent, from its protocol or the default); None for referrals made before standards.
    respond_by: Mapped[datetime | None] = mapped_column(index=True)
    # When the receiving organisation was told the referral is overdue (once only).
    overdue_notified_at: Mapped[datetime | None]
    # The outcome code of a completed referral (referral_outcomes.yaml); its note is sealed in
    # the completing event.
    outcome: Mapped[str | None] = mapped_column(String(40))
    # Two decisions on one referral at once (a double accept, accept against decline): one
    # wins, the other is a conflict.
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


SEALED_REFERRAL_EVENT_FIELDS = ("note", "appointment_at", "location")


class ReferralEvent(Base):
    """One step of a referral's lifecycle (sent, accepted, booked, attended, completed, ...):
    who (staff id and organisation), when, and what. Its free text, and the appointment's time
    and place, are sealed under the subject's data key (the appointment time as ISO text);
    the outcome code and the suspension's reason codes are plain. The referral's timeline is
    read from these rows."""

    __tablename__ = "referral_events"
    __table_args__ = (UniqueConstraint("referral_id", "seq"),)

    id: Mapped[uuid_pk]
    referral_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("referrals.id"), index=True)
    seq: Mapped[int]  # 1, 2, ... within the referral: the order of its steps
    subject_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subjects.id"), index=True)
    type: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]
    actor_id: Mapped[uuid.UUID | None]
    actor_org: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str | None] = mapped_column(String(40))
    reasons: Mapped[list[str]] = mapped_column(default=list)
    note: Mapped[bytes | None] = mapped_column(LargeBinary)
    appointment_at: Mapped[bytes | None] = mapped_column(LargeBinary)
    location: Mapped[bytes | None] = mapped_column(LargeBinary)
