"""Request and response schemas for management information (caseshare/api/mi.py)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from caseshare.access.mi import OutcomeMI
from caseshare.mi import periods
from caseshare.mi.disclosure import Table
from caseshare.mi.queries import GROUPINGS
from caseshare.schemas.common import CODE, StrictSchema

# Dates outside 2000-2100 are typing slips, and period arithmetic must stay in the calendar.
IN_RANGE = validate.Range(min=periods.EARLIEST, max=periods.LATEST, error=periods.MESSAGE + ".")


class OutcomeMIQuery(Schema):
    purpose = fields.String(required=True, validate=CODE, metadata={
        "description": "Must be `evaluation`, declared by a protocol the caller's organisation "
                       "is party to."})
    from_ = fields.Date(required=True, data_key="from", validate=IN_RANGE, metadata={
        "description": "First day of the period (achieved on or after)."})
    to = fields.Date(required=True, validate=IN_RANGE,
                     metadata={"description": "Last day of the period."})
    by = fields.String(required=True, validate=validate.OneOf(GROUPINGS), metadata={
        "description": "Group by partner (attributed organisations), service_line or month."})
    compare_from = fields.Date(validate=IN_RANGE,
                               metadata={"description": "First day of a baseline period."})
    compare_to = fields.Date(validate=IN_RANGE,
                             metadata={"description": "Last day of the baseline period."})


class CellOut(StrictSchema):
    group = fields.String()
    code = fields.String()
    count = fields.Integer(allow_none=True, metadata={
        "description": "Distinct claimants, rounded to 5; null whenever suppressed."})
    suppressed = fields.Boolean()


class TotalOut(StrictSchema):
    key = fields.String()
    count = fields.Integer(allow_none=True, metadata={
        "description": "Sum of the published cells; null when any of them is suppressed."})


class TableOut(StrictSchema):
    cells = fields.List(fields.Nested(CellOut))
    group_totals = fields.List(fields.Nested(TotalOut))
    code_totals = fields.List(fields.Nested(TotalOut))
    total = fields.Integer(allow_none=True)


class OutcomeMIOut(TableOut):
    by = fields.String()
    from_ = fields.Date(data_key="from")
    to = fields.Date()
    labels = fields.Dict(keys=fields.String(), values=fields.String())
    baseline = fields.Nested(TableOut, allow_none=True, metadata={
        "description": "The same table for the baseline period (compare_from to compare_to)."})


def table_out(table: Table) -> dict[str, Any]:
    return {"cells": [{"group": c.group, "code": c.code, "count": c.count,
                       "suppressed": c.suppressed} for c in table.cells],
            "group_totals": [{"key": k, "count": v} for k, v in table.group_totals.items()],
            "code_totals": [{"key": k, "count": v} for k, v in table.code_totals.items()],
            "total": table.total}


def mi_out(result: OutcomeMI) -> dict[str, Any]:
    """The API's answer (and the page's JSON download): the published tables only."""
    return {**table_out(result.table), "by": result.by, "from_": result.period.start,
            "to": result.period.end, "labels": result.labels or {},
            "baseline": table_out(result.baseline) if result.baseline else None}
