"""The stored record of a completed assessment.

What is plain and what is sealed:
- `assessments` holds only codes that drive access and say nothing about the claimant's
  answers: which form (id, version, language), who completed it (staff, organisation: the
  provenance every item is shared under), for what purpose, and when.
- `assessment_items` holds everything the answers reveal, each sealed under the subject's data
  key (crypto/sealing.py) and labelled with the categories it discloses, exactly like a plan
  entry: one `answer` item per question of the form, answered or not (so the rows present say
  nothing about which questions were answered); one `score` item per domain (the score and the
  questions that produced it), labelled with the categories of every question that can score
  in that domain; one `flags` item per category that has flag rules (the raised "harder to
  help" flags, which can reveal special-category facts such as drug or alcohol dependency);
  and one `summary` item (the support level and review date, which the total of every domain
  drives), labelled with the categories of every scoring question.
- `assessment_acceptances` records which proposals were accepted and what they created, so a
  proposal is accepted once.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from caseshare.db import Base, uuid_pk

ITEM_KINDS = ("answer", "score", "flags", "summary")


class Assessment(Base):
    __tablename__ = "assessments"

    id: Mapped[uuid_pk]
    subject_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subjects.id"), index=True)
    form_id: Mapped[str] = mapped_column(String(80))
    form_version: Mapped[int] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(8))
    purpose: Mapped[str] = mapped_column(String(64))
    completed_at: Mapped[datetime]
    completed_by: Mapped[uuid.UUID]
    # The organisation that wrote the answers: the source of every item for sharing decisions.
    completed_org: Mapped[str] = mapped_column(ForeignKey("organisations.id"))


class AssessmentItem(Base):
    """One sealed piece of an assessment (see the module docstring), readable only by a caller
    the decision lets read every one of its `categories` from `completed_org`."""

    __tablename__ = "assessment_items"
    __table_args__ = (UniqueConstraint("assessment_id", "kind", "key"),)

    id: Mapped[uuid_pk]
    assessment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("assessments.id"), index=True)
    subject_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subjects.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(80))  # question id, domain, category or "summary"
    categories: Mapped[list[str]]
    value: Mapped[bytes] = mapped_column(LargeBinary)  # sealed JSON
    # Written where no flow shares one of its categories onward for the purpose it was written
    # for (access/decision.py `own_record`): only the organisation that wrote it sees it.
    own_record: Mapped[bool] = mapped_column(default=False, server_default=false())


class AssessmentAcceptance(Base):
    """A proposal accepted: the plan entry or referral it created (one per proposal)."""

    __tablename__ = "assessment_acceptances"
    __table_args__ = (UniqueConstraint("assessment_id", "proposal_id"),)

    id: Mapped[uuid_pk]
    assessment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("assessments.id"), index=True)
    proposal_id: Mapped[str] = mapped_column(String(80))
    created_kind: Mapped[str] = mapped_column(String(16))  # entry | referral
    created_id: Mapped[uuid.UUID]
    accepted_at: Mapped[datetime]
    accepted_by: Mapped[uuid.UUID]
    accepted_org: Mapped[str] = mapped_column(String(64))
