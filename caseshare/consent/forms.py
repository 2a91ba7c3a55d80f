"""Consent form templates from `consent_forms/`: validated at start-up, rendered, hashed."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from caseshare.errors import PolicyFileError
from caseshare.policy import published
from caseshare.policy.loader import read_yaml
from caseshare.policy.models import ProtocolSet

SCHEMA_PATH = Path(__file__).with_name("form.schema.json")


@dataclass(frozen=True)
class ConsentForm:
    id: str
    version: int
    title: str
    languages: tuple[str, ...]
    recipients: tuple[str, ...]
    purposes: tuple[str, ...]
    categories: tuple[str, ...]
    max_duration_days: int
    text: dict[str, dict[str, str]]
    source_file: str

    def rendered(self, language: str) -> str:
        """The exact text shown to the claimant; its SHA-256 is pinned in each consent."""
        t = self.text[language]
        parts = [t["title"], "", t["body"].strip()]
        if "explicit_statement" in t:
            parts += ["", t["explicit_statement"].strip()]
        return "\n".join(parts) + "\n"

    def text_hash(self, language: str) -> str:
        return hashlib.sha256(self.rendered(language).encode()).hexdigest()

    def pinned_hashes(self) -> dict[str, str]:
        """What `published.json` records for this version: the wording per language."""
        return {lang: self.text_hash(lang) for lang in sorted(self.languages)}


@cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text()))


def load_form(path: Path, protocols: ProtocolSet | None = None) -> ConsentForm:
    data, _hash = read_yaml(path)
    name = path.name
    problems = [
        f"{name}: {'/'.join(str(p) for p in e.absolute_path) or '(top level)'}: {e.message}"
        for e in _validator().iter_errors(data)
    ]
    if not problems:
        problems = _semantic_problems(name, data, protocols)
    if problems:
        raise PolicyFileError(problems)
    options = data["options"]
    return ConsentForm(
        id=data["id"],
        version=data["version"],
        title=data["title"],
        languages=tuple(data["languages"]),
        recipients=tuple(options["recipients"]),
        purposes=tuple(options["purposes"]),
        categories=tuple(options["categories"]),
        max_duration_days=options["max_duration_days"],
        text=data["text"],
        source_file=name,
    )


def _semantic_problems(
    name: str, data: dict[str, Any], protocols: ProtocolSet | None
) -> list[str]:
    problems = [f"{name}: text/{lang}: language listed but no text given"
                for lang in data["languages"] if lang not in data["text"]]
    if protocols is not None:
        problems += _unknown_options(name, data["options"], protocols)
        problems += _missing_explicit_statements(name, data, protocols)
    return problems


def _unknown_options(name: str, options: dict[str, Any], protocols: ProtocolSet) -> list[str]:
    """Recipients, purposes and categories the protocols do not declare."""
    known_orgs = set(protocols.by_party)
    return (
        [f"{name}: options/recipients: {org!r} is not a party to any protocol"
         for org in options["recipients"] if org not in known_orgs]
        + [f"{name}: options/purposes: unknown purpose {purpose!r}"
           for purpose in options["purposes"] if purpose not in protocols.purposes]
        + [f"{name}: options/categories: unknown category {category!r}"
           for category in options["categories"] if category not in protocols.categories]
    )


def _missing_explicit_statements(name: str, data: dict[str, Any],
                                 protocols: ProtocolSet) -> list[str]:
    """A form covering special or criminal categories needs the explicit statement in every
    language it offers."""
    sensitive = [c for c in data["options"]["categories"] if protocols.is_sensitive(c)]
    if not sensitive:
        return []
    return [f"{name}: text/{lang}/explicit_statement: required because the form covers "
            f"special or criminal categories {sensitive}"
            for lang in data["languages"]
            if "explicit_statement" not in data["text"].get(lang, {})]


@dataclass(frozen=True)
class FormSet:
    forms: dict[tuple[str, int], ConsentForm]

    def get(self, form_id: str, version: int) -> ConsentForm | None:
        return self.forms.get((form_id, version))

    def current(self) -> list[ConsentForm]:
        latest: dict[str, ConsentForm] = {}
        for form in self.forms.values():
            if form.id not in latest or form.version > latest[form.id].version:
                latest[form.id] = form
        return sorted(latest.values(), key=lambda f: f.id)


PUBLISHED = published.PUBLISHED


def published_hashes(directory: Path) -> dict[str, dict[str, str]] | None:
    """`published.json`: the SHA-256 of each published form version's text, per language.

    Consents pin these hashes, so a published version's wording can never change: a change is a
    new version. None when the directory has no register (e.g. a draft checked on its own).
    """
    return published.read_register(directory)


def _publication_problems(form: ConsentForm, register: dict[str, dict[str, str]],
                          require_published: bool) -> list[str]:
    """A published version whose wording changed is always a problem (consents pin its hash);
    an unpublished version is one only where publication is required (`forms check`)."""
    return published.problems(form, register, require_published, command="forms publish")


def publish(directory: Path, forms: FormSet) -> list[str]:
    """Add the hashes of form versions not yet published; never rewrites a published one."""
    return published.publish(directory, forms.forms.values(), command="forms publish")


def load_forms(paths: list[Path], protocols: ProtocolSet | None = None, *,
               require_published: bool = True) -> FormSet:
    problems: list[str] = []
    forms: dict[tuple[str, int], ConsentForm] = {}
    for path in paths:
        try:
            form = load_form(path, protocols)
        except PolicyFileError as exc:
            problems.extend(exc.problems)
            continue
        key = (form.id, form.version)
        if key in forms:
            problems.append(f"{path.name}: id/version {form.id}@{form.version} defined twice")
        forms[key] = form
        register = published_hashes(path.parent)
        if register is not None:
            problems.extend(_publication_problems(form, register, require_published))
    if problems:
        raise PolicyFileError(problems)
    return FormSet(forms)


def form_paths(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.yaml")) + sorted(directory.glob("*.yml"))


def load_forms_directory(directory: Path, protocols: ProtocolSet | None = None, *,
                         require_published: bool = True) -> FormSet:
    paths = form_paths(directory)
    if not paths:
        raise PolicyFileError([f"{directory}: no consent form files found"])
    return load_forms(paths, protocols, require_published=require_published)
