"""The six-month "paying own rent" rule and the arrears-after-APA alert rule."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from caseshare.support_records.rent import (
    MonthFigures,
    arrears_after_apa,
    first_of,
    paying_own_rent_achieved,
    run_ending,
)


def month(n: int) -> date:
    """Month n counted from January 2026 (0)."""
    return date(2026 + n // 12, n % 12 + 1, 1)


def paid(n: int, arrears: int = 0, paid_by: str = "claimant", paid: int = 45000) -> MonthFigures:
    return MonthFigures(month(n), 45000, paid, arrears, paid_by)


def test_six_months_in_a_row_is_achieved_on_the_last_day_of_the_sixth() -> None:
    months = [paid(n) for n in range(6)]
    assert paying_own_rent_achieved(months[:5], month(4), []) is None
    assert paying_own_rent_achieved(months, month(5), []) == date(2026, 6, 30)


def test_a_gap_a_managed_payment_or_a_short_payment_breaks_the_run() -> None:
    gap = [paid(n) for n in (0, 1, 2, 4, 5, 6)]
    assert paying_own_rent_achieved(gap, month(6), []) is None
    managed = [paid(n, paid_by="managed_payment" if n == 2 else "claimant") for n in range(6)]
    assert paying_own_rent_achieved(managed, month(5), []) is None
    short = [paid(n, paid=44999 if n == 3 else 45000) for n in range(6)]
    assert paying_own_rent_achieved(short, month(5), []) is None


def test_arrears_may_fall_or_stay_but_not_rise() -> None:
    falling = [paid(n, arrears=1000 - 100 * n) for n in range(6)]
    assert paying_own_rent_achieved(falling, month(5), []) is not None
    rising = [paid(n, arrears=500 if n == 3 else 0) for n in range(6)]
    assert paying_own_rent_achieved(rising, month(5), []) is None


def test_once_per_run_and_again_only_after_a_break() -> None:
    first = date(2026, 6, 30)
    seven = [paid(n) for n in range(7)]
    assert paying_own_rent_achieved(seven, month(6), [first]) is None
    # A month not paid in full (month 7), then six more: a new outcome.
    later = [*seven, paid(7, paid=0), *[paid(n) for n in range(8, 14)]]
    assert run_ending(later, month(13)) == [month(n) for n in range(8, 14)]
    assert paying_own_rent_achieved(later, month(13), [first]) == date(2027, 2, 28)


def test_filling_a_gap_inside_a_counted_run_is_not_a_second_outcome() -> None:
    months = [paid(n) for n in range(10)]
    assert paying_own_rent_achieved(months, month(2), [date(2026, 10, 31)]) is None


@given(st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=30))
def test_an_outcome_only_ever_ends_six_counting_months(flags: list[tuple[bool, bool]]) -> None:
    months = [paid(n, paid_by="claimant" if own else "managed_payment", paid=45000 if full
                   else 0) for n, (own, full) in enumerate(flags)]
    achieved: list[date] = []
    for n in range(len(months)):
        day = paying_own_rent_achieved(months[:n + 1], month(n), achieved)
        if day is not None:
            achieved.append(day)
            assert all(own and full for own, full in flags[n - 5:n + 1]) and n >= 5
    longest = max_run(flags)
    assert (len(achieved) > 0) == (longest >= 6)


def max_run(flags: list[tuple[bool, bool]]) -> int:
    best = current = 0
    for own, full in flags:
        current = current + 1 if own and full else 0
        best = max(best, current)
    return best


def test_arrears_after_an_apa_ended_before_the_month() -> None:
    assert arrears_after_apa(100, month(5), date(2026, 5, 31))
    assert not arrears_after_apa(0, month(5), date(2026, 5, 31))
    assert not arrears_after_apa(100, month(5), date(2026, 6, 1))  # ended during the month
    assert not arrears_after_apa(100, month(5), None)  # still in place


def test_months_are_year_and_month() -> None:
    assert first_of("2026-06") == date(2026, 6, 1)
    assert first_of("2026-13") is None and first_of("June") is None


def test_filling_in_a_missing_month_completes_the_run_at_its_sixth_month() -> None:
    # Review 24 finding 10: January to March and May to July, then April: one run of seven.
    months = [paid(n) for n in (0, 1, 2, 4, 5, 6)]
    assert paying_own_rent_achieved(months, month(6), []) is None
    filled = [*months, paid(3)]
    assert paying_own_rent_achieved(filled, month(3), []) == date(2026, 6, 30)
    assert paying_own_rent_achieved(filled, month(3), [date(2026, 6, 30)]) is None


def test_a_filled_in_month_that_does_not_count_joins_nothing() -> None:
    months = [paid(n) for n in (0, 1, 2, 4, 5, 6)]
    assert paying_own_rent_achieved([*months, paid(3, paid=0)], month(3), []) is None


@given(st.permutations(range(14)), st.sets(st.integers(0, 13), max_size=3))
def test_every_run_of_six_gets_its_outcome_whatever_the_order(
    order: list[int], unpaid: set[int]
) -> None:
    """Months recorded in any order: once all are in, every run of six or more counting months
    holds an outcome, and each outcome is the last day of a month in such a run."""
    recorded: list[MonthFigures] = []
    achieved: list[date] = []
    for n in order:
        recorded.append(paid(n, paid=0 if n in unpaid else 45000))
        day = paying_own_rent_achieved(recorded, month(n), achieved)
        if day is not None:
            achieved.append(day)
    runs: list[list[int]] = [[]]
    for n in range(14):
        if n in unpaid:
            runs.append([])
        else:
            runs[-1].append(n)
    long_runs = [{month(n) for n in run} for run in runs if len(run) >= 6]
    held = [day.replace(day=1) for day in achieved]
    assert all(any(m in run for run in long_runs) for m in held)
    assert all(any(m in run for m in held) for run in long_runs)
