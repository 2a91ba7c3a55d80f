"""Management information: disclosure-controlled outcome counts (HTTP edge)."""

from __future__ import annotations

from datetime import date
from typing import Any

from caseshare.access import mi
from caseshare.api.common import api_blueprint, no_store, unit_of_work
from caseshare.errors import ValidationError
from caseshare.identity.service import MI_SCOPE
from caseshare.schemas.mi import OutcomeMIOut, OutcomeMIQuery, mi_out

blp = api_blueprint("mi", __name__, "Management information: outcome counts, disclosure-controlled")


def baseline(compare_from: date | None, compare_to: date | None) -> mi.Period | None:
    if compare_from is None and compare_to is None:
        return None
    if compare_from is None or compare_to is None:
        raise ValidationError({"compare_from" if compare_from is None else "compare_to": [
            "A baseline needs both compare_from and compare_to."]})
    return mi.Period(compare_from, compare_to)


@blp.route("/mi/outcomes", methods=["GET"])
@blp.arguments(OutcomeMIQuery, location="query")
@blp.response(200, OutcomeMIOut)
def outcome_mi(query: dict[str, Any]) -> Any:
    """Outcome counts for the caller's partnership, by partner, service line or month.

    Only under the `evaluation` purpose of a protocol the caller's organisation is party to
    that declares it (403 `evaluation_not_declared` otherwise, audited), with the `mi:read`
    scope (the analyst role's; 403 `insufficient_scope` otherwise). Counts are distinct
    claimants: 1 to 7 suppressed (count null), others rounded to 5, with secondary suppression
    and totals only from published cells; the whole table at once (no paging). Every run is
    audited (`mi:outcomes:query`) with the range and grouping, never a count.
    """
    with unit_of_work(query["purpose"], MI_SCOPE) as ctx:
        result = mi.outcome_mi(ctx, by=query["by"], period=mi.Period(query["from_"], query["to"]),
                               baseline=baseline(query.get("compare_from"),
                                                 query.get("compare_to")))
        return mi_out(result), 200, no_store()
