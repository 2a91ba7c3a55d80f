"""Load and validate protocol files. Every problem names the file and the place in it."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from caseshare.errors import PolicyFileError
from caseshare.policy.models import (
    BUILTIN_ROLES,
    Category,
    Flow,
    Grant,
    OverrideRule,
    Party,
    Protocol,
    ProtocolSet,
)

SCHEMA_PATH = Path(__file__).with_name("protocol.schema.json")


@cache
def _validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text())
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def _stringify_dates(value: Any) -> Any:
    """YAML turns 2026-01-01 into a date; the schema checks the text form."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _stringify_dates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_stringify_dates(v) for v in value]
    return value


def read_yaml(path: Path) -> tuple[dict[str, Any], str]:
    """Parse a YAML mapping; return it with the SHA-256 of the file's exact bytes."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PolicyFileError([f"{path.name}: cannot read file ({exc.strerror})"]) from exc
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise PolicyFileError([f"{path.name}: malformed YAML{where}"]) from exc
    if not isinstance(data, dict):
        raise PolicyFileError([f"{path.name}: top level must be a mapping"])
    return _stringify_dates(data), hashlib.sha256(raw).hexdigest()


def _schema_problems(name: str, data: dict[str, Any]) -> list[str]:
    problems = []
    for error in sorted(_validator().iter_errors(data), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        problems.append(f"{name}: {where}: {error.message}")
    return problems


def _reference_problems(name: str, data: dict[str, Any]) -> list[str]:
    """Cross-references the JSON Schema cannot express."""
    problems: list[str] = []
    parties = [p["id"] for p in data["parties"]]
    purposes = [p["code"] for p in data["purposes"]]
    categories = {c["code"]: c for c in data["categories"]}
    for label, codes in (("parties", parties), ("purposes", purposes)):
        for dup in sorted({c for c in codes if codes.count(c) > 1}):
            problems.append(f"{name}: {label}: duplicate id {dup!r}")
    codes = [c["code"] for c in data["categories"]]
    for dup in sorted({c for c in codes if codes.count(c) > 1}):
        problems.append(f"{name}: categories: duplicate code {dup!r}")

    def check(where: str, values: list[str], known: Any, what: str) -> None:
        for value in values:
            if value not in known:
                problems.append(f"{name}: {where}: unknown {what} {value!r}")

    flow_ids = [f["id"] for f in data["flows"]]
    for dup in sorted({f for f in flow_ids if flow_ids.count(f) > 1}):
        problems.append(f"{name}: flows: duplicate id {dup!r}")
    for i, flow in enumerate(data["flows"]):
        where = f"flows/{i}"
        check(f"{where}/from", flow["from"], parties, "organisation")
        check(f"{where}/to", flow["to"], parties, "organisation")
        check(f"{where}/purposes", flow["purposes"], purposes, "purpose")
        check(f"{where}/categories", flow["categories"], categories, "category")
        sensitive = [
            c for c in flow["categories"]
            if c in categories and (categories[c].get("special") or categories[c].get("criminal"))
        ]
        if sensitive and flow["consent"] != "explicit" and not (
            flow.get("art9_condition") or flow.get("art10_condition")
        ):
            problems.append(
                f"{name}: {where}/consent: special or criminal categories {sensitive} need "
                "explicit consent or an Art 9 / Art 10 condition"
            )
    for i, grant in enumerate(data["grants"]):
        where = f"grants/{i}"
        check(f"{where}/parties", grant["parties"], parties, "organisation")
        check(f"{where}/purposes", grant["purposes"], purposes, "purpose")
        check(f"{where}/read", grant["read"], categories, "category")
        check(f"{where}/write", grant.get("write", []), categories, "category")
        for role in grant["roles"]:
            if role in BUILTIN_ROLES:
                problems.append(f"{name}: {where}/roles: {role!r} is built in and takes no grant")
    if not data["effective_from"] <= data["review_date"] <= data["expires_on"]:
        problems.append(
            f"{name}: effective_from, review_date, expires_on: dates must be in that order"
        )
    override = data.get("override") or {}
    if override.get("permitted"):
        for key in ("routes", "roles", "max_hours"):
            if not override.get(key):
                problems.append(f"{name}: override/{key}: required when override is permitted")
    if data["framework"] == "WASPI" and data["status"] == "active":
        qa = data.get("qa") or {}
        if qa.get("outcome") != "assured" or not qa.get("reference"):
            problems.append(
                f"{name}: qa: an active WASPI protocol needs a QA outcome 'assured' and reference"
            )
    return problems


def _build(name: str, data: dict[str, Any], content_hash: str) -> Protocol:
    override = data.get("override") or {"permitted": False}
    return Protocol(
        id=data["id"],
        version=data["version"],
        title=data["title"],
        type=data["type"],
        framework=data["framework"],
        status=data["status"],
        effective_from=date.fromisoformat(data["effective_from"]),
        review_date=date.fromisoformat(data["review_date"]),
        expires_on=date.fromisoformat(data["expires_on"]),
        parties=tuple(
            Party(p["id"], p["name"], p["sector"], p["public_authority"], p["status"])
            for p in data["parties"]
        ),
        purposes=frozenset(p["code"] for p in data["purposes"]),
        categories=tuple(
            Category(
                c["code"], c["description"], bool(c.get("special")), bool(c.get("criminal")),
                bool(c.get("dwp_origin")),
            )
            for c in data["categories"]
        ),
        flows=tuple(
            Flow(
                id=f["id"],
                from_orgs=frozenset(f["from"]),
                to_orgs=frozenset(f["to"]),
                purposes=frozenset(f["purposes"]),
                categories=frozenset(f["categories"]),
                consent=f["consent"],
                max_consent_days=f.get("max_consent_days"),
            )
            for f in data["flows"]
        ),
        grants=tuple(
            Grant(
                index=i,
                roles=frozenset(g["roles"]),
                parties=frozenset(g["parties"]),
                purposes=frozenset(g["purposes"]),
                read=frozenset(g["read"]),
                write=frozenset(g.get("write", [])),
            )
            for i, g in enumerate(data["grants"])
        ),
        override=OverrideRule(
            permitted=bool(override.get("permitted")),
            routes=frozenset(override.get("routes", [])),
            roles=frozenset(override.get("roles", [])),
            max_hours=int(override.get("max_hours", 0)),
            min_justification=int(override.get("min_justification", 100)),
        ),
        source_file=name,
        content_hash=content_hash,
    )


def load_file(path: Path) -> Protocol:
    data, content_hash = read_yaml(path)
    problems = _schema_problems(path.name, data)
    if not problems:
        problems = _reference_problems(path.name, data)
    if problems:
        raise PolicyFileError(problems)
    return _build(path.name, data, content_hash)


def _set_problems(protocols: list[Protocol]) -> list[str]:
    problems = []
    seen: dict[tuple[str, int], str] = {}
    for p in protocols:
        key = (p.id, p.version)
        if key in seen:
            problems.append(f"{p.source_file}: id/version {p.ref} also defined in {seen[key]}")
        seen[key] = p.source_file
    active = [p for p in protocols if p.status == "active"]
    for i, a in enumerate(active):
        for b in active[i + 1 :]:
            overlap = a.effective_from <= b.expires_on and b.effective_from <= a.expires_on
            if a.id == b.id and overlap:
                problems.append(
                    f"{b.source_file}: effective_from: active version {b.version} overlaps "
                    f"active version {a.version} of {a.id} ({a.source_file})"
                )
    return problems


def load_files(paths: list[Path]) -> ProtocolSet:
    problems: list[str] = []
    protocols: list[Protocol] = []
    for path in paths:
        try:
            protocols.append(load_file(path))
        except PolicyFileError as exc:
            problems.extend(exc.problems)
    problems.extend(_set_problems(protocols))
    if problems:
        raise PolicyFileError(problems)
    return ProtocolSet.build(protocols)


def load_directory(directory: Path) -> ProtocolSet:
    paths = sorted(directory.glob("*.yaml")) + sorted(directory.glob("*.yml"))
    if not paths:
        raise PolicyFileError([f"{directory}: no protocol files found"])
    return load_files(paths)
