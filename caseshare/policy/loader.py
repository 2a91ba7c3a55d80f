"""Load and validate protocol files. Every problem names the file and the place in it.

Checks run in three rounds, each only when the one before passed (a file that does not parse has
no fields to check): YAML syntax, the JSON Schema (shape), then the rules a schema cannot say
(references between sections, date order, lawful conditions for special categories). Finally
the whole set is checked together (duplicate versions, overlapping active versions).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Hashable, Iterable
from dataclasses import replace
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from yaml.constructor import ConstructorError, SafeConstructor

from caseshare.errors import PolicyFileError
from caseshare.policy.models import (
    BUILTIN_ROLES,
    DEFAULT_CONSENT_COOLING_DAYS,
    EVALUATION,
    Category,
    Contact,
    Flow,
    Grant,
    OverrideRule,
    Party,
    Protocol,
    ProtocolSet,
    Purpose,
)

SCHEMA_PATH = Path(__file__).with_name("protocol.schema.json")


class _Strict(SafeConstructor):
    """Safe YAML that refuses duplicate keys (two `read:` lines would silently keep the last)
    and reports impossible dates such as 2026-02-30 with their line instead of crashing."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Hashable] = set()
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, Hashable):
                break  # the base constructor reports unhashable keys with their line
            if key in seen:
                raise ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError as exc:
            raise ConstructorError(None, None, f"invalid date {node.value!r} ({exc})",
                                   node.start_mark) from exc


class _StrictLoader(_Strict, yaml.SafeLoader):
    """The pure-Python parser: its error messages are the ones the app reports."""


_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp",  # type: ignore[type-var]
                              _StrictLoader.construct_yaml_timestamp)

# The same constructors over libyaml's parser, when PyYAML was built with it: several times
# faster (protocol files are read at every start, each CLI command included). Its error
# messages word some problems differently, so a file it refuses is parsed again by
# _StrictLoader, which gives the message.
_FastStrictLoader: type[Any] | None = None
if getattr(yaml, "__with_libyaml__", False):
    class _CStrictLoader(_Strict, yaml.CSafeLoader):
        pass

    _CStrictLoader.add_constructor("tag:yaml.org,2002:timestamp",  # type: ignore[type-var]
                                   _CStrictLoader.construct_yaml_timestamp)
    _FastStrictLoader = _CStrictLoader


def _parse(raw: bytes) -> Any:
    if _FastStrictLoader is not None:
        try:
            return yaml.load(raw, Loader=_FastStrictLoader)  # noqa: S506 (SafeLoader's rules)
        except yaml.YAMLError:
            pass
    return yaml.load(raw, Loader=_StrictLoader)  # noqa: S506 (a SafeLoader subclass)


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
        data = _parse(raw)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None)
        detail = f": {problem}" if problem else ""
        raise PolicyFileError([f"{path.name}: malformed YAML{where}{detail}"]) from exc
    if not isinstance(data, dict):
        raise PolicyFileError([f"{path.name}: (top level): must be a mapping of protocol keys"])
    return _stringify_dates(data), hashlib.sha256(raw).hexdigest()


def _schema_problems(name: str, data: dict[str, Any]) -> list[str]:
    problems = []
    for error in sorted(_validator().iter_errors(data), key=lambda e: list(map(str, e.path))):
        path = [str(p) for p in error.absolute_path]
        if error.validator == "required" and isinstance(error.instance, dict):
            # Name the missing field itself, not the object that lacks it.
            missing = [k for k in error.validator_value if k not in error.instance]
            path.append(missing[0] if missing else "?")
        where = "/".join(path) or "(top level)"
        problems.append(f"{name}: {where}: {error.message}")
    return problems


