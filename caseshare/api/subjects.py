from __future__ import annotations

import uuid
from typing import Any

from caseshare.access import subjects
from caseshare.api.common import api_blueprint, no_store, unit_of_work
from caseshare.schemas.common import PurposeQuery
from caseshare.schemas.subjects import NinoQuery, SubjectCreate, SubjectList, SubjectOut

blp = api_blueprint("subjects", __name__, "Claimants (data subjects)")


@blp.route("/subjects", methods=["POST"])
@blp.arguments(PurposeQuery, location="query", as_kwargs=True)
@blp.arguments(SubjectCreate)
@blp.response(201, SubjectOut, headers=None)
def create_subject(body: dict[str, Any], purpose: str) -> Any:
    """Register a claimant.

    The caller's organisation becomes the lead case member. `jurisdiction` is `england`, `wales` or
    `scotland`; a NINO, when given, is stored sealed with a blind index for finding the claimant
    again. The answer holds the identity fields the decision permits the caller to read back.
    """
    with unit_of_work(purpose, "subjects:write") as ctx:
        jurisdiction = body.pop("jurisdiction")
        if body.get("date_of_birth") is not None:
            body["date_of_birth"] = body["date_of_birth"].isoformat()
        subject, opened = subjects.register_subject(ctx, body, jurisdiction)
        return {"id": subject.id, "jurisdiction": subject.jurisdiction,
                "lead_org": subject.lead_org_id, **opened, "withheld": []}, 201, no_store()


@blp.route("/subjects", methods=["GET"])
@blp.arguments(NinoQuery, location="query", as_kwargs=True)
@blp.response(200, SubjectList)
def find_subjects(purpose: str, nino: str) -> Any:
    """Find claimants by National Insurance number.

    Only claimants the caller's organisation works with are found (a blind-index match on the
    NINO; the NINO itself is never written to the audit log). An empty list is the same answer for
    a claimant who does not exist and one the organisation has no relationship with.
    """
    with unit_of_work(purpose, "subjects:read") as ctx:
        found = subjects.find_by_nino(ctx, nino)
        items = [{"id": s.id, "jurisdiction": s.jurisdiction} for s in found]
        return {"items": items, "next_cursor": None}, 200, no_store()


@blp.route("/subjects/<uuid:subject_id>", methods=["GET"])
@blp.arguments(PurposeQuery, location="query", as_kwargs=True)
@blp.response(200, SubjectOut)
def get_subject(subject_id: uuid.UUID, purpose: str) -> Any:
    """The claimant's identity fields the decision permits.

    A claimant the caller's organisation has no relationship with (not a case member, no accepted
    referral, not named in a consent) is 404, IG officers included. The reserved purposes
    `audit` and `subject_access` open no claimant data (every category withheld,
    `purpose_reserved`).
    """
    with unit_of_work(purpose, "subjects:read") as ctx:
        subject, opened, withheld = subjects.read_subject(ctx, subject_id)
        return {"id": subject.id, "jurisdiction": subject.jurisdiction,
                "lead_org": subject.lead_org_id, **opened, "withheld": withheld}, 200, no_store()
