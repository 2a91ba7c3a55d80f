from __future__ import annotations

from marshmallow import fields, validate

from caseshare.schemas.common import StrictSchema, UTCDateTime

# Why a record is erased, as a code: the audit event may hold it, free text could hold anything.
ERASURE_REASONS = ["subject_request", "retention_expired", "unlawful_processing",
                   "consent_withdrawn_no_other_basis"]


class ErasureCreate(StrictSchema):
    reason = fields.String(required=True, validate=validate.OneOf(ERASURE_REASONS))
    reference = fields.String(
        validate=validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9/._-]{0,63}$",
                                 error="An IG case reference such as SAR-2026-0041."),
        metadata={"description": "The IG case reference (no personal data)."})


class ErasureOut(StrictSchema):
    id = fields.UUID()
    status = fields.String()
    erased_at = UTCDateTime()
