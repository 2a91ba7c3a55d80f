"""Retention over HTTP for information-governance officers (role ig_officer, purpose audit):
what is due for deletion, and legal holds that pause it."""

from __future__ import annotations

import uuid
from typing import Any

from caseshare.access import retention
from caseshare.api.common import api_blueprint, no_store, unit_of_work
from caseshare.schemas.common import PurposeQuery
from caseshare.schemas.retention import DueList, DueQuery, LegalHoldCreate, LegalHoldOut

blp = api_blueprint("retention", __name__, "Retention and legal holds (IG officers)")

READ_SCOPE = "audit:read"
# A hold decides whether data is deleted: the same IG authority (and token scope) as erasure.
HOLD_SCOPE = "subjects:erase"


@blp.route("/retention/due", methods=["GET"])
@blp.arguments(DueQuery, location="query", as_kwargs=True)
@blp.response(200, DueList)
def list_due(purpose: str, limit: int, cursor: str | None = None) -> Any:
    """List the copies due for deletion.

    Each organisation's copy of each category of a claimant whose retention has run out (the
    case closed, or consent ended with no other basis, and the flow's `retention_days` passed),
    for the organisations party to the IG officer's protocols, soonest first. `hold` is true
    when a legal hold pauses the deletion. The listing is itself audited.
    """
    with unit_of_work(purpose, READ_SCOPE) as ctx:
        items, next_cursor = retention.list_due(ctx, cursor=cursor, limit=limit)
        return {"items": items, "next_cursor": next_cursor}, 200, no_store()


@blp.route("/subjects/<uuid:subject_id>/legal-holds", methods=["POST"])
@blp.arguments(PurposeQuery, location="query", as_kwargs=True)
@blp.arguments(LegalHoldCreate)
@blp.response(201, LegalHoldOut)
def place_hold(body: dict[str, Any], subject_id: uuid.UUID, purpose: str) -> Any:
    """Place a legal hold on a claimant.

    Pauses the deletion of every copy of the claimant's data until the hold is lifted. `reason`
    (10 to 500 characters) is a reference and a short explanation, never claimant detail. One
    active hold per claimant: a second is `409`. Audited.
    """
    with unit_of_work(purpose, HOLD_SCOPE) as ctx:
        return retention.place_hold(ctx, subject_id, body["reason"]), 201, no_store()


@blp.route("/subjects/<uuid:subject_id>/legal-holds/<uuid:hold_id>", methods=["DELETE"])
@blp.arguments(PurposeQuery, location="query", as_kwargs=True)
@blp.response(200, LegalHoldOut)
def lift_hold(subject_id: uuid.UUID, hold_id: uuid.UUID, purpose: str) -> Any:
    """Lift a legal hold.

    Deletion resumes at the next retention pass for copies already due. Only an IG officer of
    the organisation that placed the hold lifts it (`403` otherwise); lifting it again is
    `409`. Audited.
    """
    with unit_of_work(purpose, HOLD_SCOPE) as ctx:
        return retention.lift_hold(ctx, subject_id, hold_id), 200, no_store()
