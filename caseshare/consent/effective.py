"""What a consent still shares after its withdrawals: for each recipient organisation, the
purposes and categories it still receives, and what was withdrawn from it and when.

A withdrawal's scope removes the combinations it names: every named recipient, for every named
purpose, of every named category; a dimension it does not name means all of that dimension, and
an empty scope withdraws everything (the same rule as the access decision,
`access/decision.py` `_not_in_force`). What is left for one recipient need not be a rectangle
(withdrawing housing information for one purpose leaves it for the others), so it is kept as
purpose -> categories and grouped back into "these categories for these purposes" for reading.

Pure: it reads the recipients, purposes and categories of a consent (or of one caller's view of
it) and its withdrawals' times and scopes, and touches no database and no request.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


class WithdrawalLike(Protocol):
    @property
    def withdrawn_at(self) -> datetime: ...
    @property
    def scope(self) -> dict[str, Any]: ...


class ConsentLike(Protocol):
    @property
    def recipients(self) -> Sequence[str]: ...
    @property
    def purposes(self) -> Sequence[str]: ...
    @property
    def categories(self) -> Sequence[str]: ...


@dataclass(frozen=True)
class Share:
    """Some categories for some purposes (one line of "who receives what")."""

    purposes: tuple[str, ...]
    categories: tuple[str, ...]


@dataclass(frozen=True)
class WithdrawnPart:
    """What one withdrawal took away from one recipient (only what it still had then)."""

    withdrawn_at: datetime
    purposes: tuple[str, ...]
    categories: tuple[str, ...]
    everything: bool  # the recipient received nothing of this consent after it


@dataclass(frozen=True)
class RecipientScope:
    org: str
    receives: tuple[Share, ...]
    withdrawn: tuple[WithdrawnPart, ...]

    @property
    def receiving(self) -> bool:
        return bool(self.receives)

    @property
    def purposes(self) -> tuple[str, ...]:
        return _union(s.purposes for s in self.receives)

    @property
    def categories(self) -> tuple[str, ...]:
        return _union(s.categories for s in self.receives)

    @property
    def stopped_at(self) -> datetime | None:
        """When the recipient stopped receiving anything (None while it still receives)."""
        return next((w.withdrawn_at for w in self.withdrawn if w.everything), None)


@dataclass(frozen=True)
class EffectiveScope:
    recipients: tuple[RecipientScope, ...]

    @property
    def receiving(self) -> tuple[RecipientScope, ...]:
        return tuple(r for r in self.recipients if r.receiving)

    @property
    def stopped(self) -> tuple[RecipientScope, ...]:
        return tuple(r for r in self.recipients if not r.receiving)

    def of(self, org: str) -> RecipientScope | None:
        return next((r for r in self.recipients if r.org == org), None)

    def reaches(self, org: str) -> bool:
        """`org` still receives something under this consent."""
        scope = self.of(org)
        return scope is not None and scope.receiving


def _union(parts: Iterable[tuple[str, ...]]) -> tuple[str, ...]:
    out: set[str] = set()
    for part in parts:
        out |= set(part)
    return tuple(sorted(out))


def _covers(scope: dict[str, Any], key: str, value: str) -> bool:
    named = scope.get(key) or []
    return not named or value in named


def _group(left: dict[str, set[str]], purposes: Sequence[str],
           categories: Sequence[str]) -> tuple[Share, ...]:
    """purpose -> categories, as lines of "these categories for these purposes" (purposes with
    the same categories share a line), in the consent's order."""
    lines: dict[tuple[str, ...], list[str]] = {}
    for purpose in purposes:
        if left[purpose]:
            ordered = tuple(c for c in categories if c in left[purpose])
            lines.setdefault(ordered, []).append(purpose)
    return tuple(Share(tuple(p), c) for c, p in lines.items())


def recipient_scope(org: str, purposes: Sequence[str], categories: Sequence[str],
                    withdrawals: Sequence[WithdrawalLike]) -> RecipientScope:
    """What `org` still receives of these purposes and categories after `withdrawals` (in the
    order they were made)."""
    left = {p: set(categories) for p in purposes}
    parts: list[WithdrawnPart] = []
    for w in sorted(withdrawals, key=lambda w: w.withdrawn_at):
        if not _covers(w.scope, "recipients", org):
            continue
        taken = {p: {c for c in left[p] if _covers(w.scope, "categories", c)}
                 for p in purposes if _covers(w.scope, "purposes", p)}
        if not any(taken.values()):
            continue  # it had already lost all of that
        for p, cats in taken.items():
            left[p] -= cats
        parts.append(WithdrawnPart(
            withdrawn_at=w.withdrawn_at,
            purposes=tuple(p for p in purposes if taken.get(p)),
            categories=tuple(c for c in categories
                             if any(c in cats for cats in taken.values())),
            everything=not any(left.values())))
    return RecipientScope(org=org, receives=_group(left, purposes, categories),
                          withdrawn=tuple(parts))


def effective_scope(consent: ConsentLike,
                    withdrawals: Sequence[WithdrawalLike]) -> EffectiveScope:
    """Who still receives what under `consent` (a record or a caller's view of it) after
    `withdrawals`, one entry per recipient in the consent's order."""
    return EffectiveScope(tuple(
        recipient_scope(org, list(consent.purposes), list(consent.categories), withdrawals)
        for org in consent.recipients))
