"""Recorded outcomes and their attribution.

An outcome's code, date, service line and recording organisation are plain: management
information counts them without opening anything. They are still personal data (an outcome
says something about the claimant), so reading one on a page goes through the decision under
the code's category, and MI only ever publishes disclosure-controlled counts. The evidence
reference may name a document or a person: sealed under the subject's data key.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, Numeric, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from caseshare.db import Base, uuid_pk


class Outcome(Base):
    """One outcome achieved by a claimant (once per subject, code and date)."""

    __tablename__ = "outcomes"
    __table_args__ = (
        UniqueConstraint("subject_id", "code", "achieved_on"),
        Index("ix_outcomes_achieved_code", "achieved_on", "code"),
    )

    id: Mapped[uuid_pk]
    subject_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subjects.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(64))  # what the outcome reveals (from its code)
    achieved_on: Mapped[date]
    service_line: Mapped[str | None] = mapped_column(String(40))
    evidence_ref: Mapped[bytes | None] = mapped_column(LargeBinary)  # sealed
    # Typed by a worker, or computed from records (e.g. six months paying own rent).
    computed: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Recorded where no flow shares the category onward for its purpose: the recording
    # organisation's alone (access/outcomes.py may_read), like a support record's.
    own_record: Mapped[bool] = mapped_column(default=False, server_default=false())
    source_record_id: Mapped[uuid.UUID | None]
    recorded_org: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    recorded_by: Mapped[uuid.UUID | None]  # None when computed by the system
    recorded_at: Mapped[datetime]
    purpose: Mapped[str] = mapped_column(String(64))


class OutcomeAttribution(Base):
    """An organisation that contributed to an outcome, and its share (shares of one outcome
    sum to 1), so outcome-based payments can be apportioned. `basis` says why it counts:
    `recorded` (it recorded the outcome), `entry_owner` (it owns a plan entry or record of the
    outcome's category) or `referral` (it sent or received a referral in the claimant's chain)."""

    __tablename__ = "outcome_attributions"
    __table_args__ = (UniqueConstraint("outcome_id", "org"),)

    id: Mapped[uuid_pk]
    outcome_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("outcomes.id"), index=True)
    org: Mapped[str] = mapped_column(String(64), index=True)
    basis: Mapped[str] = mapped_column(String(16))
    share: Mapped[float] = mapped_column(Numeric(6, 4))
