"""The counts management information is built from: distinct claimants per (group, outcome
code) over a date range, aggregated in SQL over plain columns only (outcomes and their
attributions; nothing sealed is read or opened). These are true counts: nothing may publish
them before disclosure control (mi/disclosure.py).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from caseshare.outcomes.models import Outcome, OutcomeAttribution

GROUPINGS = ("partner", "service_line", "month")
NO_SERVICE_LINE = "none"

Counts = dict[tuple[str, str], int]


def _month(session: Session) -> ColumnElement[Any]:
    """`YYYY-MM` of the achieved date, in the engine's own words."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(Outcome.achieved_on, "YYYY-MM")
    return func.strftime("%Y-%m", Outcome.achieved_on)


def outcome_counts(session: Session, *, by: str, start: date, end: date,
                   codes: Collection[str], orgs: Collection[str]) -> Counts:
    """Distinct claimants achieving each code in [start, end], by partner (every organisation
    of `orgs` the outcome is attributed to counts it), service line or month; only outcomes of
    `codes` recorded by `orgs` (the caller's partnership)."""
    if by == "partner":
        group: Any = OutcomeAttribution.org
    elif by == "service_line":
        group = func.coalesce(Outcome.service_line, NO_SERVICE_LINE)
    else:
        group = _month(session)
    query = (select(group, Outcome.code, func.count(func.distinct(Outcome.subject_id)))
             .where(Outcome.achieved_on >= start, Outcome.achieved_on <= end,
                    Outcome.code.in_(list(codes)), Outcome.recorded_org.in_(list(orgs)))
             .group_by(group, Outcome.code))
    if by == "partner":
        # Only the partnership's own organisations are rows: a row for an outsider that had a
        # share would reveal, by being there, that it contributed to at least one outcome.
        query = query.join(OutcomeAttribution, OutcomeAttribution.outcome_id == Outcome.id
                           ).where(OutcomeAttribution.org.in_(list(orgs)))
    return {(str(g), str(c)): int(n) for g, c, n in session.execute(query)}


def months(start: date, end: date) -> list[str]:
    """Every `YYYY-MM` from start's month to end's, in order (the month grouping's rows)."""
    found, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found
