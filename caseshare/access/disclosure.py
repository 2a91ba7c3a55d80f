"""Open only what a decision permits; describe the rest without content or counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from caseshare.access.decision import CategoryDecision, Decision
from caseshare.case_plan.models import PlanEntry
from caseshare.case_plan.service import open_entry


@dataclass
class Disclosure:
    items: list[dict[str, Any]] = field(default_factory=list)
    withheld: list[dict[str, Any]] = field(default_factory=list)
    entries: list[PlanEntry] = field(default_factory=list)  # the records disclosed

    @property
    def categories(self) -> list[str]:
        return sorted({e.category for e in self.entries})


def may_see(entry: PlanEntry, decision: Decision) -> bool:
    if entry.own_record and decision.org is not None and entry.created_org != decision.org:
        return False  # recorded where no flow shares it onward: its organisation's alone
    permitted = decision.permitted.get(entry.category)
    return permitted is not None and entry.created_org in permitted.sources


def withheld_categories(decision: Decision) -> list[dict[str, Any]]:
    """Every category not fully open to the caller, whether or not the plan holds any of it,
    so the list itself reveals nothing about what the plan contains."""
    out = []
    for c in decision.categories:
        if not c.allowed or _own_only(c):
            out.append({"category": c.category, "reasons": list(c.reasons)})
    return out


def _own_only(c: CategoryDecision) -> bool:
    return c.allowed and bool(c.reasons)


def disclose_entries(entries: list[PlanEntry], decision: Decision, data_key: bytes) -> Disclosure:
    visible = [e for e in entries if may_see(e, decision)]
    cipher = AESGCM(data_key)  # one for every field opened
    return Disclosure(
        items=[open_entry(e, cipher) for e in visible],
        withheld=withheld_categories(decision),
        entries=visible,
    )
