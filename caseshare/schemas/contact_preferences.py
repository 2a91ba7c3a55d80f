"""The claimant's contact preference for appointment reminders: shape only (the decision is
made in caseshare.access.contact_preferences)."""
from __future__ import annotations

import re
from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from caseshare.reminders.service import CHANNELS, LANGUAGES, METHODS
from caseshare.schemas.common import StrictSchema, UTCDateTime

EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
# A UK mobile number: 07 and 9 digits, or +44 7 and 9 digits (spaces allowed).
UK_MOBILE = re.compile(r"^(?:\+44\s?7|07)(?:\s?\d){9}$")


def address_problem(channel: str, address: str) -> str | None:
    """Why the address does not fit the channel, or None (shared with the page)."""
    if channel == "email" and not EMAIL.match(address):
        return "Enter an e-mail address in the correct format, like name@example.com."
    if channel == "sms" and not UK_MOBILE.match(address.strip()):
        return "Enter a UK mobile number, like 07700 900 982 or +44 7700 900 982."
    return None


class ContactPreferenceIn(StrictSchema):
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS),
                            metadata={"description": "sms or email."})
    address = fields.String(required=True, validate=validate.Length(3, 254),
                            metadata={"description": "The e-mail address, or the UK mobile "
                                                     "number for SMS."})
    language = fields.String(required=True, validate=validate.OneOf(LANGUAGES),
                             metadata={"description": "en or cy: the reminders' language."})
    method = fields.String(required=True, validate=validate.OneOf(METHODS),
                           metadata={"description": "How the claimant agreed."})

    @validates_schema
    def _address_fits_channel(self, data: dict[str, Any], **_kw: Any) -> None:
        problem = address_problem(data.get("channel", ""), data.get("address", ""))
        if data.get("channel") in CHANNELS and data.get("address") and problem:
            raise ValidationError({"address": [problem]})


class WithheldOut(StrictSchema):
    category = fields.String()
    reasons = fields.List(fields.String())


class ContactPreferenceOut(StrictSchema):
    subject_id = fields.UUID()
    status = fields.String(metadata={"description": "none (never agreed), active, withdrawn, "
                                                    "or replaced."})
    id = fields.UUID(allow_none=True)
    channel = fields.String(allow_none=True)
    address = fields.String(allow_none=True, metadata={
        "description": "Only where the caller may read the recording organisation's contact "
                       "data for the purpose; otherwise the category is in `withheld`."})
    language = fields.String(allow_none=True)
    method = fields.String(allow_none=True)
    agreed_at = UTCDateTime(allow_none=True)
    recorded_org = fields.String(allow_none=True)
    withdrawn_at = UTCDateTime(allow_none=True)
    withheld = fields.List(fields.Nested(WithheldOut))
