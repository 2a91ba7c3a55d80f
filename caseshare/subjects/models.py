from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from caseshare.db import Base, uuid_pk

# Sealed identity fields and their data category.
IDENTITY_FIELDS: dict[str, str] = {
    "given_name": "identity",
    "family_name": "identity",
    "date_of_birth": "identity",
    "nino": "identity",
    "postcode": "contact",
}


class Subject(Base):
    """A claimant, known by a random id. Identity fields are sealed; NINO found by blind index."""

    __tablename__ = "subjects"

    id: Mapped[uuid_pk]
    jurisdiction: Mapped[str] = mapped_column(String(16))
    lead_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    nino_index: Mapped[str | None] = mapped_column(String(64), index=True)
    # Blind index of (family name, date of birth) for search by name; NULL for claimants
    # registered before it existed (search then opens and compares those rows).
    name_dob_index: Mapped[str | None] = mapped_column(String(64), index=True)
    # Envelope encryption: the subject's data key, wrapped by a key-encryption key version.
    dek_wrapped: Mapped[bytes | None] = mapped_column(LargeBinary)
    dek_version: Mapped[int] = mapped_column(default=1)
    kek_version: Mapped[int]
    given_name: Mapped[bytes | None] = mapped_column(LargeBinary)
    family_name: Mapped[bytes | None] = mapped_column(LargeBinary)
    date_of_birth: Mapped[bytes | None] = mapped_column(LargeBinary)
    nino: Mapped[bytes | None] = mapped_column(LargeBinary)
    postcode: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]
    created_by: Mapped[uuid.UUID]
    erased_at: Mapped[datetime | None]


class CaseMember(Base):
    """An organisation involved in a subject's case (lead, or joined via an accepted referral)."""

    __tablename__ = "case_members"
    # The second index serves the caseload (one organisation's claimants): the unique
    # constraint's index leads with subject_id.
    __table_args__ = (UniqueConstraint("subject_id", "org_id"),
                      Index("ix_case_members_org_id_subject_id", "org_id", "subject_id"))

    id: Mapped[uuid_pk]
    subject_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subjects.id"), index=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    role: Mapped[str] = mapped_column(String(16))  # lead | member
    joined_at: Mapped[datetime]
