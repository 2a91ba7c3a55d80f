from __future__ import annotations

import uuid
from typing import Any

from flask import request

from caseshare.access import case_plans
from caseshare.access.disclosure import Disclosure
from caseshare.api.common import api_blueprint, no_store, unit_of_work
from caseshare.case_plan.service import PlanView
from caseshare.errors import PreconditionRequiredError
from caseshare.schemas.case_plans import (
    EntryIn,
    EntryOut,
    EntryPatch,
    ExplainOut,
    ExplainQuery,
    HistoryOut,
    PlanCreate,
    PlanOut,
    PlanQuery,
)
from caseshare.schemas.common import PurposeQuery

blp = api_blueprint("case_plans", __name__, "Shared case plans and access decisions")


def plan_out(plan: PlanView, disclosure: Disclosure) -> dict[str, Any]:
    return {
        "id": plan.id,
        "subject_id": plan.subject_id,
        "lead_org": plan.lead_org_id,
        "members": plan.members,
        "entries": disclosure.items,
        "withheld": disclosure.withheld,
    }


@blp.route("/subjects/<uuid:subject_id>/case-plan", methods=["POST"])
@blp.arguments(PurposeQuery, location="query", as_kwargs=True)
@blp.arguments(PlanCreate)
@blp.response(201, PlanOut)
def create_plan(body: dict[str, Any], subject_id: uuid.UUID, purpose: str) -> Any:
    """Start a claimant's case plan.

    One plan per claimant, optionally with its first entries. Each entry's category must be one the
    caller may write for this purpose (403 otherwise). The answer carries the plan's `ETag`.
    """
    with unit_of_work(purpose, "case_plans:write") as ctx:
        entries = body.get("entries", [])
        plan, disclosure, etag = case_plans.create_case_plan(ctx, subject_id, entries)
        return plan_out(plan, disclosure), 201, no_store({"ETag": etag})


@blp.route("/subjects/<uuid:subject_id>/case-plan", methods=["GET"])
@blp.arguments(PlanQuery(), location="query", as_kwargs=True)  # an instance: not one per request
@blp.response(200, PlanOut)
def read_plan(subject_id: uuid.UUID, purpose: str, categories: list[str] | None = None) -> Any:
    """The case plan with the entries the decision permits; `withheld` names the rest.

    A claimant the caller's organisation has no relationship with (not a case member, no accepted
    referral, not named in a consent) is 404, IG officers included. The reserved purposes
    `audit` and `subject_access` open no claimant data (every category withheld,
    `purpose_reserved`).
    """
    with unit_of_work(purpose, "case_plans:read") as ctx:
        plan, disclosure, etag = case_plans.read_case_plan(ctx, subject_id, categories)
        return plan_out(plan, disclosure), 200, no_store({"ETag": etag})


@blp.route("/subjects/<uuid:subject_id>/case-plan/entries", methods=["POST"])
@blp.arguments(PurposeQuery, location="query", as_kwargs=True)
@blp.arguments(EntryIn)
@blp.response(201, EntryOut)
def add_entry(body: dict[str, Any], subject_id: uuid.UUID, purpose: str) -> Any:
    """Add an entry to the case plan.

    A goal, action or note in one category. A category the caller may not write for this purpose:
    403 with reasons. The answer carries the entry's `ETag`, to send as `If-Match` when changing it.
    """
    with unit_of_work(purpose, "case_plans:write") as ctx:
        entry, etag = case_plans.add_plan_entry(ctx, subject_id, body)
        return entry, 201, no_store({"ETag": etag})


@blp.route("/subjects/<uuid:subject_id>/case-plan/entries/<uuid:entry_id>", methods=["PATCH"])
@blp.arguments(PurposeQuery, location="query", as_kwargs=True)
@blp.arguments(EntryPatch)
@blp.response(200, EntryOut)
@blp.alt_response(412, response="PRECONDITION_FAILED")
@blp.alt_response(428, response="PRECONDITION_REQUIRED")
def update_entry(body: dict[str, Any], subject_id: uuid.UUID, entry_id: uuid.UUID,
                 purpose: str) -> Any:
    """Change an entry (send If-Match with the ETag you read).

    Only the organisation that wrote the entry changes its words (title, detail, owner_name,
    outcome): they are shared under its flows. Another case organisation may change the codes
    (status, due_on, owner_org, service); a change to the words is 403 with reason
    `not_author_of_entry`. Words sent back unchanged are ignored.
    """
    with unit_of_work(purpose, "case_plans:write") as ctx:
        if_match = request.headers.get("If-Match")
        if not if_match:
            raise PreconditionRequiredError("Send If-Match with the ETag you read.")
        entry, etag = case_plans.update_plan_entry(ctx, subject_id, entry_id, if_match, body)
        return entry, 200, no_store({"ETag": etag})


@blp.route("/subjects/<uuid:subject_id>/case-plan/entries/<uuid:entry_id>/history",
           methods=["GET"])
@blp.arguments(PurposeQuery, location="query", as_kwargs=True)
@blp.response(200, HistoryOut)
def entry_history(subject_id: uuid.UUID, entry_id: uuid.UUID, purpose: str) -> Any:
    """Every version of an entry the caller may read now.

    A claimant the caller's organisation has no relationship with (not a case member, no accepted
    referral, not named in a consent) is 404, IG officers included. The reserved purposes
    `audit` and `subject_access` open no claimant data (every category withheld,
    `purpose_reserved`).
    """
    with unit_of_work(purpose, "case_plans:read") as ctx:
        versions = case_plans.entry_history(ctx, subject_id, entry_id)
        return {"items": versions, "next_cursor": None}, 200, no_store()


@blp.route("/access/explain", methods=["GET"])
@blp.arguments(ExplainQuery, location="query", as_kwargs=True)
@blp.response(200, ExplainOut)
def explain(purpose: str, subject_id: uuid.UUID, category: str, action: str) -> Any:
    """Explain an access decision.

    Whether the caller could read or write one category of one claimant's data for this purpose,
    with the reason codes, the protocol, consent or override that decides it. Audited; discloses no
    claimant data.
    """
    with unit_of_work(purpose, "access:explain") as ctx:
        decision = case_plans.explain(ctx, subject_id, category, action)
        c = decision.categories[0]
        protocol = None
        if c.protocol:
            pid, version = c.protocol.rsplit("@", 1)
            protocol = {"id": pid, "version": int(version)}
        return {"allowed": c.allowed, "reasons": list(c.reasons), "protocol": protocol,
                "consent_id": c.consent_id, "override_id": c.override_id}, 200, no_store()
