"""The management information page (`/mi`): outcome counts for the partnership, chosen by
period and grouping, as a bar chart with a table alternative, and as CSV and JSON downloads of
the same disclosure-controlled cells (never anything else: access/mi.py is the only source).

Only a caller working under the `evaluation` purpose of a protocol that declares it gets past
the use case; anyone else sees the audited refusal with its reason in plain words. A GET form,
so a query is a link; what was typed is kept when it is wrong.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Response, request

from caseshare.access import mi
from caseshare.errors import ValidationError
from caseshare.identity.service import MI_SCOPE
from caseshare.mi import periods
from caseshare.mi.disclosure import Table
from caseshare.mi.queries import GROUPINGS
from caseshare.schemas.mi import OutcomeMIOut, mi_out
from caseshare.web import ig_downloads, mi_charts
from caseshare.web.blueprint import bp, page, run, runtime
from caseshare.web.forms import Errors, domain_errors

DEFAULT_DAYS = 182
FIELDS = ("from", "to", "by", "compare_from", "compare_to")
BY_NAMES = {"partner": "Partner organisation", "service_line": "Service line", "month": "Month"}
CSV_COLUMNS = ["period", "group", "code", "count", "suppressed"]


def _values() -> dict[str, str]:
    today = runtime().now().date()
    values = {k: request.args.get(k, "").strip() for k in FIELDS}
    values["from"] = values["from"] or (today - timedelta(days=DEFAULT_DAYS)).isoformat()
    values["to"] = values["to"] or today.isoformat()
    values["by"] = values["by"] or "partner"
    return values


def _date(values: dict[str, str], name: str, errors: Errors) -> date | None:
    if not values[name]:
        return None
    try:
        value = date.fromisoformat(values[name])
    except ValueError:
        errors[name] = "Enter a date like 2026-04-01"
        return None
    if not periods.in_range(value):
        errors[name] = periods.MESSAGE
        return None
    return value


def _query(values: dict[str, str]) -> tuple[dict[str, Any] | None, Errors]:
    """The use case's arguments, or the form's errors (nothing run)."""
    errors: Errors = {}
    start, end = _date(values, "from", errors), _date(values, "to", errors)
    base_from, base_to = _date(values, "compare_from", errors), _date(values, "compare_to", errors)
    if values["by"] not in GROUPINGS:
        errors["by"] = "Choose how to group the counts"
    if (base_from is None) != (base_to is None) and not errors:
        errors["compare_to" if base_to is None else "compare_from"] = (
            "Enter both dates of the baseline period, or neither")
    if errors or start is None or end is None:
        return None, errors
    baseline = mi.Period(base_from, base_to) if base_from and base_to else None
    return {"by": values["by"], "period": mi.Period(start, end), "baseline": baseline}, errors


def _run(values: dict[str, str]) -> tuple[mi.OutcomeMI | None, Errors]:
    query, errors = _query(values)
    if query is None:
        return None, errors
    try:
        return run(MI_SCOPE, mi.outcome_mi, **query), {}
    except ValidationError as exc:
        return None, domain_errors(exc.extra["errors"], {k: k for k in FIELDS})


@bp.route("/mi", methods=["GET"])
def mi_outcomes() -> tuple[str, int]:
    values = _values()
    result, errors = _run(values)
    chart = (mi_charts.cells_chart(result.table.cells, result.labels or {})
             if result else None)
    return page("mi.html", 422 if errors else 200, v=values, errors=errors, result=result,
                chart=chart, groupings=BY_NAMES, query=request.query_string.decode())


def _rows(result: mi.OutcomeMI) -> list[dict[str, Any]]:
    def rows(period: str, table: Table) -> list[dict[str, Any]]:
        return [{"period": period, "group": c.group, "code": c.code, "count": c.count,
                 "suppressed": c.suppressed} for c in table.cells]

    found = rows("trial", result.table)
    if result.baseline is not None:
        found += rows("baseline", result.baseline)
    return found


@bp.route("/mi/outcomes.csv", methods=["GET"])
def mi_outcomes_csv() -> Response | tuple[str, int]:
    values = _values()
    result, errors = _run(values)
    if result is None:
        return page("mi.html", 422, v=values, errors=errors, result=None, chart=None,
                    groupings=BY_NAMES, query="")
    return ig_downloads.csv_response(_rows(result), "outcome-counts.csv", CSV_COLUMNS)


@bp.route("/mi/outcomes.json", methods=["GET"])
def mi_outcomes_json() -> Response | tuple[str, int]:
    values = _values()
    result, errors = _run(values)
    if result is None:
        return page("mi.html", 422, v=values, errors=errors, result=None, chart=None,
                    groupings=BY_NAMES, query="")
    body = OutcomeMIOut().dump(mi_out(result))
    return ig_downloads.json_response({"generated_at": ig_downloads.utc(runtime().now()),
                                       **body}, "outcome-counts.json")
