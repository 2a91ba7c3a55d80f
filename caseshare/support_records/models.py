"""Structured housing and money records.

What is plain and what is sealed (as for plan entries): the kind, its category, the writing
organisation, the version and the review date are plain (they drive access and reminders);
everything the record says about the claimant (`data`: the fields of its kind, as JSON) is sealed
under the subject's data key. Each create and update writes a version row with the sealed state
as it was. Monthly tenancy snapshots (rent due and paid, arrears at the month's end, who paid)
are their own rows, one per tenancy and month, so a computed outcome can read six in a row.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from caseshare.db import Base, uuid_pk

# Each kind and the category it is written and read under (the protocol's category codes).
RECORD_CATEGORIES = {
    "tenancy": "housing_tenancy",
    "apa": "housing_tenancy",
    "money_plan": "finances",
    "banking": "finances",
}
RECORD_KINDS = tuple(RECORD_CATEGORIES)

LANDLORD_TYPES = ("social", "private", "council", "supported", "other")
RENT_FREQUENCIES = ("weekly", "fortnightly", "four_weekly", "monthly")
RENT_PAYERS = ("claimant", "managed_payment")  # the claimant, or a managed payment to landlord
APA_TYPES = ("managed_payment", "more_frequent_payments", "split_payment")
# The APA's lifecycle, in order; `ended` may follow any of them.
APA_STATUSES = ("identified", "requested", "dwp_decision", "in_place", "ended")
# Why an APA is needed, in neutral words only. The APA is kept and shared under housing_tenancy,
# which is not a special category: a health, addiction or abuse reason recorded here would reach
# every organisation that reads the tenancy without the claimant's explicit consent for those
# categories, so the reason says only "vulnerability" and the detail stays in the record of the
# category it belongs to (docs/housing-money.md).
APA_TRIGGERS = ("rent_arrears", "debt", "vulnerability", "other")
ACCOUNT_TYPES = ("bank", "credit_union")


class SupportRecord(Base):
    """One tenancy, APA, money action plan or banking record of a claimant."""

    __tablename__ = "support_records"

    id: Mapped[uuid_pk]
    subject_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subjects.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(64))
    # The organisation that wrote the record: the source of the data for sharing decisions.
    created_org: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    data: Mapped[bytes] = mapped_column(LargeBinary)  # sealed JSON, the kind's fields
    review_on: Mapped[date | None]
    # Written where no flow shares its category onward for the purpose it was written for.
    own_record: Mapped[bool] = mapped_column(default=False, server_default=false())
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]
    created_by: Mapped[uuid.UUID]
    updated_at: Mapped[datetime]
    updated_by: Mapped[uuid.UUID]
    updated_purpose: Mapped[str] = mapped_column(String(64))

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class SupportRecordVersion(Base):
    """One state of a record, written with every create and update (ciphertext copied byte for
    byte: its associated data names the record, so it opens only as that record's data)."""

    __tablename__ = "support_record_versions"
    __table_args__ = (UniqueConstraint("record_id", "version"),)

    id: Mapped[uuid_pk]
    record_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("support_records.id"), index=True)
    subject_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subjects.id"), index=True)
    version: Mapped[int]
    action: Mapped[str] = mapped_column(String(16))  # create | update
    changed_fields: Mapped[list[str]]
    data: Mapped[bytes] = mapped_column(LargeBinary)
    review_on: Mapped[date | None]
    changed_at: Mapped[datetime]
    changed_by: Mapped[uuid.UUID]
    changed_org: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(64))


class TenancySnapshot(Base):
    """A tenancy's rent account for one calendar month (`month` is its first day); the figures
    and who paid are sealed JSON: {"rent_due", "rent_paid", "arrears", "paid_by"} (pence)."""

    __tablename__ = "tenancy_snapshots"
    __table_args__ = (UniqueConstraint("record_id", "month"),)

    id: Mapped[uuid_pk]
    record_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("support_records.id"), index=True)
    subject_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subjects.id"), index=True)
    month: Mapped[date]
    data: Mapped[bytes] = mapped_column(LargeBinary)
    recorded_at: Mapped[datetime]
    recorded_by: Mapped[uuid.UUID]
    recorded_org: Mapped[str] = mapped_column(String(64))
