from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, LargeBinary, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from caseshare.db import Base, JSONType, uuid_pk


class Consent(Base):
    """One immutable consent version. Changes are new versions (`supersedes`) or withdrawals."""

    __tablename__ = "consents"
    __table_args__ = (
        CheckConstraint("expires_at > valid_from", name="expires_after_start"),
        CheckConstraint("decision IN ('granted', 'refused')", name="decision_known"),
    )

    id: Mapped[uuid_pk]
    subject_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subjects.id"), index=True)
    # `refused` records a claimant's no, neutrally: it authorises nothing and blocks nothing else.
    decision: Mapped[str] = mapped_column(String(16), default="granted", server_default="granted")
    supersedes_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("consents.id"))
    given_by_type: Mapped[str] = mapped_column(String(32))
    # Legacy plaintext columns (before migration 0015): new records leave them NULL and keep the
    # value sealed in the matching *_sealed column under the claimant's data key (AAD: subject,
    # "consent", consent id, field, "consent_record"), so erasure shreds it. `flask caseshare
    # consents seal-legacy` moves rows written before 0015 into the sealed columns.
    given_by_name: Mapped[str | None] = mapped_column(String(200))
    authority_ref: Mapped[str | None] = mapped_column(String(200))
    given_by_name_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    authority_ref_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Mental Capacity Act assessment ({lacks_capacity, assessed_by, assessed_on}) for attorneys.
    capacity: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    # Competence assessment of a child consenting for themselves ({competent, assessed_by,
    # assessed_on, presumed}); `presumed` marks the Scotland presumption at 12.
    competence: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    recipients: Mapped[list[str]]
    purposes: Mapped[list[str]]
    categories: Mapped[list[str]]
    excluded_categories: Mapped[list[str]]
    explicit_statement: Mapped[str | None] = mapped_column(Text)  # legacy plaintext
    explicit_statement_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The claimant confirmed the form's own explicit statement (in the consent's language);
    # its SHA-256 pins which words they confirmed.
    explicit_confirmed: Mapped[bool] = mapped_column(default=False, server_default=false())
    explicit_statement_sha256: Mapped[str | None] = mapped_column(String(64))
    form_id: Mapped[str] = mapped_column(String(64))
    form_version: Mapped[int]
    language: Mapped[str] = mapped_column(String(2))
    text_hash: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(32))
    evidence_ref: Mapped[str | None] = mapped_column(String(200))  # legacy plaintext
    evidence_ref_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    verified: Mapped[bool]
    captured_by: Mapped[uuid.UUID]
    captured_org: Mapped[str] = mapped_column(String(64))
    captured_at: Mapped[datetime]
    valid_from: Mapped[datetime]
    expires_at: Mapped[datetime]
    # How the expiry was set: a fixed date, the end of the next UC assessment period, or when
    # the case closes (expires_at is then the protocol's backstop, so it is always set).
    expiry_rule: Mapped[str] = mapped_column(String(32), default="fixed_date",
                                             server_default="fixed_date")


class ConsentWithdrawal(Base):
    """A withdrawal, whole or partial, appended against a consent; never edited."""

    __tablename__ = "consent_withdrawals"

    id: Mapped[uuid_pk]
    consent_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("consents.id"), index=True)
    withdrawn_at: Mapped[datetime]
    channel: Mapped[str] = mapped_column(String(32))
    scope: Mapped[dict[str, Any]]
    reason: Mapped[str | None] = mapped_column(Text)  # legacy plaintext (see Consent)
    reason_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    recorded_by: Mapped[uuid.UUID]
    recorded_org: Mapped[str] = mapped_column(String(64))
