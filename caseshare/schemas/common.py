from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from marshmallow import Schema, fields, validate

CODE = validate.Regexp(r"^[a-z][a-z0-9_-]{1,63}$", error="Must be a lower-case code.")
# The most codes (categories, purposes, recipients) one list in a request may name: far more
# than any partnership declares, few enough that a request cannot inflate its audit event.
MAX_CODES = 50


class UTCDateTime(fields.AwareDateTime):
    """RFC 3339 UTC timestamps ending in `Z` (API.md); input must carry a timezone."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


class StrictSchema(Schema):
    """Unknown fields are rejected (marshmallow's default RAISE, stated here on purpose)."""

    class Meta:
        unknown = "raise"


class VersionOut(StrictSchema):
    """One state of a versioned item (plan entry, support record): who changed what, when,
    from which organisation and for what purpose. Each item's schema adds its own fields."""

    version = fields.Integer()
    action = fields.String()
    changed_fields = fields.List(fields.String())
    changed_at = UTCDateTime()
    changed_by = fields.UUID()
    changed_org = fields.String()
    purpose = fields.String()


class PurposeQuery(Schema):
    purpose = fields.String(required=True, validate=CODE,
                            metadata={"description": "Why the data is used (a purpose code)."})


class ProblemSchema(Schema):
    type = fields.String()
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))
    reasons = fields.List(fields.String())
    audit_id = fields.String()


class WithheldSchema(Schema):
    category = fields.String()
    reasons = fields.List(fields.String())
