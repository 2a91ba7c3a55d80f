"""The register of published form versions, `published.json` beside the form files: for each
published `id@version`, the SHA-256 of what may never change once people have answered it (the
wording per language; for assessment forms also the structure). Consent forms and assessment
forms keep their registers the same way, so the rules live here once."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Protocol

from caseshare.errors import PolicyFileError

PUBLISHED = "published.json"
Register = dict[str, dict[str, str]]


class Pinnable(Protocol):
    """A form version whose hashes a register pins."""

    @property
    def id(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def source_file(self) -> str: ...
    @property
    def languages(self) -> tuple[str, ...]: ...
    def pinned_hashes(self) -> dict[str, str]: ...


def read_register(directory: Path) -> Register | None:
    """The register in `directory`; None when there is none (e.g. a draft checked on its own)."""
    path = directory / PUBLISHED
    if not path.exists():
        return None
    data: Register = json.loads(path.read_text(encoding="utf-8"))
    return data


def problems(form: Pinnable, register: Register, require_published: bool, *, command: str,
             changed: Mapping[str, str] | None = None) -> list[str]:
    """A published version whose pinned hashes changed is always a problem; an unpublished one
    only where publication is required (the `check` commands). `changed` words the problem for
    a pinned key that is not a language (field path and what changed)."""
    key = f"{form.id}@{form.version}"
    pinned = register.get(key)
    if pinned is None:
        if not require_published:
            return []
        return [f"{form.source_file}: version: {key} is not in {PUBLISHED}; publish it with "
                f"`flask --app wsgi caseshare {command}`"]
    found = []
    for name, digest in form.pinned_hashes().items():
        if pinned.get(name) == digest:
            continue
        if name in form.languages:
            found.append(f"{form.source_file}: text/{name}: wording differs from published "
                         f"{key}; changing a form's wording requires a new version")
        else:
            found.append(f"{form.source_file}: {(changed or {}).get(name, name)} differ from "
                         f"published {key}; changing them requires a new version")
    return found


def publish(directory: Path, forms: Iterable[Pinnable], *, command: str,
            changed: Mapping[str, str] | None = None) -> list[str]:
    """Pin the hashes of the versions not yet published; never rewrites a published one (a
    changed published version is refused, naming it). Returns the `id@version` keys added."""
    register = read_register(directory) or {}
    forms = list(forms)
    refused = [problem for form in forms
               for problem in problems(form, register, False, command=command, changed=changed)]
    if refused:
        raise PolicyFileError(refused)
    added = []
    for form in forms:
        key = f"{form.id}@{form.version}"
        if key not in register:
            register[key] = form.pinned_hashes()
            added.append(key)
    (directory / PUBLISHED).write_text(json.dumps(register, indent=2, sort_keys=True) + "\n",
                                       encoding="utf-8")
    return sorted(added)
