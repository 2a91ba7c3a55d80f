"""Consent form templates from `consent_forms/`: validated at start-up, rendered, hashed.

A form offers only what some flow of its protocols carries (`uncarried_options`), so nobody is
asked to consent to sharing that can never happen. A form that should no longer be offered is
retired by a new version that says so (`Retirement`), never by editing a published one.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
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
    # The protocols whose flows the form's options rely on (`protocols:` in the file).
    protocols: tuple[str, ...] = ()

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


@dataclass(frozen=True)
class Retirement:
    """A version that retires a form: no new consent may be recorded on any version of it (the
    earlier versions stay loaded, so consents made on them keep their text and receipts)."""

    id: str
    version: int
    reason: str
    replaced_by: tuple[str, ...]
    source_file: str
    languages: tuple[str, ...] = ()

    def pinned_hashes(self) -> dict[str, str]:
        """What `published.json` records: the retirement itself, so it cannot be edited either."""
        words = json.dumps({"reason": " ".join(self.reason.split()),
                            "replaced_by": list(self.replaced_by)}, sort_keys=True)
        return {"retired": hashlib.sha256(words.encode()).hexdigest()}


@cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text()))


def load_form(path: Path, protocols: ProtocolSet | None = None) -> ConsentForm | Retirement:
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
    if "retired" in data:
        retired = data["retired"]
        return Retirement(id=data["id"], version=data["version"], reason=retired["reason"],
                          replaced_by=tuple(retired.get("replaced_by", ())), source_file=name)
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
        protocols=tuple(data["protocols"]),
    )


def _semantic_problems(
    name: str, data: dict[str, Any], protocols: ProtocolSet | None
) -> list[str]:
    if "retired" in data:
        return []
    problems = [f"{name}: text/{lang}: language listed but no text given"
                for lang in data["languages"] if lang not in data["text"]]
    if protocols is not None:
        problems += _unknown_options(name, data["options"], protocols)
        problems += [f"{name}: protocols: unknown protocol {pid!r}"
                     for pid in data["protocols"]
                     if not any(p.id == pid for p in protocols.protocols)]
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


def uncarried_options(form: ConsentForm, protocols: ProtocolSet) -> list[str]:
    """The recipients, purposes and categories the form offers that no flow of its protocols
    carries (a recipient: no flow brings data to it), each problem naming the option."""
    flows = [flow for p in protocols.protocols if p.id in form.protocols for flow in p.flows]
    carried = {
        "recipients": {org for flow in flows for org in flow.to_orgs},
        "purposes": {purpose for flow in flows for purpose in flow.purposes},
        "categories": {category for flow in flows for category in flow.categories},
    }
    offered = {"recipients": form.recipients, "purposes": form.purposes,
               "categories": form.categories}
    named = ", ".join(form.protocols)
    return [f"{form.source_file}: options/{key}: {option!r} is carried by no flow of its "
            f"protocols ({named}); a form may not ask for consent to sharing that cannot happen"
            for key, options in offered.items() for option in options
            if option not in carried[key]]


@dataclass(frozen=True)
class FormSet:
    forms: dict[tuple[str, int], ConsentForm]
    # Form id -> the version that retired it.
    retired: dict[str, Retirement] = field(default_factory=dict)
    # Problems that cannot be fixed in place (a published version offering an option no flow
    # carries): `forms check` prints them and start-up logs them; the fix is a new version.
    warnings: tuple[str, ...] = ()

    def get(self, form_id: str, version: int) -> ConsentForm | None:
        return self.forms.get((form_id, version))

    def retirement(self, form_id: str) -> Retirement | None:
        return self.retired.get(form_id)

    def current(self) -> list[ConsentForm]:
        """The latest version of each form still offered (retired forms are not)."""
        latest: dict[str, ConsentForm] = {}
        for form in self.forms.values():
            if form.id in self.retired:
                continue
            if form.id not in latest or form.version > latest[form.id].version:
                latest[form.id] = form
        return sorted(latest.values(), key=lambda f: f.id)

    def current_for(self, org: str) -> ConsentForm | None:
        """The current form naming `org` as a recipient: the one its staff record consent on."""
        return next((f for f in self.current() if org in f.recipients), None)


PUBLISHED = published.PUBLISHED
# How a changed retirement is named when its published hash no longer matches.
RETIREMENT_FIELDS = {"retired": "retired/reason or retired/replaced_by"}


def published_hashes(directory: Path) -> dict[str, dict[str, str]] | None:
    """`published.json`: the SHA-256 of each published form version's text, per language.

    Consents pin these hashes, so a published version's wording can never change: a change is a
    new version. None when the directory has no register (e.g. a draft checked on its own).
    """
    return published.read_register(directory)


def publish(directory: Path, forms: FormSet) -> list[str]:
    """Add the hashes of form versions not yet published; never rewrites a published one."""
    return published.publish(directory, [*forms.forms.values(), *forms.retired.values()],
                             command="forms publish", changed=RETIREMENT_FIELDS)


@dataclass
class _Loading:
    problems: list[str] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (form id, warning)
    forms: dict[tuple[str, int], ConsentForm] = field(default_factory=dict)
    retired: dict[str, Retirement] = field(default_factory=dict)
    seen: set[tuple[str, int]] = field(default_factory=set)


def _carriage(loading: _Loading, form: ConsentForm, protocols: ProtocolSet | None,
              register: dict[str, dict[str, str]] | None) -> None:
    """Uncarried options are errors, except in a version already published: its options are
    fixed (consents rely on them), so they are warnings asking for a new version."""
    if protocols is None:
        return
    found = uncarried_options(form, protocols)
    if register is not None and f"{form.id}@{form.version}" in register:
        loading.warnings += [(form.id, f"{problem} (published: offer a new version without it)")
                             for problem in found]
    else:
        loading.problems += found


def _load_one(loading: _Loading, path: Path, protocols: ProtocolSet | None,
              require_published: bool) -> None:
    try:
        form = load_form(path, protocols)
    except PolicyFileError as exc:
        loading.problems.extend(exc.problems)
        return
    key = (form.id, form.version)
    if key in loading.seen:
        loading.problems.append(f"{path.name}: id/version {form.id}@{form.version} defined twice")
    loading.seen.add(key)
    register = published_hashes(path.parent)
    if isinstance(form, Retirement):
        loading.retired[form.id] = form
    else:
        loading.forms[key] = form
        _carriage(loading, form, protocols, register)
    if register is not None:
        loading.problems.extend(published.problems(form, register, require_published,
                                                   command="forms publish",
                                                   changed=RETIREMENT_FIELDS))


def _retirement_problems(loading: _Loading) -> list[str]:
    """A retirement comes after the versions it retires and names forms that exist."""
    known = {form_id for form_id, _version in loading.forms}
    problems = []
    for retirement in loading.retired.values():
        if retirement.id not in known:
            problems.append(f"{retirement.source_file}: id: no version of {retirement.id!r} "
                            "to retire")
        if any(f.id == retirement.id and f.version > retirement.version
               for f in loading.forms.values()):
            problems.append(f"{retirement.source_file}: version: a retired form has no later "
                            f"versions")
        problems += [f"{retirement.source_file}: retired/replaced_by: unknown form {other!r}"
                     for other in retirement.replaced_by
                     if other not in known or other in loading.retired]
    return problems


def load_forms(paths: list[Path], protocols: ProtocolSet | None = None, *,
               require_published: bool = True) -> FormSet:
    loading = _Loading()
    for path in paths:
        _load_one(loading, path, protocols, require_published)
    if len(paths) > 1:  # a single file checked on its own cannot see the forms it names
        loading.problems += _retirement_problems(loading)
    if loading.problems:
        raise PolicyFileError(loading.problems)
    # A retired form is offered to nobody, so what it offers no longer matters.
    warnings = tuple(warning for form_id, warning in loading.warnings
                     if form_id not in loading.retired)
    return FormSet(loading.forms, loading.retired, warnings)


def form_paths(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.yaml")) + sorted(directory.glob("*.yml"))


def load_forms_directory(directory: Path, protocols: ProtocolSet | None = None, *,
                         require_published: bool = True) -> FormSet:
    paths = form_paths(directory)
    if not paths:
        raise PolicyFileError([f"{directory}: no consent form files found"])
    return load_forms(paths, protocols, require_published=require_published)
