"""Validate answers against a form and score them: a pure function of (form, answers).

The same answers always give the same result; every score says which answers produced it, so a
worker can explain the result to the claimant, and an IG officer can check it. The rules, in
full, are in docs/assessments.md ("Scoring"); the decision tables and hypothesis properties in
tests/unit/assessments/ hold them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from caseshare.assessments.forms import AssessmentForm, Need, Question
from caseshare.errors import ValidationError

# A normalised answer: str (choice, yes/no, text, ISO date), tuple[str, ...] (multiple choice)
# or float (number).
Answer = str | float | tuple[str, ...]


@dataclass(frozen=True)
class Result:
    scores: dict[str, float]
    total: float
    level: str
    review_days: int
    flags: tuple[str, ...]
    explanations: dict[str, tuple[str, ...]]   # domain -> question ids that scored in it
    needs: tuple[Need, ...]


def _choice(question: Question, value: Any) -> tuple[Answer | None, str | None]:
    if question.type == "yes_no" and isinstance(value, bool):
        value = "yes" if value else "no"     # JSON true/false for a yes/no question
    if not isinstance(value, str) or value not in question.option_values():
        return None, f"must be one of: {', '.join(question.option_values())}"
    return value, None


def _choices(question: Question, value: Any) -> tuple[Answer | None, str | None]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return None, "must be a list of options"
    if any(v not in question.option_values() for v in value):
        # The form's own values only: never echo what was sent (it may be personal data).
        return None, f"each option must be one of: {', '.join(question.option_values())}"
    return tuple(v for v in question.option_values() if v in value), None


def _number(question: Question, value: Any) -> tuple[Answer | None, str | None]:
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not math.isfinite(value):
        return None, "must be a number"
    if question.min is not None and value < question.min:
        return None, f"must be at least {question.min:g}"
    if question.max is not None and value > question.max:
        return None, f"must be at most {question.max:g}"
    return float(value), None


def _date(question: Question, value: Any) -> tuple[Answer | None, str | None]:
    # Only the extended form YYYY-MM-DD (fromisoformat alone also takes 20260101).
    if not isinstance(value, str) or len(value) != 10 or value[4] != "-":
        return None, "must be a date YYYY-MM-DD"
    try:
        return date.fromisoformat(value).isoformat(), None
    except ValueError:
        return None, "must be a date YYYY-MM-DD"


def _short_text(question: Question, value: Any) -> tuple[Answer | None, str | None]:
    if not isinstance(value, str) or len(value) > 500:
        return None, "must be text of at most 500 characters"
    return value.strip(), None


def _missing(value: Any) -> bool:
    return value is None or value == [] or (isinstance(value, str) and not value.strip())


# Each question type's check: the answer in its normal form, or what is wrong with it.
_NORMALISERS: dict[str, Callable[[Question, Any], tuple[Answer | None, str | None]]] = {
    "single_choice": _choice, "yes_no": _choice, "multiple_choice": _choices,
    "number": _number, "date": _date, "short_text": _short_text,
}


def validate_answers(form: AssessmentForm, answers: Mapping[str, Any]) -> dict[str, Answer]:
    """The answers in normal form; a ValidationError naming each bad question otherwise
    (unknown question, missing required answer, wrong type or option)."""
    errors: dict[str, list[str]] = {}
    for question_id in answers:
        if form.question(question_id) is None:
            errors[question_id] = ["is not a question of this form"]
    normal: dict[str, Answer] = {}
    for question in form.questions:
        value = answers.get(question.id)
        if _missing(value):
            if question.required:
                errors[question.id] = ["an answer is required"]
            continue
        answer, problem = _NORMALISERS[question.type](question, value)
        if problem is not None:
            errors[question.id] = [problem]
        elif answer is not None:
            normal[question.id] = answer
    if errors:
        raise ValidationError({f"answers.{k}": v for k, v in errors.items()},
                              "One or more answers are invalid.")
    return normal


def _weight(question: Question, domain: str, answer: Answer) -> float:
    if isinstance(answer, float):
        return next((b.weight for b in question.bands.get(domain, ()) if b.holds(answer)), 0.0)
    weights = question.weights.get(domain, {})
    chosen = answer if isinstance(answer, tuple) else (answer,)
    return sum(weights.get(value, 0.0) for value in chosen)


def evaluate(form: AssessmentForm, answers: Mapping[str, Answer]) -> Result:
    """Score validated answers: per-domain scores (the sum of each answer's weight: chosen
    options' weights, a number's first holding band), the questions that scored in each domain,
    the first level whose min_total the total or whose min_domain the top domain reaches (else
    the last), each flag once, and the needs whose domain reaches min_score."""
    scores = {d.code: 0.0 for d in form.domains}
    explained: dict[str, list[str]] = {d.code: [] for d in form.domains}
    for question in form.questions:
        answer = answers.get(question.id)
        if answer is None:
            continue
        for domain in scores:
            weight = _weight(question, domain, answer)
            if weight:
                scores[domain] += weight
                explained[domain].append(question.id)
    total = sum(scores.values())
    top = max(scores.values(), default=0.0)
    level = next((lv for lv in form.levels
                  if total >= lv.min_total or (lv.min_domain is not None and top >= lv.min_domain)),
                 form.levels[-1])
    # Each flag once, in file order, though several questions may raise it.
    flags = tuple(dict.fromkeys(f.code for f in form.flags
                                if _matches(answers.get(f.question), f.values)))
    needs = tuple(n for n in form.needs if scores.get(n.domain, 0.0) >= n.min_score)
    return Result(scores=scores, total=total, level=level.code, review_days=level.review_days,
                  flags=flags, explanations={k: tuple(v) for k, v in explained.items()},
                  needs=needs)


def _matches(answer: Answer | None, values: tuple[str, ...]) -> bool:
    if answer is None or isinstance(answer, float):
        return False
    chosen = answer if isinstance(answer, tuple) else (answer,)
    return any(v in values for v in chosen)
