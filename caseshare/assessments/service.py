"""Completed assessments on a session: store one sealed item by item, read them back, record
accepted proposals. Never commits (the edge's unit of work does); no decision here: the caller
(caseshare/access/assessments.py) decides which items may be opened.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select
from sqlalchemy.orm import Session

from caseshare.assessments.forms import AssessmentForm
from caseshare.assessments.models import Assessment, AssessmentAcceptance, AssessmentItem
from caseshare.assessments.scoring import Answer, Result
from caseshare.case_plan.conflicts import flush_or_conflict
from caseshare.crypto.sealing import FieldRef, open_sealed, seal
from caseshare.errors import ConflictError
from caseshare.facts import Principal


@dataclass(frozen=True)
class ItemSpec:
    """Where one item of a completed form lives and which categories it discloses."""

    kind: str
    key: str
    categories: tuple[str, ...]


def layout(form: AssessmentForm) -> list[ItemSpec]:
    """Every item a completed `form` is stored as, whatever was answered (models.py says why):
    an answer per question, a score per domain (under the categories of every question that can
    score in it), the flags per category of the questions flags are raised from, and the
    summary (level and review date) under the categories of every scoring question."""
    specs = [ItemSpec("answer", q.id, (q.category,)) for q in form.questions]
    scoring: set[str] = set()
    for domain in form.domains:
        cats = domain_categories(form, domain.code)
        scoring |= set(cats)
        specs.append(ItemSpec("score", domain.code, cats))
    flag_categories = sorted({q.category for f in form.flags
                              if (q := form.question(f.question)) is not None})
    specs += [ItemSpec("flags", c, (c,)) for c in flag_categories]
    specs.append(ItemSpec("summary", "summary", tuple(sorted(scoring))))
    return specs


def domain_categories(form: AssessmentForm, domain: str) -> tuple[str, ...]:
    """The categories of every question of `form` that can score in `domain` (not only those
    that did: which questions scored is itself what the answers say)."""
    return tuple(sorted({q.category for q in form.questions
                         if domain in q.weights or domain in q.bands}))


def flag_category(form: AssessmentForm, code: str) -> str | None:
    flag = next((f for f in form.flags if f.code == code), None)
    question = form.question(flag.question) if flag else None
    return question.category if question else None


def item_ref(item: AssessmentItem) -> FieldRef:
    return FieldRef(item.subject_id, "assessment_item", str(item.id), f"{item.kind}:{item.key}",
                    "+".join(item.categories))


def _plain(answer: Answer | None) -> Any:
    return list(answer) if isinstance(answer, tuple) else answer


def item_values(form: AssessmentForm, answers: Mapping[str, Answer], result: Result,
                review_on: str) -> dict[tuple[str, str], Any]:
    """The plain value of every item of `layout(form)`."""
    values: dict[tuple[str, str], Any] = {}
    for q in form.questions:
        values[("answer", q.id)] = _plain(answers.get(q.id))
    for domain in form.domains:
        values[("score", domain.code)] = {
            "score": result.scores.get(domain.code, 0.0),
            "explanation": list(result.explanations.get(domain.code, ()))}
    for spec in layout(form):
        if spec.kind == "flags":
            values[("flags", spec.key)] = [
                code for code in result.flags if flag_category(form, code) == spec.key]
    values[("summary", "summary")] = {"level": result.level, "review_on": review_on}
    return values


def store(session: Session, *, subject_id: uuid.UUID, form: AssessmentForm, language: str,
          answers: Mapping[str, Answer], result: Result, review_on: str, data_key: bytes,
          principal: Principal, purpose: str, now: datetime,
          own_record: frozenset[str] = frozenset()) -> Assessment:
    """Store a completed assessment: the plain record and every item sealed under the subject's
    data key, bound to its item (subject, record, field, categories). Items with a category in
    `own_record` are marked so only the caller's organisation will see them."""
    assessment = Assessment(
        id=uuid.uuid4(), subject_id=subject_id, form_id=form.id, form_version=form.version,
        language=language, purpose=purpose, completed_at=now, completed_by=principal.actor_uuid,
        completed_org=principal.org)
    session.add(assessment)
    values = item_values(form, answers, result, review_on)
    for spec in layout(form):
        item = AssessmentItem(id=uuid.uuid4(), assessment_id=assessment.id,
                              subject_id=subject_id, kind=spec.kind, key=spec.key,
                              categories=list(spec.categories),
                              own_record=bool(own_record & set(spec.categories)))
        item.value = seal(data_key, 1, item_ref(item),
                          json.dumps(values[(spec.kind, spec.key)], sort_keys=True))
        session.add(item)
    session.flush()
    return assessment


def open_item(item: AssessmentItem, data_key: bytes | AESGCM) -> Any:
    return json.loads(open_sealed(data_key, item_ref(item), item.value))


def assessments_of(session: Session, subject_id: uuid.UUID) -> list[Assessment]:
    """The subject's assessments, oldest first."""
    return list(session.scalars(
        select(Assessment).where(Assessment.subject_id == subject_id)
        .order_by(Assessment.completed_at, Assessment.id)))


def find(session: Session, subject_id: uuid.UUID, assessment_id: uuid.UUID) -> Assessment | None:
    found = session.get(Assessment, assessment_id)
    return found if found is not None and found.subject_id == subject_id else None


def items_of(session: Session, assessment_ids: Iterable[uuid.UUID]) -> dict[
        uuid.UUID, list[AssessmentItem]]:
    ids = list(assessment_ids)
    out: dict[uuid.UUID, list[AssessmentItem]] = {i: [] for i in ids}
    if ids:
        for item in session.scalars(select(AssessmentItem)
                                    .where(AssessmentItem.assessment_id.in_(ids))):
            out[item.assessment_id].append(item)
    return out


def acceptances_of(session: Session, assessment_ids: Iterable[uuid.UUID]) -> dict[
        uuid.UUID, dict[str, AssessmentAcceptance]]:
    ids = list(assessment_ids)
    out: dict[uuid.UUID, dict[str, AssessmentAcceptance]] = {i: {} for i in ids}
    if ids:
        for row in session.scalars(select(AssessmentAcceptance)
                                   .where(AssessmentAcceptance.assessment_id.in_(ids))):
            out[row.assessment_id][row.proposal_id] = row
    return out


class AlreadyAcceptedError(ConflictError):
    def __init__(self, audit_id: uuid.UUID | None = None) -> None:
        super().__init__("This proposal has already been accepted.", audit_id=audit_id)


def record_acceptance(session: Session, *, assessment: Assessment, proposal_id: str,
                      created_kind: str, created_id: uuid.UUID, principal: Principal,
                      now: datetime) -> AssessmentAcceptance:
    """Record that a proposal was accepted; a second acceptance (even a concurrent one) is a
    409."""
    row = AssessmentAcceptance(assessment_id=assessment.id, proposal_id=proposal_id,
                               created_kind=created_kind, created_id=created_id, accepted_at=now,
                               accepted_by=principal.actor_uuid, accepted_org=principal.org)
    session.add(row)
    flush_or_conflict(session, AlreadyAcceptedError, unique=True)
    return row
