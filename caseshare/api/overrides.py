from __future__ import annotations

import uuid
from typing import Any

from caseshare.access import overrides
from caseshare.api.common import api_blueprint, no_store, unit_of_work
from caseshare.overrides.service import OverrideRequest
from caseshare.schemas.common import PurposeQuery
from caseshare.schemas.overrides import (
    OverrideCreate,
    OverrideDetail,
    OverrideList,
    OverrideListQuery,
    OverrideOut,
    OverrideReview,
)

blp = api_blueprint("overrides", __name__, "Break-glass overrides")


@blp.route("/subjects/<uuid:subject_id>/overrides", methods=["POST"])
@blp.arguments(PurposeQuery, location="query", as_kwargs=True)
@blp.arguments(OverrideCreate)
@blp.response(201, OverrideOut)
def create_override(body: dict[str, Any], subject_id: uuid.UUID, purpose: str) -> Any:
    """Request emergency access (break glass).

    For a named route (e.g. safeguarding), with a justification, the categories needed and a time
    box in hours. It opens data only for the staff member who requested it, only for those
    categories and hours, and only data that flows under a protocol whose override rules permit
    that route and role. Every override is reviewed by an IG officer.
    """
    with unit_of_work(purpose, "overrides:write") as ctx:
        record = overrides.request_override(ctx, subject_id, OverrideRequest(**body))
        return record, 201, no_store()


@blp.route("/overrides", methods=["GET"])
@blp.arguments(OverrideListQuery, location="query", as_kwargs=True)
@blp.response(200, OverrideList)
def list_overrides(purpose: str, status: str | None = None) -> Any:
    """List overrides to review.

    IG officers: the overrides their organisation reviews, filtered by `status` (e.g.
    `pending_review`).
    """
    with unit_of_work(purpose, "overrides:review") as ctx:
        return {"items": overrides.list_for_review(ctx, status), "next_cursor": None}, 200, \
            no_store()


@blp.route("/overrides/<uuid:override_id>", methods=["GET"])
@blp.arguments(PurposeQuery, location="query", as_kwargs=True)
@blp.response(200, OverrideDetail)
def get_override(override_id: uuid.UUID, purpose: str) -> Any:
    """Read one override for review.

    IG officers: the override with its justification, categories, protocols and time box.
    """
    with unit_of_work(purpose, "overrides:review") as ctx:
        record, justification = overrides.read_for_review(ctx, override_id)
        fields = ("id", "subject_id", "org_id", "purpose", "route", "categories", "protocol",
                  "protocols", "status", "notify", "starts_at", "expires_at", "review_due_at",
                  "reviewed_at")
        return {**{f: getattr(record, f) for f in fields}, "justification": justification}, 200, \
            no_store()


@blp.route("/overrides/<uuid:override_id>/review", methods=["POST"])
@blp.arguments(PurposeQuery, location="query", as_kwargs=True)
@blp.arguments(OverrideReview)
@blp.response(200, OverrideOut)
def review_override(body: dict[str, Any], override_id: uuid.UUID, purpose: str) -> Any:
    """Review an override.

    IG officers record whether the emergency access was `justified` or `not_justified`, with a note.
    """
    with unit_of_work(purpose, "overrides:review") as ctx:
        return overrides.review_override(ctx, override_id, body["outcome"], body["note"]), 200, \
            no_store()
