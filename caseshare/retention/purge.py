"""Removing one category's sealed values for a subject, once no organisation keeps a copy of it:
the rows holding its ciphertext are deleted, so the data is gone from the database (not only
withheld by the decision) while the subject's other categories live on under its data key.

What goes, for category C: plan entries in C with every version of them (and versions that
were ever in C), the conference decisions pointing at those entries, assessment items that
disclose C (an item labelled with several categories discloses each of them), and conference
minutes about C. The identity record (identity, contact, the closure note) goes only with the
whole subject (retention.shredding), since without it nothing else can be held.
"""

from __future__ import annotations

import uuid
from typing import Any, cast

from sqlalchemy import CursorResult, Delete, delete, or_, select
from sqlalchemy.orm import Session

from caseshare.assessments.models import AssessmentItem
from caseshare.case_plan.models import PlanEntry, PlanEntryVersion
from caseshare.conferences.models import ConferenceDecision, ConferenceMinute


def purge_category(session: Session, subject_id: uuid.UUID, category: str) -> dict[str, int]:
    """Delete the subject's rows sealed under `category`; returns how many of each kind went
    (counts only, for the certificate)."""
    entries = list(session.scalars(select(PlanEntry.id).where(
        PlanEntry.subject_id == subject_id, PlanEntry.category == category)))
    decisions = _delete(session, delete(ConferenceDecision).where(
        ConferenceDecision.entry_id.in_(entries))) if entries else 0
    versions = _delete(session, delete(PlanEntryVersion).where(
        PlanEntryVersion.subject_id == subject_id,
        or_(PlanEntryVersion.category == category, PlanEntryVersion.entry_id.in_(entries))))
    removed_entries = _delete(session, delete(PlanEntry).where(
        PlanEntry.id.in_(entries))) if entries else 0
    items = [item_id for item_id, categories in session.execute(
        select(AssessmentItem.id, AssessmentItem.categories)
        .where(AssessmentItem.subject_id == subject_id)) if category in categories]
    removed_items = _delete(session, delete(AssessmentItem).where(
        AssessmentItem.id.in_(items))) if items else 0
    minutes = _delete(session, delete(ConferenceMinute).where(
        ConferenceMinute.subject_id == subject_id, ConferenceMinute.category == category))
    return {"plan_entries": removed_entries, "plan_entry_versions": versions,
            "conference_decisions": decisions, "assessment_items": removed_items,
            "conference_minutes": minutes}


def _delete(session: Session, statement: Delete) -> int:
    result = session.execute(statement.execution_options(synchronize_session=False))
    return int(cast(CursorResult[Any], result).rowcount)
