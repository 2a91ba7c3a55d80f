"""Statistical disclosure control for management information (pure, no I/O).

Rules, at least as strict as OpenSAFELY's:

- primary suppression: a count from 1 to 7 is never published;
- rounding: every other count is published rounded to the nearest 5 (0 stays 0);
- secondary suppression: the table is a full grid (every group by every code, zeros included),
  and a row or column with exactly one suppressed cell would give it away to anyone who knows
  (or can find from another table) that row's or column's total, so the smallest non-zero
  cell of that row or column is suppressed too (a zero only when nothing else is left: a zero
  may be structural, known to anyone), repeated until no row or column has exactly one;
- totals are never computed from true counts: a row, column or grand total is the sum of the
  published (rounded) cells, published only when none of its cells is suppressed;
- no paging: a table is published whole, so no page and no total of pages can be set against
  another.

Anything that publishes MI builds a `Table` with `control` and publishes nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

SUPPRESS_AT_OR_BELOW = 7
ROUND_TO = 5

Key = tuple[str, str]  # (group, code)


@dataclass(frozen=True)
class Cell:
    """One published cell: `count` is None whenever `suppressed` is true."""

    group: str
    code: str
    count: int | None
    suppressed: bool


@dataclass(frozen=True)
class Table:
    cells: list[Cell]
    group_totals: dict[str, int | None]
    code_totals: dict[str, int | None]
    total: int | None


def rounded(count: int) -> int:
    """To the nearest multiple of 5 (a whole number is never halfway between two)."""
    return (count + ROUND_TO // 2) // ROUND_TO * ROUND_TO


def primary(count: int) -> bool:
    return 0 < count <= SUPPRESS_AT_OR_BELOW


def _lines(groups: Sequence[str], codes: Sequence[str]) -> list[list[Key]]:
    """Every row (one group, all codes) and every column (one code, all groups)."""
    return ([[(g, c) for c in codes] for g in groups]
            + [[(g, c) for g in groups] for c in codes])


def secondary(counts: Mapping[Key, int], suppressed: set[Key], lines: list[list[Key]]) -> set[Key]:
    """Suppress more cells until no line with two or more cells has exactly one suppressed, or
    suppressed cells whose true sum is from 1 to 7.
    The partner chosen in a line is, first, a non-zero cell (a zero may be known to be zero),
    then one whose crossing line already hides a cell (so hiding it settles that line too
    instead of starting a new cascade), then the smallest. A zero is hidden only when the line
    has nothing else left.
    Terminates: each pass hides at least one more cell or stops."""
    hidden = set(suppressed)
    crossing: dict[Key, list[list[Key]]] = {}
    for line in lines:
        for key in line:
            crossing.setdefault(key, []).append(line)

    def cost(line: list[Key], key: Key) -> tuple[bool, bool, int, Key]:
        # A zero partner protects nothing when the zero is structural (a code a group can
        # never have, a month before a service began): anyone can add the 0 back and the
        # line's total gives the small count away. So a non-zero partner comes first.
        opens = any(other is not line and len(other) > 1 and not any(k in hidden for k in other)
                    for other in crossing[key])
        return counts[key] == 0, opens, counts[key], key

    def exposed(line: list[Key]) -> bool:
        # One hidden cell is its line's total less the published ones; several hidden cells
        # whose true sum is itself small (1 to 7) are given away together by the line's total
        # (published elsewhere, rounded, unless it is small too: then it is never published),
        # so the line hides one more while it can.
        kept = [k for k in line if k in hidden]
        if not kept or len(kept) == len(line):
            return False
        small_sum = primary(sum(counts[k] for k in kept))
        return len(kept) == 1 or (small_sum and not primary(sum(counts[k] for k in line)))

    changed = True
    while changed:
        changed = False
        for line in lines:
            if len(line) < 2 or not exposed(line):
                continue
            hidden.add(min((k for k in line if k not in hidden), key=lambda k: cost(line, k)))
            changed = True
    return hidden


def _total(keys: list[Key], published: dict[Key, int | None]) -> int | None:
    values = [published[k] for k in keys]
    return None if any(v is None for v in values) else sum(v or 0 for v in values)


def control(counts: Mapping[Key, int], groups: Sequence[str], codes: Sequence[str]) -> Table:
    """The disclosure-controlled table for true `counts` over the grid groups x codes (a key
    missing from `counts` is a true zero)."""
    grid = {(g, c): counts.get((g, c), 0) for g in groups for c in codes}
    hidden = secondary(grid, {k for k, n in grid.items() if primary(n)},
                       _lines(groups, codes))
    published: dict[Key, int | None] = {k: None if k in hidden else rounded(n)
                                        for k, n in grid.items()}
    cells = [Cell(g, c, published[(g, c)], (g, c) in hidden) for g in groups for c in codes]
    return Table(
        cells=cells,
        group_totals={g: _total([(g, c) for c in codes], published) for g in groups},
        code_totals={c: _total([(g, c) for g in groups], published) for c in codes},
        total=_total(list(grid), published))
