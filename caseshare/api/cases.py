"""The case around a claimant: lead worker, review date, closure and reopening (HTTP edge)."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

from caseshare.access import cases
from caseshare.access.cases import CaseDetails
from caseshare.api.common import api_blueprint, no_store, unit_of_work
from caseshare.schemas.cases import CaseOut, CasePatch, ClosureIn, ClosureOut
from caseshare.schemas.common import PurposeQuery

blp = api_blueprint("cases", __name__, "The case: lead worker, review date, closure")


def case_out(details: CaseDetails) -> dict[str, Any]:
    return {**dataclasses.asdict(details.case),
            "lead_worker_history": [dataclasses.asdict(s) for s in details.history]}


def closure_out(details: CaseDetails) -> dict[str, Any]:
    return {"status": details.case.status, "closed_at": details.case.closed_at,
            "reason": details.case.closure_reason}


@blp.route("/subjects/<uuid:subject_id>/case", methods=["GET"])
@blp.arguments(PurposeQuery, location="query", as_kwargs=True)
@blp.response(200, CaseOut)
def read_case(subject_id: uuid.UUID, purpose: str) -> Any:
    """The claimant's case: status, lead worker, review date and lead worker history.

    A claimant whose case was never changed has an open case led by their lead organisation
    with no named worker. Any organisation with a relationship with the claimant reads it.
    """
    with unit_of_work(purpose, "case_plans:read") as ctx:
        return case_out(cases.read_case(ctx, subject_id)), 200, no_store()


@blp.route("/subjects/<uuid:subject_id>/case", methods=["PATCH"])
@blp.arguments(PurposeQuery, location="query", as_kwargs=True)
@blp.arguments(CasePatch)
@blp.response(200, CaseOut)
def update_case(body: dict[str, Any], subject_id: uuid.UUID, purpose: str) -> Any:
    """Change the lead worker or the review date.

    Only a case member with a write grant for the purpose (403 otherwise); the lead worker must
    be an active staff member of the lead organisation and the review date today or later (422
    naming the field). A closed case is read-only (403 `case_closed`) until reopened.
    """
    with unit_of_work(purpose, "case_plans:write") as ctx:
        details = cases.update_case(ctx, subject_id, **body)
        return case_out(details), 200, no_store()


@blp.route("/subjects/<uuid:subject_id>/closure", methods=["POST"])
@blp.arguments(PurposeQuery, location="query", as_kwargs=True)
@blp.arguments(ClosureIn)
@blp.response(200, ClosureOut)
def close_case(body: dict[str, Any], subject_id: uuid.UUID, purpose: str) -> Any:
    """Close the claimant's case.

    With a reason from the controlled list (`other` needs a note). Consents whose expiry rule is
    `case_closed` end now, referrals in progress close (`case_closed`), and the retention clock
    starts. A closed case again: 409. Only a case member with a write grant: 403 otherwise.
    """
    with unit_of_work(purpose, "case_plans:write") as ctx:
        details = cases.close_case(ctx, subject_id, body["reason"], body.get("note"))
        return closure_out(details), 200, no_store()


@blp.route("/subjects/<uuid:subject_id>/reopening", methods=["POST"])
@blp.arguments(PurposeQuery, location="query", as_kwargs=True)
@blp.response(200, CaseOut)
def reopen_case(subject_id: uuid.UUID, purpose: str) -> Any:
    """Reopen a closed case.

    Possible until the retention pass has deleted any organisation's copy of the claimant's
    data (403 `retention_started` after). Consents that ended at closure stay ended: record a
    new consent. A case that is open: 409.
    """
    with unit_of_work(purpose, "case_plans:write") as ctx:
        return case_out(cases.reopen_case(ctx, subject_id)), 200, no_store()
