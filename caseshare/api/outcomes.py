"""A claimant's outcomes: record one, list them (HTTP edge)."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

from caseshare.access import outcomes
from caseshare.api.common import api_blueprint, no_store, unit_of_work
from caseshare.schemas.common import PurposeQuery
from caseshare.schemas.outcomes import OutcomeIn, OutcomeListOut, OutcomeOut

blp = api_blueprint("outcomes", __name__, "Outcomes a claimant achieved, with attribution")


@blp.route("/subjects/<uuid:subject_id>/outcomes", methods=["POST"])
@blp.arguments(PurposeQuery, location="query", as_kwargs=True)
@blp.arguments(OutcomeIn)
@blp.response(201, OutcomeOut)
def record_outcome(body: dict[str, Any], subject_id: uuid.UUID, purpose: str) -> Any:
    """Record an outcome the claimant achieved.

    The code comes from the partnership's list (an unknown or computed code: 422 naming
    `code`); the caller needs a write grant of the code's category for the claimant (403
    otherwise) and an open case. The outcome is attributed to the organisations that
    contributed (recording, plan entry or record owners, the referral chain), in equal shares.
    """
    with unit_of_work(purpose, "case_plans:write") as ctx:
        view = outcomes.record_outcome(ctx, subject_id, body)
        return dataclasses.asdict(view), 201, no_store()


@blp.route("/subjects/<uuid:subject_id>/outcomes", methods=["GET"])
@blp.arguments(PurposeQuery, location="query", as_kwargs=True)
@blp.response(200, OutcomeListOut)
def list_outcomes(subject_id: uuid.UUID, purpose: str) -> Any:
    """The claimant's outcomes the caller may read.

    Each outcome is read under its code's category: those the decision withholds are left out
    and their categories listed in `withheld` with reason codes.
    """
    with unit_of_work(purpose, "case_plans:read") as ctx:
        views, withheld = outcomes.list_outcomes(ctx, subject_id)
        return {"outcomes": [dataclasses.asdict(v) for v in views],
                "withheld": withheld}, 200, no_store()
