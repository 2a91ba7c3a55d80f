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
    protocols = fields.List(fields.String(), metadata={
        "description": "Every protocol (id@version) whose override rules permitted this "
                       "override: it opens data only flowing under these."})
    status = fields.String()
    notify = fields.List(fields.String())
    starts_at = fields.DateTime()
    expires_at = fields.DateTime()
    review_due_at = fields.DateTime()


class OverrideListQuery(StrictSchema):
    purpose = fields.String(required=True, validate=CODE)
    status = fields.String(validate=validate.OneOf(["pending_review", "justified",
                                                    "not_justified"]))


class QueueItemOut(OverrideOut):
    overdue = fields.Boolean(metadata={
        "description": "Still awaiting review after review_due_at (now, by the server clock)."})


class OverrideList(StrictSchema):
    items = fields.List(fields.Nested(QueueItemOut))
    next_cursor = fields.String(allow_none=True)


class OverrideDetail(OverrideOut):
    justification = fields.String()
    reviewed_at = fields.DateTime(allow_none=True)


class OverrideReview(StrictSchema):
    outcome = fields.String(required=True, validate=validate.OneOf(["justified",
                                                                    "not_justified"]))
    note = fields.String(required=True, validate=validate.Length(min=10, max=4000))
