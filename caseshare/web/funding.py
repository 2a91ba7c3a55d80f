"""The funding view page (/mi/funding) and its CSV and JSON downloads: per partnership, the
guaranteed element, activity counts costed at their prices, outcome payments between threshold
and target with progress, and the total. Everything comes from `caseshare.access.funding`
(evaluation purpose only, disclosure-controlled counts, audited); the API gives the same figures
(`GET /api/v1/mi/funding`, the same body as the JSON download)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, request

from caseshare.access import funding
from caseshare.identity.service import MI_SCOPE
from caseshare.mi import periods
from caseshare.schemas.funding import FundingOut, funding_out
from caseshare.web.blueprint import bp, page, runtime, unit_of_work
from caseshare.web.ig_downloads import csv_response, json_response, utc

CSV_COLUMNS = ["protocol", "element", "code", "label", "count", "price_or_payment_pence",
               "threshold", "target", "amount_pence"]


def pounds(pence: int | None) -> str:
    """£1,234.56 (whole pounds without pence)."""
    if pence is None:
        return "not published"
    whole, part = divmod(pence, 100)
    return f"£{whole:,}" if part == 0 else f"£{whole:,}.{part:02d}"


def _date(name: str, errors: dict[str, str]) -> date | None:
    value = request.args.get(name, "").strip()
    if not value:
        return None
    try:
        found = date.fromisoformat(value)
    except ValueError:
        errors[name] = "Enter a date like 2026-06-01"
        return None
    if not periods.in_range(found):
        errors[name] = periods.MESSAGE
        return None
    return found


def _view() -> tuple[funding.FundingView | None, dict[str, str], dict[str, str]]:
    """The view for the period asked for (or the default), the errors, and what was typed."""
    errors: dict[str, str] = {}
    typed = {k: request.args.get(k, "") for k in ("from", "to")}
    first, last = _date("from", errors), _date("to", errors)
    if errors:
        first = last = None
    rt = runtime()
    with unit_of_work(MI_SCOPE) as ctx:
        first, last = funding.default_period(ctx.now.date(), first, last)
        if last < first:
            errors["to"] = "The end of the period must not be before its start"
            first, last = funding.default_period(ctx.now.date(), None, None)
        view = funding.funding_view(ctx, agreements=rt.funding, first=first, last=last)
    return view, errors, typed


@bp.route("/mi/funding", methods=["GET"])
def funding_page() -> tuple[str, int]:
    view, errors, typed = _view()
    return page("funding.html", 422 if errors else 200, view=view, errors=errors, typed=typed,
                pounds=pounds)


def csv_rows(view: funding.FundingView) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for p in view.partnerships:
        earned = p.earned
        rows.append({"protocol": p.protocol, "element": "guaranteed",
                     "amount_pence": earned.agreement.guaranteed_pence})
        rows += [{"protocol": p.protocol, "element": "activity", "code": line.price.key,
                  "label": line.price.label, "count": p.activity_counts[line.price.key],
                  "price_or_payment_pence": line.price.price_pence,
                  "amount_pence": line.amount_pence} for line in earned.activities]
        rows += [{"protocol": p.protocol, "element": "outcome", "code": line.payment.code,
                  "label": line.payment.label, "count": p.outcome_counts[line.payment.code],
                  "price_or_payment_pence": line.payment.payment_pence,
                  "threshold": line.payment.threshold, "target": line.payment.target,
                  "amount_pence": line.amount_pence} for line in earned.outcomes]
        rows.append({"protocol": p.protocol, "element": "total",
                     "amount_pence": earned.total_pence})
    return rows


@bp.route("/mi/funding.csv", methods=["GET"])
def funding_csv() -> Response:
    """The page's figures as CSV (a suppressed count is an empty cell), written like the other
    downloads (no cell may start a spreadsheet formula)."""
    view, _errors, _typed = _view()
    assert view is not None
    name = f"funding-{view.first.isoformat()}-to-{view.last.isoformat()}.csv"
    return csv_response(csv_rows(view), name, CSV_COLUMNS)


@bp.route("/mi/funding.json", methods=["GET"])
def funding_json() -> Response:
    """The page's figures as JSON, the same body as `GET /api/v1/mi/funding` (a suppressed count
    is null) with the time it was produced, for a partnership's own spreadsheets or scripts."""
    view, _errors, _typed = _view()
    assert view is not None
    name = f"funding-{view.first.isoformat()}-to-{view.last.isoformat()}.json"
    body = FundingOut().dump(funding_out(view))
    return json_response({"generated_at": utc(runtime().now()), **body}, name)
