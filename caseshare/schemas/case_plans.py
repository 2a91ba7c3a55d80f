from __future__ import annotations

from datetime import date
from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema
from webargs.fields import DelimitedList

from caseshare.case_plan.models import SUPPORT_SERVICES
from caseshare.schemas.common import (
    CODE,
    MAX_CODES,
    PurposeQuery,
    StrictSchema,
    UTCDateTime,
    VersionOut,
    WithheldSchema,
)

KINDS = ["goal", "action", "note"]
STATUSES = ["open", "in_progress", "done", "cancelled"]
# A due date outside this window is a typing slip, not a plan.
DUE_ON = validate.Range(min=date(2000, 1, 1), max=date(2100, 12, 31),
                        error="Must be a date between 2000-01-01 and 2100-12-31.")


class EntryIn(StrictSchema):
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    category = fields.String(required=True, validate=CODE)
    title = fields.String(required=True, validate=validate.Length(1, 200))
    detail = fields.String(validate=validate.Length(max=4000))
    owner_org = fields.String(validate=CODE)
    owner_name = fields.String(validate=validate.Length(1, 200))
    due_on = fields.Date(validate=DUE_ON)
    status = fields.String(validate=validate.OneOf(STATUSES))
    service = fields.String(validate=validate.OneOf(SUPPORT_SERVICES),
                            metadata={"description": "The LSSF support service line."})
    outcome = fields.String(validate=validate.Length(1, 2000))


class EntryPatch(StrictSchema):
    title = fields.String(validate=validate.Length(1, 200))
    detail = fields.String(allow_none=True, validate=validate.Length(max=4000))
    owner_org = fields.String(validate=CODE)
    owner_name = fields.String(allow_none=True, validate=validate.Length(1, 200))
    due_on = fields.Date(allow_none=True, validate=DUE_ON)
    status = fields.String(validate=validate.OneOf(STATUSES))
    service = fields.String(allow_none=True, validate=validate.OneOf(SUPPORT_SERVICES))
    outcome = fields.String(allow_none=True, validate=validate.Length(1, 2000))

    @validates_schema
    def _something(self, data: dict[str, Any], **_kw: Any) -> None:
        if not data:
            raise ValidationError("Nothing to change.", "body")


class PlanCreate(StrictSchema):
    entries = fields.List(fields.Nested(EntryIn), validate=validate.Length(max=100))


class PlanQuery(PurposeQuery):
    categories = DelimitedList(fields.String(validate=CODE),
                               validate=validate.Length(max=MAX_CODES),
                               metadata={"description": "Comma-separated category codes the "
                                         "protocols declare (at most 50)."})


class EntryOut(StrictSchema):
    id = fields.UUID()
    kind = fields.String()
    category = fields.String()
    title = fields.String()
    detail = fields.String(allow_none=True)
    owner_org = fields.String()
    owner_name = fields.String(allow_none=True)
    due_on = fields.Date(allow_none=True)
    status = fields.String()
    service = fields.String(allow_none=True)
    outcome = fields.String(allow_none=True)
    version = fields.Integer()
    updated_at = UTCDateTime()


class PlanOut(StrictSchema):
    id = fields.UUID()
    subject_id = fields.UUID()
    lead_org = fields.String()
    members = fields.List(fields.String())
    entries = fields.List(fields.Nested(EntryOut))
    withheld = fields.List(fields.Nested(WithheldSchema))


class ExplainQuery(PurposeQuery):
    subject_id = fields.UUID(required=True)
    category = fields.String(required=True, validate=CODE)
    action = fields.String(load_default="read", validate=validate.OneOf(["read", "write"]))


class ExplainOut(StrictSchema):
    allowed = fields.Boolean()
    reasons = fields.List(fields.String())
    protocol = fields.Dict(allow_none=True)
    consent_id = fields.UUID(allow_none=True)
    override_id = fields.UUID(allow_none=True)
    audit_id = fields.String()


class EntryVersionOut(VersionOut):
    category = fields.String()
    owner_org = fields.String()
    status = fields.String()
    due_on = fields.Date(allow_none=True)
    title = fields.String()
    detail = fields.String(allow_none=True)
    owner_name = fields.String(allow_none=True)
    service = fields.String(allow_none=True)
    outcome = fields.String(allow_none=True)
    withheld_fields = fields.List(fields.String(), metadata={
        "description": "Text fields left out (null) because they hold the words of an "
                       "organisation with no flow to the caller."})


class HistoryOut(StrictSchema):
    items = fields.List(fields.Nested(EntryVersionOut))
    next_cursor = fields.String(allow_none=True)
