"""Housing and money records: the shapes on the wire. Each kind's fields (`data`) are checked
by caseshare/support_records/validation.py, which names every problem as `data.<field>`."""

from __future__ import annotations

from marshmallow import fields, validate

from caseshare.schemas.common import (
    PurposeQuery,
    StrictSchema,
    UTCDateTime,
    VersionOut,
    WithheldSchema,
)
from caseshare.support_records.models import RECORD_KINDS, RENT_PAYERS
from caseshare.support_records.validation import MAX_PENCE

PENCE = validate.Range(min=0, max=MAX_PENCE, error=f"Must be 0 to {MAX_PENCE} pence.")
DATA = ("The kind's fields: tenancy {landlord_type, rent_pence, rent_frequency, paid_by, "
        "start_on}; apa {trigger, type, status, status_dates, review_on}; money_plan {income, "
        "outgoings, priority_debts (lists of {label, pence}), agreed_actions, reviewed_on}; "
        "banking {account_opened {type, on}, online_account_set_up, claim_managed_online}.")


class RecordsQuery(PurposeQuery):
    kind = fields.String(validate=validate.OneOf(RECORD_KINDS))


class RecordIn(StrictSchema):
    kind = fields.String(required=True, validate=validate.OneOf(RECORD_KINDS))
    data = fields.Dict(keys=fields.String(), required=True, metadata={"description": DATA})


class RecordPatch(StrictSchema):
    data = fields.Dict(keys=fields.String(), required=True,
                       validate=validate.Length(min=1, error="Nothing to change."),
                       metadata={"description": "The fields to change; the rest are kept. "
                                 "An APA's status moves forward only (or to `ended`)."})


class SnapshotIn(StrictSchema):
    month = fields.String(required=True, validate=validate.Regexp(
        r"^(20\d\d|2100)-(0[1-9]|1[0-2])$", error="Must be a month, YYYY-MM."))
    rent_due_pence = fields.Integer(required=True, strict=True, validate=PENCE)
    rent_paid_pence = fields.Integer(required=True, strict=True, validate=PENCE)
    arrears_pence = fields.Integer(required=True, strict=True, validate=PENCE)
    paid_by = fields.String(required=True, validate=validate.OneOf(RENT_PAYERS))


class RecordOut(StrictSchema):
    id = fields.UUID()
    kind = fields.String()
    category = fields.String()
    created_org = fields.String()
    review_on = fields.Date(allow_none=True)
    own_record = fields.Boolean()
    version = fields.Integer()
    created_at = UTCDateTime()
    updated_at = UTCDateTime()
    data = fields.Dict()


class SnapshotOut(StrictSchema):
    id = fields.UUID()
    month = fields.String()
    rent_due_pence = fields.Integer()
    rent_paid_pence = fields.Integer()
    arrears_pence = fields.Integer()
    paid_by = fields.String()
    recorded_org = fields.String()


class ComputedOutcomeOut(StrictSchema):
    """An outcome computed from the record (e.g. six months paying own rent)."""

    id = fields.UUID()
    code = fields.String()
    achieved_on = fields.Date()
    service_line = fields.String(allow_none=True)
    computed = fields.Boolean()


class RecordDetailOut(RecordOut):
    snapshots = fields.List(fields.Nested(SnapshotOut))
    outcomes = fields.List(fields.Nested(ComputedOutcomeOut))


class RecordsOut(StrictSchema):
    items = fields.List(fields.Nested(RecordOut))
    withheld = fields.List(fields.Nested(WithheldSchema))


class RecordVersionOut(VersionOut):
    review_on = fields.Date(allow_none=True)
    data = fields.Dict()


class RecordHistoryOut(StrictSchema):
    items = fields.List(fields.Nested(RecordVersionOut))
