"""Management information on outcomes: disclosure-controlled counts, under `evaluation` only.

MI is produced only under the `evaluation` purpose of a protocol the caller's organisation is
party to that declares it (with its own lawful basis; access/decision.py `purpose_reason`
refuses `evaluation_not_declared` otherwise, audited, before anything is read). It covers the
caller's partnership: the outcome codes of those protocols' lists, recorded by their parties.
True counts never leave this module: every figure goes through mi/disclosure.py `control`
(suppression, rounding, secondary suppression, totals from published cells), and the audit
event records the range, the grouping and the number of cells, never a count of people.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from caseshare.access import guards
from caseshare.access.context import RequestContext
from caseshare.audit.event_types import EventType
from caseshare.case_plan.models import SUPPORT_SERVICES
from caseshare.errors import ValidationError
from caseshare.mi import periods, queries
from caseshare.mi.disclosure import Table, control
from caseshare.policy.models import EVALUATION, Protocol
from caseshare.reasons import Reason

MAX_DAYS = 3 * 366  # a range longer than this is a 422 (one table, never paged)


@dataclass(frozen=True)
class Period:
    start: date
    end: date


@dataclass(frozen=True)
class OutcomeMI:
    """The published tables: the period asked for and, where asked, a baseline period."""

    by: str
    period: Period
    table: Table
    baseline_period: Period | None = None
    baseline: Table | None = None
    labels: dict[str, str] | None = None


def evaluation_protocols(ctx: RequestContext) -> list[Protocol]:
    """The protocols in force the caller's organisation is party to that declare evaluation."""
    return [p for p in ctx.protocols.for_party(ctx.principal.org)
            if EVALUATION in p.purposes and p.in_force(ctx.now.date())]


def _check_period(period: Period, field: str, start_field: str) -> None:
    periods.check(**{start_field: period.start, field: period.end})
    if period.end < period.start:
        raise ValidationError({field: ["The end of the period is before its start."]})
    if (period.end - period.start).days > MAX_DAYS:
        raise ValidationError({field: ["A period is at most three years."]})


def _partnership(ctx: RequestContext) -> tuple[list[str], list[str], dict[str, str]]:
    """Codes (in list order), parties and code labels of the caller's evaluation protocols;
    refused (403, audited) when there is none or the purpose is not `evaluation`."""
    protocols = evaluation_protocols(ctx) if ctx.purpose == EVALUATION else []
    if not protocols:
        guards.deny(ctx, EventType.MI_OUTCOMES_QUERY, None,
                    [str(Reason.EVALUATION_NOT_DECLARED)], [])
    codes = ctx.outcome_codes.for_protocols(p.id for p in protocols)
    parties = sorted({party.id for p in protocols for party in p.parties})
    return list(codes), parties, {c: d.label for c, d in codes.items()}


def _groups(by: str, period: Period, parties: list[str]) -> list[str]:
    """The table's rows: every partner, service line or month, whether or not anything was
    counted in it (a full grid). Fixed by the query alone, never by what the counts hold, so
    which rows appear says nothing about anyone."""
    if by == "month":
        return queries.months(period.start, period.end)
    if by == "partner":
        return parties
    return [*SUPPORT_SERVICES, queries.NO_SERVICE_LINE]


def _table(ctx: RequestContext, by: str, period: Period, codes: list[str],
           parties: list[str]) -> Table:
    counts = queries.outcome_counts(ctx.session, by=by, start=period.start, end=period.end,
                                    codes=codes, orgs=parties)
    return control(counts, _groups(by, period, parties), codes)


def outcome_mi(ctx: RequestContext, *, by: str, period: Period,
               baseline: Period | None = None) -> OutcomeMI:
    """The disclosure-controlled counts of the caller's partnership (and of a baseline
    period, to compare a trial period against, not overlapping it), audited as one run. Both
    periods are widened to whole calendar months (mi/periods.py `whole_months`); the result
    carries the periods counted."""
    _check_period(period, "to", "from")
    period = Period(*periods.whole_months(period.start, period.end))
    if baseline is not None:
        _check_period(baseline, "compare_to", "compare_from")
        baseline = Period(*periods.whole_months(baseline.start, baseline.end))
        if baseline.start <= period.end and period.start <= baseline.end:
            # Two tables over overlapping periods differ by the months only one covers.
            raise ValidationError({"compare_from": [
                "The baseline period must not overlap the period it is compared with."]})
    codes, parties, labels = _partnership(ctx)
    table = _table(ctx, by, period, codes, parties)
    base = _table(ctx, by, baseline, codes, parties) if baseline else None
    details: dict[str, object] = {"from": period.start.isoformat(), "to": period.end.isoformat(),
                                  "by": by, "cells": len(table.cells)}
    if baseline is not None and base is not None:
        details |= {"compare_from": baseline.start.isoformat(),
                    "compare_to": baseline.end.isoformat(), "baseline_cells": len(base.cells)}
    ctx.audit(EventType.MI_OUTCOMES_QUERY, outcome="allow", categories=[], details=details)
    return OutcomeMI(by=by, period=period, table=table, baseline_period=baseline,
                     baseline=base, labels=labels)
