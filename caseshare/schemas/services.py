"""The service directory (GET /services): the query and the services, shape only
(caseshare.access.services searches and says what the caller may do with each)."""

from __future__ import annotations

from marshmallow import fields, validate

from caseshare.access.services import MAX_PAGE
from caseshare.directory.taxonomy import SERVICE_LINES
from caseshare.schemas.common import PurposeQuery, StrictSchema


class ServiceQuery(PurposeQuery):
    service_line = fields.String(validate=validate.OneOf(list(SERVICE_LINES)), metadata={
        "description": "An LSSF service line (taxonomy vocabulary `lssf`): "
                       + ", ".join(SERVICE_LINES) + "."})
    postcode = fields.String(validate=validate.Length(1, 10), metadata={
        "description": "A full postcode or a postcode district (DE1 2FS or DE1): services with "
                       "a location in that district, or a service area covering it or its "
                       "whole postcode area."})
    q = fields.String(validate=validate.Length(1, 100), metadata={
        "description": "Words in the service's name, its Welsh name or its organisation's "
                       "name (case ignored)."})
    limit = fields.Integer(load_default=50, validate=validate.Range(1, MAX_PAGE))
    cursor = fields.String(validate=validate.Length(1, 400))


class OrganisationOut(StrictSchema):
    id = fields.String(metadata={"description": "The directory's organisation id."})
    name = fields.String()
    name_cy = fields.String(allow_none=True)
    party_id = fields.String(allow_none=True, metadata={
        "description": "The protocol party this organisation is, or null for an organisation "
                       "outside every protocol."})


class ServiceAreaOut(StrictSchema):
    service_area = fields.String()
    postcode_districts = fields.List(fields.String())


class ContactOut(StrictSchema):
    name = fields.String(allow_none=True)
    title = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    phones = fields.List(fields.String())


class EligibilityOut(StrictSchema):
    eligibility = fields.String(allow_none=True)
    minimum_age = fields.Integer(allow_none=True)
    maximum_age = fields.Integer(allow_none=True)


class ScheduleOut(StrictSchema):
    byday = fields.String(allow_none=True, metadata={"description": "MO,TU,..."})
    opens_at = fields.String(allow_none=True)
    closes_at = fields.String(allow_none=True)
    description = fields.String(allow_none=True)


class LocationOut(StrictSchema):
    name = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    postcode = fields.String(allow_none=True)


class ServiceOut(StrictSchema):
    id = fields.String()
    name = fields.String()
    name_cy = fields.String(allow_none=True)
    status = fields.String()
    organisation = fields.Nested(OrganisationOut)
    description = fields.String(allow_none=True)
    url = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    service_lines = fields.List(fields.String())
    service_areas = fields.List(fields.Nested(ServiceAreaOut))
    contacts = fields.List(fields.Nested(ContactOut))
    eligibility = fields.List(fields.Nested(EligibilityOut))
    regular_schedules = fields.List(fields.Nested(ScheduleOut))
    locations = fields.List(fields.Nested(LocationOut))
    shares_data = fields.Boolean(metadata={
        "description": "True when a protocol in force carries a flow from the caller's "
                       "organisation to the service's: a referral may take information about "
                       "the claimant (as their consent allows). False: signposting only, "
                       "nothing about the claimant goes with it."})
    referral_purposes = fields.List(fields.String(), metadata={
        "description": "The purposes those flows carry (a referral's purpose is one of them)."})


class ServiceList(StrictSchema):
    items = fields.List(fields.Nested(ServiceOut))
    next_cursor = fields.String(allow_none=True)
