"""Request and response schemas for the funding view (caseshare/api/funding.py)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from caseshare.access.funding import FundingView, PartnershipFunding
from caseshare.schemas.common import CODE, StrictSchema
from caseshare.schemas.mi import IN_RANGE, TableOut, table_out

PENCE = "Whole pence."


class FundingQuery(Schema):
    purpose = fields.String(required=True, validate=CODE, metadata={
        "description": "Must be `evaluation`, declared by a protocol the caller's organisation "
                       "is party to."})
    from_ = fields.Date(data_key="from", validate=IN_RANGE, metadata={
        "description": "First day of the period (default: the first day of the month five "
                       "months ago, so six calendar months to today)."})
    to = fields.Date(validate=IN_RANGE,
                     metadata={"description": "Last day of the period (default: today)."})


class ActivityLineOut(StrictSchema):
    key = fields.String(metadata={"description": "Activity code, or `code:service_line`."})
    label = fields.String()
    price_pence = fields.Integer(metadata={"description": PENCE})
    count = fields.Integer(allow_none=True, metadata={
        "description": "Published count (rounded to 5); null when suppressed."})
    amount_pence = fields.Integer(metadata={"description": "count x price; 0 when suppressed."})


class OutcomeLineOut(StrictSchema):
    code = fields.String()
    label = fields.String()
    payment_pence = fields.Integer(metadata={"description": "Paid per outcome. " + PENCE})
    threshold = fields.Integer(metadata={"description": "Below this count nothing is paid."})
    target = fields.Integer(metadata={"description": "Above this count nothing more is paid."})
    count = fields.Integer(allow_none=True, metadata={
        "description": "Published count of outcomes (rounded to 5); null when suppressed."})
    paid_count = fields.Integer()
    amount_pence = fields.Integer()
    maximum_pence = fields.Integer(metadata={"description": "payment x target."})


class ApportionedOut(StrictSchema):
    org = fields.String()
    outcome_pence = fields.Integer(allow_none=True, metadata={
        "description": "The organisation's part of the outcome payments by attributed shares; "
                       "null when a share it needs is suppressed."})


class PartnershipFundingOut(StrictSchema):
    protocol = fields.String()
    title = fields.String()
    period_months = fields.Integer(metadata={
        "description": "The funding period the guaranteed element, thresholds and targets "
                       "are for."})
    guaranteed_pence = fields.Integer()
    activities = fields.List(fields.Nested(ActivityLineOut))
    outcomes = fields.List(fields.Nested(OutcomeLineOut))
    activity_pence = fields.Integer()
    outcome_pence = fields.Integer()
    total_pence = fields.Integer()
    shares = fields.Nested(TableOut, metadata={
        "description": "Attributed shares of outcomes by organisation (group) and code, "
                       "rounded to whole outcomes and disclosure-controlled."})
    apportioned = fields.List(fields.Nested(ApportionedOut))


class FundingOut(StrictSchema):
    from_ = fields.Date(data_key="from")
    to = fields.Date()
    partnerships = fields.List(fields.Nested(PartnershipFundingOut))


def partnership_out(p: PartnershipFunding) -> dict[str, Any]:
    earned, agreement = p.earned, p.earned.agreement
    return {
        "protocol": p.protocol, "title": p.title, "period_months": agreement.period_months,
        "guaranteed_pence": agreement.guaranteed_pence,
        "activities": [{"key": line.price.key, "label": line.price.label,
                        "price_pence": line.price.price_pence,
                        "count": p.activity_counts[line.price.key],
                        "amount_pence": line.amount_pence} for line in earned.activities],
        "outcomes": [{"code": line.payment.code, "label": line.payment.label,
                      "payment_pence": line.payment.payment_pence,
                      "threshold": line.payment.threshold, "target": line.payment.target,
                      "count": p.outcome_counts[line.payment.code],
                      "paid_count": line.paid_count, "amount_pence": line.amount_pence,
                      "maximum_pence": line.maximum_pence} for line in earned.outcomes],
        "activity_pence": earned.activity_pence, "outcome_pence": earned.outcome_pence,
        "total_pence": earned.total_pence, "shares": table_out(p.shares),
        "apportioned": [{"org": a.org, "outcome_pence": a.outcome_pence}
                        for a in p.apportioned],
    }


def funding_out(view: FundingView) -> dict[str, Any]:
    """The API's answer (and the page's JSON download): the published figures only."""
    return {"from_": view.first, "to": view.last,
            "partnerships": [partnership_out(p) for p in view.partnerships]}
