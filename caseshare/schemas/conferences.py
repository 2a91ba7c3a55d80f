"""Request and response shapes of the case conference API (caseshare/api/conferences.py)."""

from __future__ import annotations

from datetime import date

from marshmallow import fields, validate

from caseshare.schemas.common import CODE, PurposeQuery, StrictSchema, UTCDateTime, WithheldSchema

HELD_ON = validate.Range(min=date(2000, 1, 1), error="Must be a date from 2000-01-01.")
DUE_ON = validate.Range(min=date(2000, 1, 1), max=date(2100, 12, 31),
                        error="Must be a date between 2000-01-01 and 2100-12-31.")


class AttendeeIn(StrictSchema):
    org = fields.String(required=True, validate=CODE)
    staff_id = fields.UUID(metadata={"description": "The staff member who attended for it."})


class MinuteIn(StrictSchema):
    category = fields.String(required=True, validate=CODE)
    text = fields.String(required=True, validate=validate.Length(1, 10000))


class DecisionIn(StrictSchema):
    title = fields.String(required=True, validate=validate.Length(1, 200))
    owner_org = fields.String(required=True, validate=CODE)
    due_on = fields.Date(required=True, validate=DUE_ON)
    category = fields.String(required=True, validate=CODE)


class ConferenceIn(StrictSchema):
    held_on = fields.Date(required=True, validate=HELD_ON)
    attendees = fields.List(fields.Nested(AttendeeIn), required=True,
                            validate=validate.Length(1, 30))
    minutes = fields.List(fields.Nested(MinuteIn), load_default=list,
                          validate=validate.Length(max=50))
    decisions = fields.List(fields.Nested(DecisionIn), load_default=list,
                            validate=validate.Length(max=20))


class ListQuery(PurposeQuery):
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200))


class AttendeeOut(StrictSchema):
    org = fields.String()
    staff_id = fields.UUID(allow_none=True)
    staff_name = fields.String(allow_none=True)


class MinuteOut(StrictSchema):
    category = fields.String()
    text = fields.String()


class DecisionOut(StrictSchema):
    entry_id = fields.UUID(metadata={"description": "The case plan action it became."})
    title = fields.String()
    category = fields.String()
    owner_org = fields.String()
    due_on = fields.Date(allow_none=True)
    status = fields.String()


class ConferenceOut(StrictSchema):
    id = fields.UUID()
    subject_id = fields.UUID()
    held_on = fields.Date()
    recorded_at = UTCDateTime()
    recorded_org = fields.String()
    attendees = fields.List(fields.Nested(AttendeeOut))
    minutes = fields.List(fields.Nested(MinuteOut), metadata={
        "description": "The minutes the caller may read for this purpose."})
    decisions = fields.List(fields.Nested(DecisionOut), metadata={
        "description": "The decisions whose plan actions the caller may read."})
    withheld = fields.List(fields.Nested(WithheldSchema), metadata={
        "description": "Every category not open to the caller, with reason codes, whether or "
                       "not the conference has minutes in it."})


class ConferenceList(StrictSchema):
    items = fields.List(fields.Nested(ConferenceOut))
    next_cursor = fields.String(allow_none=True)
