from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from caseshare.consent.rules import EXPIRY_RULES
from caseshare.schemas.common import CODE, MAX_CODES, PurposeQuery, StrictSchema, UTCDateTime

GIVEN_BY_TYPES = ["self", "dwp_appointee", "lpa_property_financial", "lpa_health_welfare",
                  "deputy", "parental_responsibility"]
METHODS = ["wet_signature", "e_signature", "online", "verbal_in_person", "verbal_phone",
           "interpreter"]
CHANNELS = ["in_person", "phone", "online", "letter", "email", "interpreter"]

def codes(*, min: int = 0, **kw: Any) -> fields.List[Any]:
    return fields.List(fields.String(validate=CODE), validate=validate.Length(min, MAX_CODES),
                       **kw)


class GivenBy(StrictSchema):
    type = fields.String(required=True, validate=validate.OneOf(GIVEN_BY_TYPES))
    name = fields.String(validate=validate.Length(1, 200))
    authority_ref = fields.String(validate=validate.Length(1, 200))


class Capacity(StrictSchema):
    """A Mental Capacity Act assessment for the decision to share."""

    lacks_capacity = fields.Boolean(required=True)
    assessed_by = fields.String(required=True, validate=validate.Length(1, 200))
    assessed_on = fields.Date(required=True)


class Competence(StrictSchema):
    """A child's competence (Gillick) assessment for consenting themselves."""

    competent = fields.Boolean(required=True)
    assessed_by = fields.String(required=True, validate=validate.Length(1, 200))
    assessed_on = fields.Date(required=True)


class ConsentCreate(StrictSchema):
    form_id = fields.String(required=True, validate=CODE)
    form_version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    language = fields.String(required=True, validate=validate.OneOf(["en", "cy"]))
    given_by = fields.Nested(GivenBy, required=True)
    decision = fields.String(load_default="granted",
                             validate=validate.OneOf(["granted", "refused"]))
    capacity = fields.Nested(Capacity)
    competence = fields.Nested(Competence)
    supersedes = fields.UUID()
    recipients = codes(required=True, min=1)
    purposes = codes(required=True, min=1)
    categories = codes(required=True, min=1)
    excluded_categories = codes()
    explicit_statement = fields.String(validate=validate.Length(1, 2000))
    method = fields.String(required=True, validate=validate.OneOf(METHODS))
    evidence_ref = fields.String(validate=validate.Length(1, 200))
    valid_from = UTCDateTime()
    expires_at = UTCDateTime(required=True)
    expiry_rule = fields.String(load_default="fixed_date", validate=validate.OneOf(EXPIRY_RULES))


class WithdrawalScope(StrictSchema):
    recipients = codes()
    purposes = codes()
    categories = codes()


class WithdrawalCreate(StrictSchema):
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    scope = fields.Nested(WithdrawalScope)
    reason = fields.String(validate=validate.Length(1, 1000))


class WithdrawalOut(StrictSchema):
    withdrawn_at = UTCDateTime()
    channel = fields.String()
    scope = fields.Dict()


class ConsentOut(StrictSchema):
    """A consent as the caller may see it. `view`: `whole` (the recording and the lead
    organisation) or `recipient` (a named recipient: only the parts naming it, see
    caseshare/consent/views.py)."""

    id = fields.UUID()
    subject_id = fields.UUID()
    view = fields.String(validate=validate.OneOf(["whole", "recipient"]))
    status = fields.String()
    decision = fields.String()
    supersedes = fields.UUID(allow_none=True)
    given_by = fields.Dict()
    capacity = fields.Dict(allow_none=True)
    competence = fields.Dict(allow_none=True)
    recipients = fields.List(fields.String())
    purposes = fields.List(fields.String())
    categories = fields.List(fields.String())
    excluded_categories = fields.List(fields.String())
    explicit = fields.Boolean()
    form_id = fields.String()
    form_version = fields.Integer()
    language = fields.String()
    text_hash = fields.String()
    method = fields.String()
    verified = fields.Boolean()
    captured_org = fields.String()
    captured_at = UTCDateTime()
    valid_from = UTCDateTime()
    expires_at = UTCDateTime()
    expiry_rule = fields.String()
    withdrawals = fields.List(fields.Nested(WithdrawalOut))


class ConsentList(StrictSchema):
    items = fields.List(fields.Nested(ConsentOut))
    next_cursor = fields.String(allow_none=True)


class FormSummary(StrictSchema):
    id = fields.String()
    version = fields.Integer()
    languages = fields.List(fields.String())
    title = fields.String()


class FormQuery(StrictSchema):
    lang = fields.String(load_default="en", validate=validate.OneOf(["en", "cy"]))


class FormOut(StrictSchema):
    id = fields.String()
    version = fields.Integer()
    language = fields.String()
    title = fields.String()
    text = fields.String()
    text_hash = fields.String()
    # The form's own words for explicit consent in this language (None if the form has none):
    # a consent covering a special or criminal category carries exactly these.
    explicit_statement = fields.String(allow_none=True)
    options = fields.Dict()


class NotificationOut(StrictSchema):
    id = fields.UUID()
    type = fields.String()
    subject_id = fields.UUID(allow_none=True)
    consent_id = fields.UUID(allow_none=True)
    created_at = UTCDateTime()
    read = fields.Boolean()
    details = fields.Dict()


class NotificationReadOut(StrictSchema):
    id = fields.UUID()
    read = fields.Boolean()


class NotificationList(StrictSchema):
    items = fields.List(fields.Nested(NotificationOut))
    next_cursor = fields.String(allow_none=True)


class ExpiringQuery(PurposeQuery):
    days = fields.Integer(load_default=30, validate=validate.Range(1, 365))


class ExpiringOut(ConsentOut):
    lead_org = fields.String()


class ExpiringList(StrictSchema):
    items = fields.List(fields.Nested(ExpiringOut))
    next_cursor = fields.String(allow_none=True)
