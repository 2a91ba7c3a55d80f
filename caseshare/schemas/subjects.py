from __future__ import annotations

import re

from marshmallow import fields, validate

from caseshare.schemas.common import PurposeQuery, StrictSchema, WithheldSchema

# HMRC's format (first letter not D F I U V; second not D F I O U V), case-insensitive, spaces
# allowed. QQ, HMRC's documented example prefix, is accepted so demo and test data can use it.
NINO = validate.Regexp(
    r"^\s*[A-CEGHJ-TW-Z]\s*[A-CEGHJ-NP-TW-Z]\s*(\d\s*){6}[A-D]\s*$",
    flags=re.IGNORECASE,
    error="Not a valid National Insurance number.",
)


class SubjectCreate(StrictSchema):
    given_name = fields.String(required=True, validate=validate.Length(1, 100))
    family_name = fields.String(required=True, validate=validate.Length(1, 100))
    date_of_birth = fields.Date(required=True)
    nino = fields.String(validate=NINO)
    postcode = fields.String(validate=validate.Length(2, 10))
    jurisdiction = fields.String(required=True,
                                 validate=validate.OneOf(["england", "wales", "scotland"]))


class NinoQuery(PurposeQuery):
    nino = fields.String(required=True, validate=NINO)


class SubjectOut(StrictSchema):
    id = fields.UUID()
    jurisdiction = fields.String()
    lead_org = fields.String()
    given_name = fields.String()
    family_name = fields.String()
    date_of_birth = fields.String()
    nino = fields.String()
    postcode = fields.String()
    withheld = fields.List(fields.Nested(WithheldSchema))


class SubjectSummary(StrictSchema):
    id = fields.UUID()
    jurisdiction = fields.String()


class SubjectList(StrictSchema):
    items = fields.List(fields.Nested(SubjectSummary))
    next_cursor = fields.String(allow_none=True)
