"""The monthly rent account rules (pure): the six-month "paying own rent" run and the APA alert.

A month counts towards "paying own rent" when the claimant paid it themselves (not a managed
payment), paid at least the rent due, and the arrears did not rise from the month before (when
that month is recorded). Six counting months in a row, with no month missing between them, make
the outcome; a month that does not count, or a month not recorded, breaks the run, and only a
new run of six after a break is a new outcome.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

RUN_MONTHS = 6


@dataclass(frozen=True)
class MonthFigures:
    """One month of a tenancy's rent account (pence)."""

    month: date  # the month's first day
    rent_due: int
    rent_paid: int
    arrears: int
    paid_by: str


def first_of(month: str) -> date | None:
    """'2026-06' -> 2026-06-01; None for anything else."""
    if not isinstance(month, str) or len(month) != 7 or month[4] != "-":
        return None
    try:
        return date(int(month[:4]), int(month[5:]), 1)
    except ValueError:
        return None


def previous_month(month: date) -> date:
    return date(month.year - 1, 12, 1) if month.month == 1 else date(month.year,
                                                                     month.month - 1, 1)


def next_month(month: date) -> date:
    return date(month.year + 1, 1, 1) if month.month == 12 else date(month.year,
                                                                     month.month + 1, 1)


def last_day(month: date) -> date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def counts(figures: MonthFigures, before: MonthFigures | None) -> bool:
    """Whether this month counts towards paying own rent."""
    rising = before is not None and figures.arrears > before.arrears
    return (figures.paid_by == "claimant" and figures.rent_paid >= figures.rent_due
            and not rising)


def run_ending(months: Iterable[MonthFigures], month: date) -> list[date]:
    """The counting months in a row that end with `month` (empty when it does not count)."""
    by_month = {m.month: m for m in months}
    run: list[date] = []
    current = month
    while current in by_month:
        before = by_month.get(previous_month(current))
        if not counts(by_month[current], before):
            break
        run.append(current)
        current = previous_month(current)
    return sorted(run)


def run_containing(months: Iterable[MonthFigures], month: date) -> list[date]:
    """The whole run of counting months in a row that holds `month` (empty when it does not
    count): back from it as `run_ending`, and forward while the next month is recorded and
    counts. A month filled in between two runs joins them."""
    by_month = {m.month: m for m in months}
    run = run_ending(by_month.values(), month)
    if not run:
        return []
    current = next_month(month)
    while current in by_month and counts(by_month[current], by_month[previous_month(current)]):
        run.append(current)
        current = next_month(current)
    return run


def paying_own_rent_achieved(months: Sequence[MonthFigures], month: date,
                             already: Iterable[date]) -> date | None:
    """The day the outcome is achieved when recording `month` makes a run of six, else None:
    the last day of the run's sixth month (recording months in order, the month recorded;
    filling in a missing month, possibly earlier). `already`: the days this tenancy's earlier
    outcomes were achieved on; a run that already holds one (a seventh month, or a month filled
    in inside a counted run) is not a new one."""
    run = run_containing(months, month)
    if len(run) < RUN_MONTHS:
        return None
    if any(run[0] <= day <= last_day(run[-1]) for day in already):
        return None
    return last_day(run[RUN_MONTHS - 1])


def arrears_after_apa(arrears: int, month: date, apa_ended_on: date | None) -> bool:
    """Arrears returned after an APA ended: the month's arrears are above zero and the APA ended
    before the month began."""
    return arrears > 0 and apa_ended_on is not None and apa_ended_on < month
