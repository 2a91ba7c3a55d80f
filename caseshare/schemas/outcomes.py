"""Request and response schemas for a claimant's outcomes (caseshare/api/outcomes.py)."""

from __future__ import annotations

from marshmallow import fields, validate

from caseshare.case_plan.models import SUPPORT_SERVICES
from caseshare.schemas.common import CODE, StrictSchema

EVIDENCE_MAX = 200


class OutcomeIn(StrictSchema):
    code = fields.String(required=True, validate=CODE, metadata={
        "description": "An outcome code from the partnership's list "
                       "(partnerships/<protocol-id>/outcomes.yaml); computed codes are not typed."})
    achieved_on = fields.Date(required=True, metadata={
        "description": "When the claimant achieved it (not in the future)."})
    service_line = fields.String(validate=validate.OneOf(SUPPORT_SERVICES), allow_none=True,
                                 metadata={"description": "The LSSF service line; default: the "
                                                          "code's own."})
    evidence_ref = fields.String(validate=validate.Length(min=1, max=EVIDENCE_MAX),
                                 allow_none=True, metadata={
        "description": "Where the evidence is (a document reference); sealed."})


class AttributionOut(StrictSchema):
    org = fields.String()
    basis = fields.String(metadata={"description": "recorded, entry_owner or referral"})
    share = fields.Float(metadata={"description": "Shares of one outcome sum to 1."})


class OutcomeOut(StrictSchema):
    id = fields.UUID()
    code = fields.String()
    label = fields.String(allow_none=True)
    category = fields.String()
    achieved_on = fields.Date()
    service_line = fields.String(allow_none=True)
    evidence_ref = fields.String(allow_none=True)
    computed = fields.Boolean()
    recorded_org = fields.String()
    attribution = fields.List(fields.Nested(AttributionOut))


class OutcomeWithheldOut(StrictSchema):
    category = fields.String()
    reasons = fields.List(fields.String())


class OutcomeListOut(StrictSchema):
    outcomes = fields.List(fields.Nested(OutcomeOut))
    withheld = fields.List(fields.Nested(OutcomeWithheldOut))
