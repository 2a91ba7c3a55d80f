"""Request and response schemas for the case around a claimant (caseshare/api/cases.py)."""

from __future__ import annotations

from marshmallow import fields, validate

from caseshare.cases.closure import CLOSURE_REASONS, NOTE_MAX
from caseshare.schemas.common import StrictSchema, UTCDateTime


class ClosureIn(StrictSchema):
    reason = fields.String(required=True, validate=validate.OneOf(CLOSURE_REASONS),
                           metadata={"description": "Why the case closes (a code); `other` "
                                                    "needs a note."})
    note = fields.String(validate=validate.Length(max=NOTE_MAX), allow_none=True,
                         metadata={"description": "Why, in a few words (sealed; required for "
                                                  "`other`)."})


class ClosureOut(StrictSchema):
    status = fields.String()
    closed_at = UTCDateTime(allow_none=True)
    reason = fields.String(allow_none=True)


class CasePatch(StrictSchema):
    lead_worker_id = fields.UUID(allow_none=True, metadata={
        "description": "An active staff member of the lead organisation (null clears it)."})
    review_on = fields.Date(allow_none=True, metadata={
        "description": "When the case is next reviewed: today or later (null clears it)."})


class LeadWorkerStepOut(StrictSchema):
    lead_worker_id = fields.UUID(allow_none=True)
    lead_worker_name = fields.String(allow_none=True)
    changed_at = UTCDateTime()
    changed_org = fields.String()


class CaseOut(StrictSchema):
    subject_id = fields.UUID()
    status = fields.String()
    lead_org = fields.String()
    lead_worker_id = fields.UUID(allow_none=True)
    lead_worker_name = fields.String(allow_none=True)
    review_on = fields.Date(allow_none=True)
    closed_at = UTCDateTime(allow_none=True)
    closure_reason = fields.String(allow_none=True)
    reopened_at = UTCDateTime(allow_none=True)
    lead_worker_history = fields.List(fields.Nested(LeadWorkerStepOut))
