"""Request and response shapes of the retention API (IG officers): the due list and legal holds."""

from __future__ import annotations

from marshmallow import fields, validate

from caseshare.retention.holds import REASON_MAX, REASON_MIN
from caseshare.schemas.common import PurposeQuery, StrictSchema, UTCDateTime


class DueQuery(PurposeQuery):
    cursor = fields.String(validate=validate.Length(1, 200),
                           metadata={"description": "`next_cursor` of the previous page."})
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 500))


class DueItemOut(StrictSchema):
    subject_id = fields.UUID()
    org = fields.String(metadata={"description": "Whose copy (an organisation id)."})
    category = fields.String()
    due_on = fields.Date(metadata={"description": "The UK date the copy becomes due."})
    rule = fields.String(metadata={
        "description": "The rule: `protocol/flow` whose retention applies, or "
                       "`lead_controller`."})
    hold = fields.Boolean(metadata={"description": "A legal hold pauses its deletion."})


class DueList(StrictSchema):
    items = fields.List(fields.Nested(DueItemOut))
    next_cursor = fields.String(allow_none=True)


class LegalHoldCreate(StrictSchema):
    reason = fields.String(required=True, validate=validate.Length(REASON_MIN, REASON_MAX),
                           metadata={"description": "A reference and a short explanation, "
                                                    "never claimant detail."})


class LegalHoldOut(StrictSchema):
    id = fields.UUID()
    subject_id = fields.UUID()
    reason = fields.String()
    placed_at = UTCDateTime()
    placed_org = fields.String()
    lifted_at = UTCDateTime(allow_none=True)
    status = fields.Function(lambda h: "lifted" if h.lifted_at else "active")
