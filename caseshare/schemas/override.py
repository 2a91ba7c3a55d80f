from __future__ import annotations

from marshmallow import fields, validate

from caseshare.schemas.common import CODE, StrictSchema


class OverrideCreate(StrictSchema):
    route = fields.String(required=True, validate=CODE,
                          metadata={"description": "Lawful route, e.g. safeguarding."})
    justification = fields.String(required=True, validate=validate.Length(max=4000),
                                  metadata={"description": "Why consent cannot be sought now; "
                                            "stored sealed, never logged."})
    categories = fields.List(fields.String(validate=CODE), required=True,
                             validate=validate.Length(min=1, max=20))
    hours = fields.Integer(required=True, validate=validate.Range(min=1, max=168))


class OverrideOut(StrictSchema):
    id = fields.UUID()
    subject_id = fields.UUID()
    org = fields.String(attribute="org_id")
    purpose = fields.String()
    route = fields.String()
    categories = fields.List(fields.String())
    protocol = fields.String()
    status = fields.String()
    notify = fields.List(fields.String())
    starts_at = fields.DateTime()
    expires_at = fields.DateTime()
    review_due_at = fields.DateTime()
