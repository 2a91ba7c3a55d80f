"""Housing and money records: tenancy (with monthly rent figures), APA, money action plan and
banking, each under the decision for its category (docs/housing-money.md)."""

from __future__ import annotations

import uuid
from typing import Any

from flask import request

from caseshare.access import support_records
from caseshare.api.common import api_blueprint, no_store, unit_of_work
from caseshare.errors import PreconditionRequiredError, ValidationError
from caseshare.schemas.common import PurposeQuery
from caseshare.schemas.support_records import (
    RecordDetailOut,
    RecordHistoryOut,
    RecordIn,
    RecordOut,
    RecordPatch,
    RecordsOut,
    RecordsQuery,
    SnapshotIn,
)
from caseshare.support_records import rent
from caseshare.support_records.service import SnapshotIn as Figures

blp = api_blueprint("support_records", __name__, "Housing and money records")

RECORDS = "/subjects/<uuid:subject_id>/records"
RECORD = RECORDS + "/<uuid:record_id>"


def detail(view: support_records.RecordView) -> dict[str, Any]:
    return {**view.record, "snapshots": view.snapshots, "outcomes": view.outcomes}


@blp.route(RECORDS, methods=["GET"])
@blp.arguments(RecordsQuery, location="query", as_kwargs=True)
@blp.response(200, RecordsOut)
def list_records(subject_id: uuid.UUID, purpose: str, kind: str | None = None) -> Any:
    """A claimant's housing and money records.

    The records the decision permits (optionally of one `kind`); `withheld` names each category
    the caller may not read, with its reasons, whether or not the claimant has records in it.
    """
    with unit_of_work(purpose, "case_plans:read") as ctx:
        view = support_records.list_records(ctx, subject_id, kind)
        return {"items": view.items, "withheld": view.withheld}, 200, no_store()


@blp.route(RECORDS, methods=["POST"])
@blp.arguments(PurposeQuery, location="query", as_kwargs=True)
@blp.arguments(RecordIn)
@blp.response(201, RecordOut)
def create_record(body: dict[str, Any], subject_id: uuid.UUID, purpose: str) -> Any:
    """Add a housing or money record.

    Tenancy and APA records are written under `housing_tenancy`, money action plans and banking
    under `finances`: a category the caller may not write for this purpose is 403 with reasons.
    Each bad field of `data` is a 422 naming it (`data.<field>`). The answer carries the
    record's `ETag`, to send as `If-Match` when changing it.
    """
    with unit_of_work(purpose, "case_plans:write") as ctx:
        view = support_records.create_record(ctx, subject_id, body["kind"], body["data"])
        return view.record, 201, no_store({"ETag": view.etag})


@blp.route(RECORD, methods=["GET"])
@blp.arguments(PurposeQuery, location="query", as_kwargs=True)
@blp.response(200, RecordDetailOut)
def read_record(subject_id: uuid.UUID, record_id: uuid.UUID, purpose: str) -> Any:
    """One record, with a tenancy's monthly figures and computed outcomes.

    A record the caller may not read now is 404 (the probe is audited).
    """
    with unit_of_work(purpose, "case_plans:read") as ctx:
        view = support_records.read_record(ctx, subject_id, record_id)
        return detail(view), 200, no_store({"ETag": view.etag})


@blp.route(RECORD, methods=["PATCH"])
@blp.arguments(PurposeQuery, location="query", as_kwargs=True)
@blp.arguments(RecordPatch)
@blp.response(200, RecordOut)
@blp.alt_response(412, response="PRECONDITION_FAILED")
@blp.alt_response(428, response="PRECONDITION_REQUIRED")
def update_record(body: dict[str, Any], subject_id: uuid.UUID, record_id: uuid.UUID,
                  purpose: str) -> Any:
    """Change a record (send If-Match with the ETag you read).

    Only the organisation that wrote the record changes it (403 `not_author_of_entry`). An
    APA's status moves forward only (identified, requested, dwp_decision, in_place) or to
    `ended`; the date of each status reached is kept.
    """
    with unit_of_work(purpose, "case_plans:write") as ctx:
        if_match = request.headers.get("If-Match")
        if not if_match:
            raise PreconditionRequiredError("Send If-Match with the ETag you read.")
        view = support_records.update_record(ctx, subject_id, record_id, if_match, body["data"])
        return view.record, 200, no_store({"ETag": view.etag})


@blp.route(RECORD + "/history", methods=["GET"])
@blp.arguments(PurposeQuery, location="query", as_kwargs=True)
@blp.response(200, RecordHistoryOut)
def record_history(subject_id: uuid.UUID, record_id: uuid.UUID, purpose: str) -> Any:
    """Every version of a record the caller may read now.

    Newest first, each with who changed it, when, for what purpose and what it said.
    """
    with unit_of_work(purpose, "case_plans:read") as ctx:
        return {"items": support_records.record_history(ctx, subject_id, record_id)}, 200, \
            no_store()


@blp.route(RECORD + "/snapshots", methods=["POST"])
@blp.arguments(PurposeQuery, location="query", as_kwargs=True)
@blp.arguments(SnapshotIn)
@blp.response(201, RecordDetailOut)
@blp.alt_response(409, response="CONFLICT")
def add_snapshot(body: dict[str, Any], subject_id: uuid.UUID, record_id: uuid.UUID,
                 purpose: str) -> Any:
    """Record one month of a tenancy's rent account.

    One per tenancy and month (a month already recorded is 409). Arrears after an APA ended
    alert the APA's housing officers (once per APA); a sixth month in a row paid in full by
    the claimant records the outcome `paying_own_rent_6m`.
    """
    month = rent.first_of(body["month"])
    if month is None:  # the schema checked the shape; this keeps the type honest
        raise ValidationError({"month": ["Must be a month, YYYY-MM."]})
    figures = Figures(month, body["rent_due_pence"], body["rent_paid_pence"],
                      body["arrears_pence"], body["paid_by"])
    with unit_of_work(purpose, "case_plans:write") as ctx:
        view = support_records.add_snapshot(ctx, subject_id, record_id, figures)
        return detail(view), 201, no_store({"ETag": view.etag})
