"""Disclosure control: primary suppression, rounding, secondary suppression and totals, with
property tests that no published figure gives away a count of 7 or fewer."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from caseshare.mi.disclosure import Table, control, rounded

GROUPS = ["derby-jcp", "derby-housing", "ca-derby"]
CODES = ["apa_in_place", "bank_account_opened"]


def _cells(table: Table) -> dict[tuple[str, str], int | None]:
    return {(c.group, c.code): c.count for c in table.cells}


def test_small_counts_are_suppressed_and_others_rounded_to_five() -> None:
    table = control({("a", "x"): 3, ("a", "y"): 12, ("b", "x"): 40, ("b", "y"): 9},
                    ["a", "b"], ["x", "y"])
    cells = _cells(table)
    assert cells[("a", "x")] is None
    assert rounded(12) == 10 and rounded(13) == 15 and rounded(8) == 10 and rounded(0) == 0
    assert all(c.count is None for c in table.cells if c.suppressed)


def test_a_lone_suppressed_cell_takes_its_smallest_neighbour_with_it() -> None:
    # Row a: 3 is suppressed; without more, the row total (known elsewhere) minus 100 gives it.
    table = control({("a", "x"): 3, ("a", "y"): 100, ("b", "x"): 50, ("b", "y"): 200},
                    ["a", "b"], ["x", "y"])
    hidden = {(c.group, c.code) for c in table.cells if c.suppressed}
    assert hidden == {("a", "x"), ("a", "y"), ("b", "x"), ("b", "y")}
    assert table.total is None and table.group_totals == {"a": None, "b": None}


def test_the_partner_is_the_smallest_non_zero_cell_not_a_zero() -> None:
    # B's 0 may be structural (known to be 0): hiding it with A would leave A = total - 25.
    table = control({("A", "x"): 3, ("B", "x"): 0, ("C", "x"): 25}, ["A", "B", "C"], ["x"])
    assert _cells(table) == {("A", "x"): None, ("B", "x"): 0, ("C", "x"): None}


def test_totals_are_sums_of_published_cells_only_when_nothing_is_hidden() -> None:
    table = control({("a", "x"): 12, ("a", "y"): 22, ("b", "x"): 30, ("b", "y"): 8},
                    ["a", "b"], ["x", "y"])
    assert table.group_totals["a"] == 10 + 20
    assert table.total == 10 + 20 + 30 + 10


def test_zero_cells_are_part_of_the_grid() -> None:
    table = control({("a", "x"): 20}, ["a", "b"], ["x"])
    assert _cells(table) == {("a", "x"): 20, ("b", "x"): 0}


counts_tables = st.tuples(st.integers(1, 4), st.integers(1, 4)).flatmap(
    lambda shape: st.tuples(
        st.just([f"g{i}" for i in range(shape[0])]),
        st.just([f"c{j}" for j in range(shape[1])]),
        st.lists(st.integers(0, 40), min_size=shape[0] * shape[1],
                 max_size=shape[0] * shape[1])))


def _lines(groups: list[str], codes: list[str]) -> list[list[tuple[str, str]]]:
    return ([[(g, c) for c in codes] for g in groups]
            + [[(g, c) for g in groups] for c in codes])


@settings(max_examples=300)
@given(counts_tables)
def test_no_published_figure_reveals_a_small_count(
        table_input: tuple[list[str], list[str], list[int]]) -> None:
    groups, codes, values = table_input
    counts = {(g, c): values[i * len(codes) + j]
              for i, g in enumerate(groups) for j, c in enumerate(codes)}
    table = control(counts, groups, codes)
    cells = _cells(table)
    hidden = {k for k, v in cells.items() if v is None}
    published = [v for v in cells.values() if v is not None]
    # Primary and rounding: nothing from 1 to 7, everything a multiple of 5.
    assert all(v % 5 == 0 and not 0 < v <= 7 for v in published)
    assert all(k in hidden for k, n in counts.items() if 0 < n <= 7)
    # The checker: within any row or column, a true total minus the published cells would
    # determine a suppressed cell only if it were the one suppressed cell in that line.
    for line in _lines(groups, codes):
        if len(line) > 1:
            assert sum(k in hidden for k in line) != 1, line
    # Totals carry no more than the published cells: suppressed whenever a cell is.
    for g in groups:
        row = [cells[(g, c)] for c in codes]
        expected = None if None in row else sum(v or 0 for v in row)
        assert table.group_totals[g] == expected
    for c in codes:
        col = [cells[(g, c)] for g in groups]
        assert table.code_totals[c] == (None if None in col else sum(v or 0 for v in col))
    assert all(t is None or t % 5 == 0 for t in [table.total, *table.group_totals.values()])