class _Problems:
    """Collects `file: field: message` lines for one file."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.lines: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.lines.append(f"{self.name}: {where}: {message}")

    def unknown(self, where: str, values: Iterable[str], known: Iterable[str], what: str) -> None:
        known = set(known)
        for value in values:
            if value not in known:
                self.add(where, f"unknown {what} {value!r} (not declared in this protocol)")

    def duplicates(self, where: str, values: list[str], what: str) -> None:
        for value, count in sorted(Counter(values).items()):
            if count > 1:
                self.add(where, f"duplicate {what} {value!r}")


def _reference_problems(name: str, data: dict[str, Any]) -> list[str]:
    """Cross-references and rules the JSON Schema cannot express."""
    out = _Problems(name)
    parties = [p["id"] for p in data["parties"]]
    purposes = [p["code"] for p in data["purposes"]]
    categories = {c["code"]: c for c in data["categories"]}
    out.duplicates("parties", parties, "organisation id")
    out.duplicates("purposes", purposes, "purpose code")
    out.duplicates("categories", [c["code"] for c in data["categories"]], "category code")
    out.duplicates("flows", [f["id"] for f in data["flows"]], "flow id")
    _flow_problems(out, data, parties, purposes, categories)
    roles = _grant_problems(out, data, parties, purposes, categories)
    _date_problems(out, data)
    _override_problems(out, data, roles)
    _framework_problems(out, data)
    _evaluation_problems(out, data)
    return out.lines


def _flow_problems(out: _Problems, data: dict[str, Any], parties: list[str],
                   purposes: list[str], categories: dict[str, dict[str, Any]]) -> None:
    for i, flow in enumerate(data["flows"]):
        where = f"flows/{i}"
        out.unknown(f"{where}/from", flow["from"], parties, "organisation")
        out.unknown(f"{where}/to", flow["to"], parties, "organisation")
        out.unknown(f"{where}/purposes", flow["purposes"], purposes, "purpose")
        out.unknown(f"{where}/categories", flow["categories"], categories, "category")
        declared = [categories[c] for c in flow["categories"] if c in categories]
        _lawful_basis_problems(out, where, flow, declared)
        _direction_problems(out, where, flow, data["type"])
        involved = set(flow["from"]) | set(flow["to"])
        for party in flow.get("art6_basis", {}):
            if party not in involved:
                out.add(f"{where}/art6_basis/{party}", "not an organisation of this flow")


def _lawful_basis_problems(out: _Problems, where: str, flow: dict[str, Any],
                           declared: list[dict[str, Any]]) -> None:
    """Special and criminal data need explicit consent or a condition; consent always expires;
    DWP-origin data never goes onward."""
    explicit = flow["consent"] == "explicit"
    special = [c["code"] for c in declared if c.get("special")]
    criminal = [c["code"] for c in declared if c.get("criminal")]
    if special and not explicit and not flow.get("art9_condition"):
        out.add(f"{where}/art9_condition", f"special category data {special} needs "
                "explicit consent or an Art 9 condition")
    if criminal and not explicit and not flow.get("art10_condition"):
        out.add(f"{where}/art10_condition", f"criminal offence data {criminal} needs "
                "explicit consent or an Art 10 condition")
    if flow["consent"] != "none" and "max_consent_days" not in flow:
        out.add(f"{where}/max_consent_days", "required when the flow relies on consent "
                "(every consent expires)")
    dwp = [c["code"] for c in declared if c.get("dwp_origin")]
    if dwp and flow.get("onward_sharing"):
        out.add(f"{where}/onward_sharing", f"DWP-origin data {dwp} may not be shared "
                "onward (unauthorised disclosure is an offence)")


def _direction_problems(out: _Problems, where: str, flow: dict[str, Any],
                        protocol_type: str) -> None:
    direction = flow.get("direction")
    if direction == "one_way" and set(flow["from"]) & set(flow["to"]):
        out.add(f"{where}/direction", "a one-way flow cannot name an organisation in both "
                "from and to")
    if direction == "reciprocal" and set(flow["from"]) != set(flow["to"]):
        out.add(f"{where}/direction", "a reciprocal flow needs the same organisations in "
                "from and to")
    if protocol_type == "DDA" and direction != "one_way":
        out.add(f"{where}/direction", "a Data Disclosure Agreement only has one-way flows")


def _grant_problems(out: _Problems, data: dict[str, Any], parties: list[str],
                    purposes: list[str], categories: dict[str, dict[str, Any]]) -> set[str]:
    """Check the grants; return the roles they define."""
    roles: set[str] = set()
    for i, grant in enumerate(data["grants"]):
        where = f"grants/{i}"
        out.unknown(f"{where}/parties", grant["parties"], parties, "organisation")
        out.unknown(f"{where}/purposes", grant["purposes"], purposes, "purpose")
        out.unknown(f"{where}/read", grant["read"], categories, "category")
        out.unknown(f"{where}/write", grant.get("write", []), categories, "category")
        for role in grant["roles"]:
            if role in BUILTIN_ROLES:
                out.add(f"{where}/roles", f"{role!r} is built in and takes no grant")
            roles.add(role)
        _dead_writes(out, where, grant, data["flows"], parties)
    return roles


def _dead_writes(out: _Problems, where: str, grant: dict[str, Any],
                 flows: list[dict[str, Any]], parties: list[str]) -> None:
    """A party writes a category only where a flow takes it from that party: a write grant
    with no such flow could never be used, and would mislead whoever reads the protocol."""
    for party in (p for p in grant["parties"] if p in parties):  # unknown ones: reported
        for category in grant.get("write", []):
            carried = any(
                party in f["from"] and category in f["categories"]
                and set(grant["purposes"]) & set(f["purposes"])
                for f in flows
            )
            if not carried:
                out.add(f"{where}/write", f"{party!r} can never write {category!r}: no flow "
                        "from it carries that category for these purposes")


def _date_problems(out: _Problems, data: dict[str, Any]) -> None:
    effective, review, expires = data["effective_from"], data["review_date"], data["expires_on"]
    # ISO dates compare correctly as text.
    if review < effective:
        out.add("review_date", f"{review} is before effective_from {effective}")
    if expires < effective:
        out.add("expires_on", f"{expires} is before effective_from {effective}")
    elif expires < review:
        out.add("expires_on", f"{expires} is before review_date {review}")
    assured_on = (data.get("qa") or {}).get("assured_on")
    if assured_on and assured_on > effective:
        out.add("qa/assured_on", f"{assured_on} is after effective_from {effective}: a protocol "
                "is quality-assured before it takes effect")


def _override_problems(out: _Problems, data: dict[str, Any], roles: set[str]) -> None:
    override = data.get("override") or {}
    if not override.get("permitted"):
        return
    for key in ("routes", "roles", "max_hours"):
        if not override.get(key):
            out.add(f"override/{key}", "required when override is permitted")
    out.unknown("override/roles", override.get("roles", []), roles, "role")


def _framework_problems(out: _Problems, data: dict[str, Any]) -> None:
    if data["framework"] != "WASPI":
        return
    if not data.get("title_cy"):
        out.add("title_cy", "a WASPI protocol is bilingual: give the Welsh title")
    if data["status"] in ("assured", "active"):
        qa = data.get("qa") or {}
        if qa.get("outcome") != "assured":
            out.add("qa/outcome", f"a WASPI protocol with status {data['status']!r} needs QA "
                    "outcome 'assured' from the regional WASPI QA group")
        if not qa.get("reference"):
            out.add("qa/reference", "a quality-assured WASPI protocol needs its QA reference")


def _evaluation_problems(out: _Problems, data: dict[str, Any]) -> None:
    """The `evaluation` purpose (MI) stands on its own lawful basis, never on a service
    consent, and discloses no personal data: it needs `lawful_basis`, no flow carries it, and a
    grant of it reads and writes no category (nor shares a grant with other purposes)."""
    for i, purpose in enumerate(data["purposes"]):
        if purpose["code"] == EVALUATION and not purpose.get("lawful_basis"):
            out.add(f"purposes/{i}/lawful_basis",
                    "the evaluation purpose needs its own lawful basis")
    for i, flow in enumerate(data["flows"]):
        if EVALUATION in flow["purposes"]:
            out.add(f"flows/{i}/purposes", "no flow carries the evaluation purpose: it "
                    "discloses counts, never personal data")
    for i, grant in enumerate(data["grants"]):
        if EVALUATION in grant["purposes"] and (
                grant["read"] or grant.get("write") or len(grant["purposes"]) > 1):
            out.add(f"grants/{i}", "a grant of the evaluation purpose is for it alone and "
                    "reads and writes no category (read: [])")


def _build(name: str, data: dict[str, Any], content_hash: str) -> Protocol:
    override = data.get("override") or {"permitted": False}
    return Protocol(
        id=data["id"],
        version=data["version"],
        title=data["title"],
        title_cy=data.get("title_cy"),
        type=data["type"],
        framework=data["framework"],
        status=data["status"],
        effective_from=date.fromisoformat(data["effective_from"]),
        review_date=date.fromisoformat(data["review_date"]),
        expires_on=date.fromisoformat(data["expires_on"]),
        qa_reference=(data.get("qa") or {}).get("reference"),
        consent_cooling_days=data.get("consent_cooling_days", DEFAULT_CONSENT_COOLING_DAYS),
        referral_response_days=data.get("referral_response_days"),
        statutory_functions=tuple(sorted(
            (p["code"], p["statutory_function"]) for p in data["purposes"]
            if p.get("statutory_function"))),
        lawful_bases=tuple(sorted(
            (p["code"], p["lawful_basis"]) for p in data["purposes"] if p.get("lawful_basis"))),
        parties=tuple(
            Party(p["id"], p["name"], p["sector"], p["public_authority"], p["status"],
                  p.get("name_cy"), Contact(**p["contact"]) if p.get("contact") else None)
            for p in data["parties"]
        ),
        purposes=frozenset(p["code"] for p in data["purposes"]),
        purpose_names=tuple(Purpose(p["code"], p["description"],
                                    p.get("description_cy")) for p in data["purposes"]),
        categories=tuple(
            Category(
                c["code"], c["description"], bool(c.get("special")), bool(c.get("criminal")),
                bool(c.get("dwp_origin")), c.get("description_cy"),
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
                onward_sharing=bool(f.get("onward_sharing")),
                retention_days=f.get("retention_days"),
                art6_basis=tuple(sorted((f.get("art6_basis") or {}).items())),
                art9_condition=f.get("art9_condition"),
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
            notify=frozenset(override.get("notify", [])),
            review_within_hours=override.get("review_within_hours"),
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


def _set_problems(protocols: list[Protocol], today: date | None) -> list[str]:
    problems = []
    seen: dict[tuple[str, int], str] = {}
    for p in protocols:
        key = (p.id, p.version)
        if key in seen:
            problems.append(f"{p.source_file}: version: {p.ref} is also defined in {seen[key]}")
        seen[key] = p.source_file
    active = [p for p in protocols if p.status == "active"]
    for i, a in enumerate(active):
        for b in active[i + 1 :]:
            overlap = a.effective_from <= b.expires_on and b.effective_from <= a.expires_on
            if a.id == b.id and a.version != b.version and overlap:
                problems.append(
                    f"{b.source_file}: effective_from: active version {b.version} overlaps "
                    f"active version {a.version} of {a.id} ({a.source_file}); expire or "
                    "supersede one of them"
                )
    problems.extend(_category_conflicts(protocols))
    if today is not None:
        for p in active:
            if p.expires_on < today:
                problems.append(
                    f"{p.source_file}: expires_on: active protocol expired on "
                    f"{p.expires_on.isoformat()}; set status: expired or agree a new version"
                )
    return problems


def _category_conflicts(protocols: list[Protocol]) -> list[str]:
    """A category code means one thing everywhere: special in one protocol, special in all."""
    problems = []
    first: dict[str, tuple[Category, str]] = {}
    for p in protocols:
        for c in p.categories:
            if c.code not in first:
                first[c.code] = (c, p.source_file)
                continue
            known, where = first[c.code]
            for flag in ("special", "criminal", "dwp_origin"):
                if getattr(c, flag) != getattr(known, flag):
                    problems.append(
                        f"{p.source_file}: categories/{c.code}/{flag}: "
                        f"{str(getattr(c, flag)).lower()} here but "
                        f"{str(getattr(known, flag)).lower()} in {where}"
                    )
    return problems


def load_files(paths: list[Path], today: date | None = None) -> ProtocolSet:
    """Load and check protocol files as one set. With `today`, an active protocol past its
    expiry date is a problem too (the `policies check` command passes it; at start-up an
    expired protocol is simply not in force, so the server keeps serving the others)."""
    problems: list[str] = []
    protocols: list[Protocol] = []
    for path in paths:
        try:
            protocols.append(load_file(path))
        except PolicyFileError as exc:
            problems.extend(exc.problems)
    problems.extend(_set_problems(protocols, today))
    if problems:
        raise PolicyFileError(problems)
    return ProtocolSet.build(protocols)


# Beside the protocol files, not one of them: organisations' contact details (see the file).
CONTACTS_FILE = "contacts.yaml"
CONTACT_FIELDS = frozenset({"phone", "email", "address", "address_cy"})


def protocol_paths(directory: Path) -> list[Path]:
    paths = [p for p in sorted(directory.glob("*.yaml")) + sorted(directory.glob("*.yml"))
             if p.name != CONTACTS_FILE]
    if not paths:
        raise PolicyFileError([f"{directory}: no protocol files found"])
    return paths


def load_directory(directory: Path, today: date | None = None) -> ProtocolSet:
    protocols = load_files(protocol_paths(directory), today)
    contacts = load_contacts(directory / CONTACTS_FILE)
    return replace(protocols, contacts=contacts) if contacts else protocols


def load_contacts(path: Path) -> dict[str, Contact]:
    """Organisation id -> contact details, from the optional contacts file. Contact details are
    operational data that change without the sharing agreement changing, so they live outside
    the hash-pinned protocol files."""
    if not path.exists():
        return {}
    try:
        data = yaml.load(path.read_bytes(), Loader=_StrictLoader)  # noqa: S506 (safe loader)
    except yaml.YAMLError as exc:
        raise PolicyFileError([f"{path.name}: not valid YAML ({exc})"]) from None
    if not isinstance(data, dict):
        raise PolicyFileError([f"{path.name}: expected organisation ids mapped to contacts"])
    problems = [f"{path.name}: {org}: each contact is a mapping of {sorted(CONTACT_FIELDS)}"
                for org, entry in data.items()
                if not isinstance(entry, dict) or not set(entry) <= CONTACT_FIELDS
                or not all(isinstance(v, str) for v in entry.values())]
    if problems:
        raise PolicyFileError(problems)
    return {str(org): Contact(**entry) for org, entry in data.items()}
