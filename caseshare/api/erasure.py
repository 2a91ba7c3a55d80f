from __future__ import annotations

import uuid
from typing import Any

from caseshare.access import erasure
from caseshare.api.common import api_blueprint, no_store, unit_of_work
from caseshare.schemas.common import PurposeQuery
from caseshare.schemas.erasure import ErasureCreate, ErasureOut

blp = api_blueprint("erasure", __name__, "Erasure by crypto-shredding (IG officers)")


@blp.route("/subjects/<uuid:subject_id>/erasure", methods=["POST"])
@blp.arguments(PurposeQuery, location="query", as_kwargs=True)
@blp.arguments(ErasureCreate)
@blp.response(200, ErasureOut)
def erase(body: dict[str, Any], subject_id: uuid.UUID, purpose: str) -> Any:
    """Erase a claimant by crypto-shredding.

    The claimant's data keys are destroyed, so every sealed field becomes unreadable; later reads
    say `erased` and no restore of an earlier backup reopens the claimant. Only the IG officer of
    the lead organisation (the controller that registered the claimant) erases.
    """
    with unit_of_work(purpose, "subjects:erase") as ctx:
        out = erasure.erase_subject(ctx, subject_id, body["reason"], body.get("reference"))
        return out, 200, no_store()
