"""Outcome codes: each partnership's controlled list (`partnerships/<protocol-id>/outcomes.yaml`).

A code says what the claimant achieved (`apa_in_place`), the protocol category it reveals and is
recorded under (`housing_tenancy`), the support service line it belongs to (the LSSF lines in
case_plan/models.py), whether it is one of the trialling menu's measures or a local one, and
whether the system computes it from structured records (`computed: true`: no one types it).
Files are checked at start-up like protocol files: the app refuses to start on an invalid one,
naming the file and the problem.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from caseshare.case_plan.models import SUPPORT_SERVICES
from caseshare.errors import PolicyFileError
from caseshare.policy.loader import read_yaml
from caseshare.policy.models import ProtocolSet

FILE_NAME = "outcomes.yaml"
MEASURES = ("trialling_menu", "local")
CODE = re.compile(r"^[a-z][a-z0-9_]{1,63}$")
FIELDS = {"code", "label", "label_cy", "category", "service_line", "measure", "computed"}


@dataclass(frozen=True)
class OutcomeCode:
    code: str
    label: str
    category: str
    measure: str
    service_line: str | None = None
    computed: bool = False
    label_cy: str | None = None


@dataclass(frozen=True)
class OutcomeCodes:
    """Every partnership's list: protocol id -> code -> definition."""

    by_protocol: dict[str, dict[str, OutcomeCode]] = field(default_factory=dict)

    def for_protocols(self, protocol_ids: Iterable[str]) -> dict[str, OutcomeCode]:
        """The codes of these partnerships (the first list that defines a code wins)."""
        found: dict[str, OutcomeCode] = {}
        for pid in protocol_ids:
            for code, definition in self.by_protocol.get(pid, {}).items():
                found.setdefault(code, definition)
        return found


def _entry_problems(where: str, entry: Any, categories: set[str]) -> list[str]:
    if not isinstance(entry, dict):
        return [f"{where}: expected a mapping"]
    problems = [f"{where}: unknown field {k!r}" for k in sorted(set(entry) - FIELDS)]
    problems += [f"{where}: {k!r} is required" for k in ("code", "label", "category", "measure")
                 if not entry.get(k)]
    if entry.get("code") and not CODE.match(str(entry["code"])):
        problems.append(f"{where}/code: {entry['code']!r} is not a code (a-z, 0-9, _)")
    if entry.get("category") and entry["category"] not in categories:
        problems.append(f"{where}/category: {entry['category']!r} is not a category of the "
                        "partnership's protocol")
    line = entry.get("service_line")
    if line is not None and line not in SUPPORT_SERVICES:
        problems.append(f"{where}/service_line: unknown service line {line!r}")
    if entry.get("measure") and entry["measure"] not in MEASURES:
        problems.append(f"{where}/measure: must be one of {', '.join(MEASURES)}")
    if not isinstance(entry.get("computed", False), bool):
        problems.append(f"{where}/computed: must be true or false")
    return problems


def parse_codes(name: str, data: Any, categories: set[str]) -> dict[str, OutcomeCode]:
    """The codes of one file, or PolicyFileError listing every problem (named by file)."""
    entries = data.get("outcomes") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise PolicyFileError([f"{name}: outcomes: a non-empty list is required"])
    problems: list[str] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        problems += [f"{name}: {p}" for p in _entry_problems(f"outcomes/{i}", entry, categories)]
        code = entry.get("code") if isinstance(entry, dict) else None
        if code in seen:
            problems.append(f"{name}: outcomes/{i}/code: duplicate code {code!r}")
        seen.add(str(code))
    if problems:
        raise PolicyFileError(problems)
    return {e["code"]: OutcomeCode(
        code=e["code"], label=e["label"], category=e["category"], measure=e["measure"],
        service_line=e.get("service_line"), computed=bool(e.get("computed", False)),
        label_cy=e.get("label_cy")) for e in entries}


def load_partnerships(directory: Path, protocols: ProtocolSet) -> OutcomeCodes:
    """Every `<protocol-id>/outcomes.yaml` under `directory` (none when it is absent); the
    directory name must be a loaded protocol's id and each category one it declares."""
    if not directory.is_dir():
        return OutcomeCodes()
    problems: list[str] = []
    found: dict[str, dict[str, OutcomeCode]] = {}
    for path in sorted(directory.glob(f"*/{FILE_NAME}")):
        name = f"{path.parent.name}/{FILE_NAME}"
        declared = [p for p in protocols.protocols if p.id == path.parent.name]
        if not declared:
            problems.append(f"{name}: no loaded protocol has the id {path.parent.name!r}")
            continue
        categories = {c.code for p in declared for c in p.categories}
        try:
            data, _hash = read_yaml(path)
            found[path.parent.name] = parse_codes(name, data, categories)
        except PolicyFileError as exc:
            problems += exc.problems
    if problems:
        raise PolicyFileError(problems)
    return OutcomeCodes(found)
