"""The funding view: what each partnership's recorded work earns (HTTP edge)."""

from __future__ import annotations

from typing import Any

from caseshare.access import funding
from caseshare.api.common import api_blueprint, no_store, runtime, unit_of_work
from caseshare.identity.service import MI_SCOPE
from caseshare.schemas.funding import FundingOut, FundingQuery, funding_out

blp = api_blueprint("funding", __name__,
                    "Funding view: guaranteed, activity and outcome payments (controlled counts)")


@blp.route("/mi/funding", methods=["GET"])
@blp.arguments(FundingQuery, location="query")
@blp.response(200, FundingOut)
def funding_view(query: dict[str, Any]) -> Any:
    """What each of the caller's partnerships has earned under its funding agreement.

    Per partnership (a protocol in force that declares `evaluation` and has a
    `partnerships/<protocol>/funding.yaml`): the guaranteed element, activity counts costed at
    their prices, outcome payments between threshold and target, the total, and each
    organisation's part of the outcome payments from attributed shares. Only under the
    `evaluation` purpose (403 `evaluation_not_declared` otherwise, audited), with the
    `mi:read` scope (the analyst role's; 403 `insufficient_scope` otherwise). Every count is
    disclosure-controlled (1 to 7 suppressed, others rounded to 5) and the money is computed
    from the published counts. Every run is audited (`mi:funding:query`), never with a count.
    """
    rt = runtime()
    with unit_of_work(query["purpose"], MI_SCOPE) as ctx:
        first, last = funding.default_period(ctx.now.date(), query.get("from_"), query.get("to"))
        view = funding.funding_view(ctx, agreements=rt.funding, first=first, last=last)
        return funding_out(view), 200, no_store()
