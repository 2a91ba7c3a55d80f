"""What the assessment pages read from a submitted question page, what they keep between pages,
and the error messages in the assessment's language.

The draft (the answers so far) waits in the session cookie, sealed (AES-GCM, `sealed_drafts`:
the signed cookie alone is readable by whoever holds it), keyed by question id, and holds only
option codes, yes/no, numbers and ISO dates: never the claimant's name, and never
free text. Short-text questions are asked on the check-your-answers page itself (the one POST
that records the assessment), so what is typed there is only ever in that request; an error or
a refusal re-renders the page with it.

The checks are the form's own (`scoring.validate_answers`); its messages are English and meant
for the API, so the page words each error by question type, through gettext, in the language
the claimant is answering in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Any

from werkzeug.datastructures import MultiDict

from caseshare.assessments.forms import AssessmentForm, Question
from caseshare.assessments.scoring import validate_answers
from caseshare.errors import ValidationError
from caseshare.web import forms
from caseshare.web.i18n import N_, _, local_date

DRAFT = "assessment_draft"

# Per question type: (no answer given, the answer is not right). Shown in the assessment's
# language; a required question without an answer and a bad answer read differently.
MESSAGES: dict[str, tuple[str, str]] = {
    "single_choice": (N_("Select an answer"), N_("Select one of the answers")),
    "yes_no": (N_("Select yes or no"), N_("Select yes or no")),
    "multiple_choice": (N_("Select at least one answer"),
                        N_("Select from the answers shown")),
    "number": (N_("Enter a number"), N_("Enter a number, like 3")),
    "date": (N_("Enter a date"), N_("Enter a real date, like 27 3 2026")),
    "short_text": (N_("Enter an answer"), N_("Answer must be 500 characters or fewer")),
}


@dataclass(frozen=True)
class Draft:
    """An assessment being answered: for which claimant, which form, in which language."""

    subject: str
    form_id: str
    version: int
    lang: str
    answers: dict[str, Any]

    def stored(self) -> dict[str, Any]:
        return {"subject": self.subject, "form": self.form_id, "version": self.version,
                "lang": self.lang, "answers": self.answers}


def draft_from(stored: Any, subject_id: str) -> Draft | None:
    """The draft in the cookie, if it is for this claimant (one assessment at a time)."""
    if not isinstance(stored, dict) or stored.get("subject") != subject_id:
        return None
    return Draft(subject_id, str(stored.get("form")), int(stored.get("version") or 0),
                 str(stored.get("lang") or "en"), dict(stored.get("answers") or {}))


def field_id(question: Question) -> str:
    """The id of the input the error summary links to (the first box of a date)."""
    return f"{question.id}-day" if question.type == "date" else question.id


def typed(question: Question, submitted: MultiDict[str, str]) -> Any:
    """What was typed for `question`, as typed (for re-rendering the page)."""
    if question.type == "multiple_choice":
        return submitted.getlist(question.id)
    if question.type == "date":
        return forms.date_parts(submitted, question.id)
    return forms.text(submitted, question.id)


def answer(question: Question, value: Any) -> Any:
    """The typed value as the API would send it: a number as a number and a date as
    YYYY-MM-DD when they read as one (otherwise as typed, so the form's check names it), a
    list for a multiple choice, None for no answer."""
    if question.type == "number":
        if value == "":
            return None
        try:
            number = float(str(value).replace(",", ""))
        except ValueError:
            return value
        if not math.isfinite(number):
            return value
        return int(number) if number.is_integer() else number
    if question.type == "date":
        if not any(value.values()):
            return None
        parsed = forms.parse_date(value)
        return parsed.isoformat() if parsed else "not a date"
    return value if value not in ("", []) else None


def problem(question: Question, value: Any, lang_errors: dict[str, list[str]]) -> str | None:
    """The page's message for `question` if the form's check found something wrong."""
    if f"answers.{question.id}" not in lang_errors:
        return None
    missing, wrong = MESSAGES[question.type]
    return _(missing if value is None else wrong)


def check_one(form: AssessmentForm, question: Question, value: Any) -> str | None:
    """Check one page's answer with the form's own rules (the other questions left out)."""
    others = {q.id: None for q in form.questions if q.id != question.id}
    try:
        validate_answers(form, {**others, question.id: value})
    except ValidationError as exc:
        return problem(question, value, exc.extra["errors"])
    return None


def check_all(form: AssessmentForm, answers: dict[str, Any]) -> dict[str, str]:
    """Every question's message (field id -> message) for a whole set of answers."""
    try:
        validate_answers(form, answers)
    except ValidationError as exc:
        found: dict[str, list[str]] = exc.extra["errors"]
        return {q.id: message for q in form.questions
                if (message := problem(q, answers.get(q.id), found)) is not None}
    return {}


def shown(question: Question, value: Any, lang: str) -> list[str]:
    """An answer in words, in the assessment's language (an option's text, not its code)."""
    if value is None or value == [] or value == "":
        return []
    if question.type == "yes_no":
        return [_("Yes") if value == "yes" else _("No")]
    if question.type in ("single_choice", "multiple_choice"):
        texts = {o.value: o.text.get(lang, o.text["en"]) for o in question.options}
        chosen = value if isinstance(value, list | tuple) else [value]
        return [texts.get(str(v), str(v)) for v in chosen]
    if question.type == "date":
        return [local_date(date.fromisoformat(str(value)))]
    if isinstance(value, float) and value.is_integer():
        return [str(int(value))]
    return [str(value)]


def words(text: dict[str, str] | None, lang: str) -> str:
    """A form's text in the assessment's language (English if it has none)."""
    if not text:
        return ""
    return text.get(lang) or text.get("en", "")
