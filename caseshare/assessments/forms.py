"""Assessment forms from `assessment_forms/`: questions, scoring weights, support levels, flags
and the needs that propose plan actions or referrals, all as data.

A form is partnership data like a consent form: versioned, bilingual, and (once published)
pinned, so a completed assessment can always be re-read against the exact wording the claimant
answered. This module turns a parsed file into frozen values; scoring lives in `scoring.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from caseshare.policy.loader import read_yaml

QuestionType = Literal["single_choice", "multiple_choice", "yes_no", "number", "date",
                       "short_text"]
QUESTION_TYPES: tuple[str, ...] = ("single_choice", "multiple_choice", "yes_no", "number",
                                   "date", "short_text")
YES_NO = ("yes", "no")

# Words in each language: {"en": "...", "cy": "..."}.
Text = dict[str, str]


@dataclass(frozen=True)
class Option:
    value: str
    text: Text


@dataclass(frozen=True)
class Band:
    """A weight for a number answer in [min, max] (either end open when None)."""

    min: float | None
    max: float | None
    weight: float

    def holds(self, value: float) -> bool:
        return ((self.min is None or value >= self.min)
                and (self.max is None or value <= self.max))


@dataclass(frozen=True)
class Question:
    id: str
    type: QuestionType
    category: str            # the data category the answer discloses (sealed under it)
    required: bool
    text: Text
    hint: Text | None
    options: tuple[Option, ...]                       # single/multiple choice; yes/no implied
    weights: dict[str, dict[str, float]]              # domain -> option value -> weight
    bands: dict[str, tuple[Band, ...]]                # domain -> bands (number questions)

    def option_values(self) -> tuple[str, ...]:
        if self.type == "yes_no":
            return YES_NO
        return tuple(o.value for o in self.options)


@dataclass(frozen=True)
class Domain:
    code: str
    title: Text


@dataclass(frozen=True)
class Level:
    """A support level; the first level (in file order) whose threshold is met applies."""

    code: str
    title: Text
    min_total: float
    min_domain: float | None     # or any one domain at least this
    review_days: int


@dataclass(frozen=True)
class Flag:
    """A "harder to help" flag raised when `question` is answered with one of `values`."""

    code: str
    question: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class ProposalTemplate:
    kind: Literal["action", "referral"]
    title: Text
    category: str | None        # action: the plan category it is written under
    to_org: str | None          # referral: the receiving organisation
    purpose: str | None         # referral: the purpose it is made for
    due_in_days: int | None


@dataclass(frozen=True)
class Need:
    """A need found when `domain` scores at least `min_score`; it proposes `proposal` under an
    LSSF service line."""

    id: str
    domain: str
    min_score: float
    service_line: str
    proposal: ProposalTemplate


@dataclass(frozen=True)
class AssessmentForm:
    id: str
    version: int
    title: Text
    languages: tuple[str, ...]
    protocol: str | None
    domains: tuple[Domain, ...]
    questions: tuple[Question, ...]
    levels: tuple[Level, ...]
    flags: tuple[Flag, ...]
    needs: tuple[Need, ...]
    source_file: str

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)


def _text(value: Any) -> Text:
    return {str(k): str(v) for k, v in dict(value).items()}


def _question(data: dict[str, Any]) -> Question:
    weights: dict[str, dict[str, float]] = {}
    bands: dict[str, tuple[Band, ...]] = {}
    for domain, spec in (data.get("scores") or {}).items():
        if isinstance(spec, list):
            bands[domain] = tuple(Band(b.get("min"), b.get("max"), float(b["weight"]))
                                  for b in spec)
        else:
            weights[domain] = {str(k): float(v) for k, v in spec.items()}
    return Question(
        id=data["id"], type=data["type"], category=data["category"],
        required=bool(data.get("required", True)), text=_text(data["text"]),
        hint=_text(data["hint"]) if data.get("hint") else None,
        options=tuple(Option(str(o["value"]), _text(o["text"])) for o in data.get("options", [])),
        weights=weights, bands=bands,
    )


def _proposal(data: dict[str, Any]) -> ProposalTemplate:
    return ProposalTemplate(kind=data["kind"], title=_text(data["title"]),
                            category=data.get("category"), to_org=data.get("to_org"),
                            purpose=data.get("purpose"), due_in_days=data.get("due_in_days"))


def build_form(name: str, data: dict[str, Any]) -> AssessmentForm:
    """Frozen values from a parsed (and already validated) form file."""
    return AssessmentForm(
        id=data["id"], version=int(data["version"]), title=_text(data["title"]),
        languages=tuple(data["languages"]), protocol=data.get("protocol"),
        domains=tuple(Domain(d["code"], _text(d["title"])) for d in data["domains"]),
        questions=tuple(_question(q) for q in data["questions"]),
        levels=tuple(Level(lv["code"], _text(lv["title"]), float(lv.get("min_total", 0)),
                           lv.get("min_domain"), int(lv["review_days"]))
                     for lv in data["levels"]),
        flags=tuple(Flag(f["code"], f["question"], tuple(str(v) for v in f["values"]))
                    for f in data.get("flags", [])),
        needs=tuple(Need(n["id"], n["domain"], float(n["min_score"]), n["service_line"],
                         _proposal(n["proposal"])) for n in data.get("needs", [])),
        source_file=name,
    )


def load_form(path: Path) -> AssessmentForm:
    data, _hash = read_yaml(path)
    return build_form(path.name, data)


@dataclass(frozen=True)
class FormSet:
    forms: tuple[AssessmentForm, ...]

    def get(self, form_id: str, version: int) -> AssessmentForm | None:
        return next((f for f in self.forms if f.id == form_id and f.version == version), None)

    def current(self) -> list[AssessmentForm]:
        """The newest version of each form."""
        newest: dict[str, AssessmentForm] = {}
        for form in self.forms:
            if form.id not in newest or form.version > newest[form.id].version:
                newest[form.id] = form
        return sorted(newest.values(), key=lambda f: f.id)


def load_forms_directory(directory: Path) -> FormSet:
    return FormSet(tuple(load_form(p) for p in sorted(directory.glob("*.yaml"))))
