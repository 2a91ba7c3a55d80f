"""Assessment forms from `assessment_forms/`: questions, scoring weights, support levels, flags
and the needs that propose plan actions or referrals, all as data.

A form is partnership data like a consent form: versioned, bilingual, and (once published)
pinned, so a completed assessment can always be re-read against the exact wording the claimant
answered. This module turns a parsed file into frozen values; scoring lives in `scoring.py`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import jsonschema

from caseshare.assessments import form_rules
from caseshare.errors import PolicyFileError
from caseshare.policy import published
from caseshare.policy.loader import read_yaml
from caseshare.policy.models import ProtocolSet

SCHEMA_PATH = Path(__file__).with_name("form.schema.json")
PUBLISHED = published.PUBLISHED

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
    min: float | None = None                          # number questions: the lowest answer
    max: float | None = None                          # number questions: the highest answer

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
    # Other protocols whose parties and purposes referral proposals may name (`protocol` is the
    # one the answers are shared under).
    referral_protocols: tuple[str, ...] = ()

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)

    def rendered(self, language: str) -> str:
        """Every word the form shows in `language`, in form order, one per line: its title, the
        domains, each question with its hint and options, the levels and the proposals. Its
        SHA-256 is pinned in `published.json`, so a published version's wording never changes
        under the assessments made with it."""
        lines = [f"title: {self.title[language]}"]
        lines += [f"domain {d.code}: {d.title[language]}" for d in self.domains]
        for q in self.questions:
            lines.append(f"question {q.id}: {q.text[language]}")
            if q.hint is not None:
                lines.append(f"hint {q.id}: {q.hint[language]}")
            lines += [f"option {q.id}/{o.value}: {o.text[language]}" for o in q.options]
        lines += [f"level {lv.code}: {lv.title[language]}" for lv in self.levels]
        lines += [f"need {n.id}: {n.proposal.title[language]}" for n in self.needs]
        return "\n".join(lines) + "\n"

    def text_hash(self, language: str) -> str:
        return hashlib.sha256(self.rendered(language).encode()).hexdigest()

    def structure(self) -> dict[str, Any]:
        """Everything but the words, as JSON: question ids, types, categories, required,
        options, scoring (weights, bands, levels, flags, needs) and protocols. Pinned beside the
        wording: a stored assessment's scores and explanations must stay reproducible from its
        form version, and its answers were sealed under the categories given here."""
        def question(q: Question) -> dict[str, Any]:
            return {"id": q.id, "type": q.type, "category": q.category, "required": q.required,
                    "options": [o.value for o in q.options], "weights": q.weights,
                    "bands": {d: [[b.min, b.max, b.weight] for b in bands]
                              for d, bands in q.bands.items()},
                    "min": q.min, "max": q.max}
        return {
            "id": self.id, "version": self.version, "languages": list(self.languages),
            "protocol": self.protocol, "referral_protocols": list(self.referral_protocols),
            "domains": [d.code for d in self.domains],
            "questions": [question(q) for q in self.questions],
            "levels": [[lv.code, lv.min_total, lv.min_domain, lv.review_days]
                       for lv in self.levels],
            "flags": [[f.code, f.question, list(f.values)] for f in self.flags],
            "needs": [[n.id, n.domain, n.min_score, n.service_line, n.proposal.kind,
                       n.proposal.category, n.proposal.to_org, n.proposal.purpose,
                       n.proposal.due_in_days] for n in self.needs],
        }

    def structure_hash(self) -> str:
        canonical = json.dumps(self.structure(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    def pinned_hashes(self) -> dict[str, str]:
        """What `published.json` records for this version: the wording per language, and the
        structure under the key `structure`."""
        return {**{lang: self.text_hash(lang) for lang in sorted(self.languages)},
                STRUCTURE: self.structure_hash()}


STRUCTURE = "structure"


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
        min=float(data["min"]) if "min" in data else None,
        max=float(data["max"]) if "max" in data else None,
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
        referral_protocols=tuple(data.get("referral_protocols", ())),
    )


@cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text()))


def file_problems(name: str, data: Any, protocols: ProtocolSet | None) -> list[str]:
    """The schema's problems, else the rules a schema cannot say (form_rules.py); each names
    the file and the field path. Protocol rules only when protocols are given."""
    problems = [
        f"{name}: {'/'.join(str(p) for p in e.absolute_path) or '(top level)'}: {e.message}"
        for e in _validator().iter_errors(data)
    ]
    if problems:
        return problems
    return form_rules.problems(name, data, protocols)


def load_form(path: Path, protocols: ProtocolSet | None = None) -> AssessmentForm:
    """A validated form from its file; a PolicyFileError naming file and fields otherwise."""
    data, _hash = read_yaml(path)
    problems = file_problems(path.name, data, protocols)
    if problems:
        raise PolicyFileError(problems)
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


# How a changed structure is worded when a published version's questions or scoring change.
_CHANGED = {STRUCTURE: "questions: the questions, categories or scoring"}
_COMMAND = "assessments publish"


def published_hashes(directory: Path) -> dict[str, dict[str, str]] | None:
    """`published.json`: per published version (`id@version`) the SHA-256 of its wording in each
    language and of its structure. None when the directory has no register."""
    return published.read_register(directory)


def publication_problems(form: AssessmentForm, register: dict[str, dict[str, str]],
                         require_published: bool) -> list[str]:
    """A published version whose wording or structure changed is always a problem (stored
    assessments rest on it); an unpublished version is one only where publication is required
    (`assessments check`)."""
    return published.problems(form, register, require_published, command=_COMMAND,
                              changed=_CHANGED)


def publish(directory: Path, forms: FormSet) -> list[str]:
    """Pin the hashes of form versions not yet published; never rewrites a published one.
    Returns the `id@version` keys added."""
    return published.publish(directory, forms.forms, command=_COMMAND, changed=_CHANGED)


def load_forms(paths: list[Path], protocols: ProtocolSet | None = None, *,
               require_published: bool = True) -> FormSet:
    """Load and check form files together: each file valid, no id@version twice, and each
    version checked against the `published.json` beside it."""
    problems: list[str] = []
    forms: list[AssessmentForm] = []
    for path in paths:
        try:
            form = load_form(path, protocols)
        except PolicyFileError as exc:
            problems.extend(exc.problems)
            continue
        if any(f.id == form.id and f.version == form.version for f in forms):
            problems.append(f"{path.name}: version: {form.id}@{form.version} is defined twice")
        forms.append(form)
        register = published_hashes(path.parent)
        # No register beside the file: a draft checked on its own (as for consent forms).
        if register is not None:
            problems.extend(publication_problems(form, register, require_published))
    if problems:
        raise PolicyFileError(problems)
    return FormSet(tuple(forms))


def form_paths(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.yaml")) + sorted(directory.glob("*.yml"))


def load_forms_directory(directory: Path, protocols: ProtocolSet | None = None, *,
                         require_published: bool = True) -> FormSet:
    """Every form file of the directory (see load_forms). Start-up passes require_published=
    False, like consent forms: a draft version can be tried, a changed published one refuses
    to start; `assessments check` (and CI) require every version published."""
    return load_forms(form_paths(directory), protocols, require_published=require_published)
