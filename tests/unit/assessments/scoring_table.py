"""Shared pieces of the per-form decision tables: one row is answers and the expected result."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from caseshare.assessments.forms import AssessmentForm, load_forms_directory
from caseshare.assessments.scoring import evaluate, validate_answers

ROOT = Path(__file__).resolve().parents[3]


@cache
def shipped(form_id: str) -> AssessmentForm:
    form = load_forms_directory(ROOT / "assessment_forms").get(form_id, 1)
    assert form is not None
    return form


@dataclass(frozen=True)
class Row:
    name: str
    answers: dict[str, Any]
    scores: dict[str, float]                    # the domains not named score 0
    level: str
    review_days: int
    flags: tuple[str, ...] = ()
    explanations: dict[str, tuple[str, ...]] = field(default_factory=dict)  # others: ()
    needs: tuple[str, ...] = ()


def check(form: AssessmentForm, row: Row) -> None:
    result = evaluate(form, validate_answers(form, row.answers))
    domains = [d.code for d in form.domains]
    assert result.scores == {d: row.scores.get(d, 0.0) for d in domains}
    assert result.total == sum(row.scores.values())
    assert (result.level, result.review_days) == (row.level, row.review_days)
    assert result.flags == row.flags
    assert result.explanations == {d: row.explanations.get(d, ()) for d in domains}
    assert tuple(n.id for n in result.needs) == row.needs
