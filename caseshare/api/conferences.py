"""Case conferences: record one, list a claimant's, read one (caseshare/access/conferences.py)."""

from __future__ import annotations

import uuid
from typing import Any

from caseshare.access import conferences
from caseshare.api.common import api_blueprint, no_store, unit_of_work
from caseshare.schemas.common import PurposeQuery
from caseshare.schemas.conferences import ConferenceIn, ConferenceList, ConferenceOut, ListQuery

blp = api_blueprint("conferences", __name__, "Multi-agency case conferences")


@blp.route("/subjects/<uuid:subject_id>/conferences", methods=["POST"])
@blp.arguments(PurposeQuery, location="query", as_kwargs=True)
@blp.arguments(ConferenceIn)
@blp.response(201, ConferenceOut)
def record_conference(body: dict[str, Any], subject_id: uuid.UUID, purpose: str) -> Any:
    """Record a case conference.

    The date it was held, the organisations that attended (case members or parties to the case's
    protocols, each with an optional staff member of that organisation), minutes per category
    (sealed; each attending organisation reads only the categories its decision allows) and
    decisions, each becoming a case plan action with an owner, due date and category. Every
    category written needs the caller's write grant (403 naming the others); bad input is 422
    naming the field. The answer is the conference as the caller may read it.
    """
    with unit_of_work(purpose, "case_plans:write") as ctx:
        return conferences.record_conference(ctx, subject_id, body), 201, no_store()


@blp.route("/subjects/<uuid:subject_id>/conferences", methods=["GET"])
@blp.arguments(ListQuery, location="query", as_kwargs=True)
@blp.response(200, ConferenceList)
def list_conferences(subject_id: uuid.UUID, purpose: str, limit: int) -> Any:
    """A claimant's case conferences, newest first.

    Each with the minutes and decisions the caller may read for this purpose and the categories
    withheld with reason codes (audited as a disclosure). The newest `limit` (at most 200).
    """
    with unit_of_work(purpose, "case_plans:read") as ctx:
        items = conferences.list_conferences(ctx, subject_id, limit)
        return {"items": items, "next_cursor": None}, 200, no_store()


@blp.route("/conferences/<uuid:conference_id>", methods=["GET"])
@blp.arguments(PurposeQuery, location="query", as_kwargs=True)
@blp.response(200, ConferenceOut)
def read_conference(conference_id: uuid.UUID, purpose: str) -> Any:
    """One case conference.

    Its attendees, the decisions whose plan actions the caller may read, the minutes whose
    categories the caller's decision allows, and every other category as withheld with reason
    codes (audited). A conference about a claimant the caller's organisation has no relationship
    with is 404.
    """
    with unit_of_work(purpose, "case_plans:read") as ctx:
        return conferences.read_conference(ctx, conference_id), 200, no_store()
