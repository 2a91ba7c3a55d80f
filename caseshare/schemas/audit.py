"""Schemas for the audit log API: event queries, the access report, checkpoints and proofs.
Hashes are lowercase hex; times are RFC 3339 UTC with a `Z`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from caseshare.schemas.common import CODE, PurposeQuery, StrictSchema


class Hex(fields.Field[bytes]):
    """Bytes as lowercase hex."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else bytes(value).hex()


class UTCZ(fields.Field[datetime]):
    """An aware datetime as RFC 3339 UTC ending in `Z` (the same instant the log hashed)."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


class TimeRangeQuery(PurposeQuery):
    """A query over [from, to): `to`, when both are given, must be after `from`. Subclasses
    declare the two fields (with their own descriptions)."""

    @validates_schema
    def _range(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("from_") and data.get("to") and data["to"] <= data["from_"]:
            raise ValidationError("Must be after from.", field_name="to")


class EventQuery(TimeRangeQuery):
    subject_id = fields.UUID()
    actor = fields.String(validate=validate.Length(1, 64),
                          metadata={"description": "Staff member id or partner client id."})
    org = fields.String(validate=CODE)
    event_purpose = fields.String(validate=CODE, metadata={
        "description": "The purpose the audited request declared (`purpose` is this request's)."})
    decision = fields.String(validate=validate.OneOf(["allow", "deny"]))
    type = fields.String(validate=validate.Length(1, 80))
    from_ = fields.AwareDateTime(data_key="from", default_timezone=None)
    to = fields.AwareDateTime(default_timezone=None)
    cursor = fields.String(validate=validate.Length(1, 100))
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200))



class EventOut(StrictSchema):
    index = fields.Integer(attribute="seq", allow_none=True,
                           metadata={"description": "Position in the Merkle log; null until "
                                                    "sequenced."})
    id = fields.UUID(attribute="event_uuid")
    occurred_at = UTCZ()
    type = fields.String()
    actor = fields.String(allow_none=True)
    org = fields.String(allow_none=True)
    role = fields.String(allow_none=True)
    purpose = fields.String(allow_none=True)
    subject_id = fields.UUID(allow_none=True)
    categories = fields.List(fields.String())
    decision = fields.String(allow_none=True)
    reasons = fields.List(fields.String())
    consent_id = fields.UUID(allow_none=True)
    protocol = fields.String(allow_none=True)
    override_id = fields.UUID(allow_none=True)
    request_id = fields.String(allow_none=True)
    details = fields.Dict()
    leaf_hash = Hex(metadata={"description": "The event's RFC 9162 leaf hash, as logged (of the "
                                             "whole event, before any redaction)."})
    redacted = fields.Boolean(load_default=False, metadata={
        "description": "True when categories outside the viewer's reach were replaced by "
                       "`redacted` (in `categories` and `details`): codes that no flow of the "
                       "event's protocol carries to the viewer's organisation, in an event by "
                       "another organisation's staff."})


class EventList(StrictSchema):
    items = fields.List(fields.Nested(EventOut))
    next_cursor = fields.String(allow_none=True)


class ReportEvent(EventOut):
    actor_name = fields.String(allow_none=True)


class AccessReport(StrictSchema):
    subject_id = fields.UUID()
    generated_at = UTCZ()
    items = fields.List(fields.Nested(ReportEvent))


class CheckpointOut(StrictSchema):
    tree_size = fields.Integer()
    root_hash = Hex()
    timestamp = UTCZ()
    signature = Hex()
    key_id = fields.String()
    note = fields.String(allow_none=True, metadata={
        "description": "The same checkpoint as a C2SP tlog-checkpoint signed note "
                       "(https://c2sp.org/tlog-checkpoint): origin, tree size, base64 root hash, "
                       "a blank line, and the Ed25519 signature line under the origin as key "
                       "name. Null for a checkpoint sealed before notes were signed."})


class InclusionQuery(PurposeQuery):
    tree_size = fields.Integer(validate=validate.Range(min=1), metadata={
        "description": "Defaults to the latest checkpoint's size."})


class InclusionOut(StrictSchema):
    leaf_index = fields.Integer()
    tree_size = fields.Integer()
    leaf_hash = Hex()
    audit_path = fields.List(Hex())
    root_hash = Hex()


class ConsistencyQuery(PurposeQuery):
    first = fields.Integer(required=True, validate=validate.Range(min=1))
    second = fields.Integer(required=True, validate=validate.Range(min=1))


class ConsistencyOut(Schema):
    first = fields.Integer()
    second = fields.Integer()
    consistency_path = fields.List(Hex())


class UnusualQuery(TimeRangeQuery):
    from_ = fields.AwareDateTime(data_key="from", default_timezone=None, metadata={
        "description": "Start of the range (default: 7 days before `to`; at most 92 days)."})
    to = fields.AwareDateTime(default_timezone=None, metadata={"description": "Default: now."})
    rule = fields.List(fields.String(validate=validate.OneOf(
        ["outside_relationship", "burst", "out_of_hours", "enumeration"])), metadata={
        "description": "Only these rules (repeat the parameter); default: all four."})



class FindingEvent(StrictSchema):
    index = fields.Integer(attribute="seq", allow_none=True,
                           metadata={"description": "Position in the Merkle log; null until "
                                                    "sequenced."})
    id = fields.UUID(attribute="event_uuid")
    occurred_at = UTCZ()
    type = fields.String()
    decision = fields.String(allow_none=True)
    reasons = fields.List(fields.String())
    purpose = fields.String(allow_none=True)
    subject_id = fields.UUID(allow_none=True)
    request_id = fields.String(allow_none=True)


class FindingOut(StrictSchema):
    rule = fields.String()
    actor = fields.String(allow_none=True)
    actor_name = fields.String(allow_none=True)
    org = fields.String(allow_none=True)
    role = fields.String(allow_none=True)
    subject_id = fields.UUID(allow_none=True, metadata={
        "description": "The claimant (outside_relationship findings only)."})
    first_at = UTCZ()
    last_at = UTCZ()
    count = fields.Integer(metadata={"description": "Accesses or lookups counted (one per "
                                                    "request)."})
    indices = fields.List(fields.Integer(), metadata={
        "description": "Log positions of the sequenced events behind the finding."})
    events = fields.List(fields.Nested(FindingEvent))


class UnusualReport(StrictSchema):
    from_ = UTCZ(data_key="from")
    to = UTCZ()
    generated_at = UTCZ()
    rules = fields.List(fields.String())
    thresholds = fields.Dict()
    findings = fields.List(fields.Nested(FindingOut))
