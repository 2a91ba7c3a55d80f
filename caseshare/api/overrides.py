from __future__ import annotations

import uuid
from typing import Any

from caseshare.access import overrides
from caseshare.api.common import api_blueprint, context, no_store
from caseshare.policy.overrides import OverrideRequest
from caseshare.schemas.common import PurposeQuery
from caseshare.schemas.override import OverrideCreate, OverrideOut

blp = api_blueprint("overrides", __name__, "Break-glass overrides")


@blp.route("/subjects/<uuid:subject_id>/overrides", methods=["POST"])
@blp.arguments(PurposeQuery, location="query", as_kwargs=True)
@blp.arguments(OverrideCreate)
@blp.response(201, OverrideOut)
def create_override(body: dict[str, Any], subject_id: uuid.UUID, purpose: str) -> Any:
    ctx = context(purpose, "overrides:write")
    record = overrides.request_override(ctx, subject_id, OverrideRequest(**body))
    return record, 201, no_store()
