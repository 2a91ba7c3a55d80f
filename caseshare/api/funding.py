"""The funding view: what each partnership's recorded work earns (HTTP edge)."""

from __future__ import annotations

from typing import Any

from caseshare.access import funding
from caseshare.api.common import api_blueprint, no_store, runtime, unit_of_work
from caseshare.schemas.funding import FundingOut, FundingQuery
from caseshare.schemas.mi import table_out

blp = api_blueprint("funding", __name__,
                    "Funding view: guaranteed, activity and outcome payments (controlled counts)")


def partnership_out(p: funding.PartnershipFunding) -> dict[str, Any]:
    earned, agreement = p.earned, p.earned.agreement
    return {
        "protocol": p.protocol, "title": p.title, "period_months": agreement.period_months,
        "guaranteed_pence": agreement.guaranteed_pence,
        "activities": [{"key": line.price.key, "label": line.price.label,
                        "price_pence": line.price.price_pence,
                        "count": p.activity_counts[line.price.key],
                        "amount_pence": line.amount_pence} for line in earned.activities],
        "outcomes": [{"code": line.payment.code, "label": line.payment.label,
                      "payment_pence": line.payment.payment_pence,
                      "threshold": line.payment.threshold, "target": line.payment.target,
                      "count": p.outcome_counts[line.payment.code],
                      "paid_count": line.paid_count, "amount_pence": line.amount_pence,
                      "maximum_pence": line.maximum_pence} for line in earned.outcomes],
        "activity_pence": earned.activity_pence, "outcome_pence": earned.outcome_pence,
        "total_pence": earned.total_pence, "shares": table_out(p.shares),
        "apportioned": [{"org": a.org, "outcome_pence": a.outcome_pence}
                        for a in p.apportioned],
    }


@blp.route("/mi/funding", methods=["GET"])
@blp.arguments(FundingQuery, location="query")
@blp.response(200, FundingOut)
def funding_view(query: dict[str, Any]) -> Any:
    """What each of the caller's partnerships has earned under its funding agreement.

    Per partnership (a protocol in force that declares `evaluation` and has a
    `partnerships/<protocol>/funding.yaml`): the guaranteed element, activity counts costed at
    their prices, outcome payments between threshold and target, the total, and each
    organisation's part of the outcome payments from attributed shares. Only under the
    `evaluation` purpose (403 `evaluation_not_declared` otherwise, audited). Every count is
    disclosure-controlled (1 to 7 suppressed, others rounded to 5) and the money is computed
    from the published counts. Every run is audited (`mi:funding:query`), never with a count.
    """
    rt = runtime()
    with unit_of_work(query["purpose"], "subjects:read") as ctx:
        first, last = funding.default_period(ctx.now.date(), query.get("from_"), query.get("to"))
        view = funding.funding_view(ctx, agreements=rt.funding, first=first, last=last)
        return {"from_": view.first, "to": view.last,
                "partnerships": [partnership_out(p) for p in view.partnerships]}, 200, no_store()
