"""My caseload (GET /caseload): the query and the rows, shape only (caseshare.access.caseload
decides what each row may say)."""

from __future__ import annotations

from marshmallow import fields, validate

from caseshare.access.caseload import FILTERS, MAX_PAGE, SORTS
from caseshare.schemas.common import PurposeQuery, StrictSchema


class CaseloadQuery(PurposeQuery):
    sort = fields.String(load_default="overdue", validate=validate.OneOf(SORTS), metadata={
        "description": "overdue: most overdue actions first (default); name: by family name, "
                       "claimants whose name is withheld last; consent_expiry: the soonest "
                       "end of a consent naming the caller's organisation first."})
    filter = fields.String(load_default="all", validate=validate.OneOf(FILTERS), metadata={
        "description": "all (default); overdue: with overdue actions; due: actions due this "
                       "week; referrals: open referrals in or unread referral updates; "
                       "expiring: consent ending within 30 days; withdrawals: unread "
                       "withdrawal notices."})
    limit = fields.Integer(load_default=MAX_PAGE, validate=validate.Range(1, MAX_PAGE))
    cursor = fields.String(validate=validate.Length(1, 200))


class CaseloadItemOut(StrictSchema):
    subject_id = fields.UUID()
    name = fields.String(allow_none=True, metadata={
        "description": "Given and family name, only where the caller may read the claimant's "
                       "identity for this purpose; otherwise null."})
    lead_org = fields.String()
    lead_worker = fields.String(allow_none=True, metadata={
        "description": "The name of the case's lead worker (a staff member of the lead "
                       "organisation), or null when none is named."})
    case_member = fields.Boolean(metadata={
        "description": "False when the claimant is listed only for an open referral in."})
    overdue_actions = fields.Integer(metadata={
        "description": "Open actions past their due date that the caller may read (or its "
                       "organisation wrote or owns)."})
    due_this_week = fields.Integer(metadata={
        "description": "Open actions due today or in the next six days, counted likewise."})
    referrals_in = fields.Integer(metadata={"description": "Open referrals to the caller's "
                                                           "organisation."})
    referral_updates = fields.Integer(metadata={
        "description": "Unread referral_updated notifications (accepted, declined, suspended)."})
    referrals_overdue = fields.Integer(metadata={
        "description": "Open referrals sent or received by the caller's organisation that "
                       "were not accepted or declined within their response standard."})
    withdrawal_notices = fields.Integer(metadata={
        "description": "Unread consent_withdrawn notifications."})
    consent_expires_on = fields.Date(allow_none=True, metadata={
        "description": "When the last active consent naming the caller's organisation for "
                       "this purpose ends."})
    consent_expiring = fields.Boolean(metadata={"description": "It ends within 30 days."})
    next_review_on = fields.Date(allow_none=True, metadata={
        "description": "The case's next review date, or null when none is set."})


class CaseloadList(StrictSchema):
    items = fields.List(fields.Nested(CaseloadItemOut))
    next_cursor = fields.String(allow_none=True)
    total = fields.Integer(metadata={"description": "Rows matching the filter, all pages."})
