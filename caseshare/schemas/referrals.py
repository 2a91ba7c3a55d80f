"""Referrals (warm handovers): shape only; the basis is checked in caseshare.access.referrals."""
from __future__ import annotations

from marshmallow import fields, validate

from caseshare.schemas.common import CODE, PurposeQuery, StrictSchema, UTCDateTime

# `open` is the lifecycle's "sent" (the name partners already filter on).
REFERRAL_STATUSES = ["open", "accepted", "declined", "booked", "attended", "did_not_attend",
                     "completed", "withdrawn", "suspended"]
STEP_TYPES = ["booked", "attended", "did_not_attend", "completed", "withdrawn"]


class ReferralCreate(StrictSchema):
    to_org = fields.String(validate=CODE, metadata={
        "description": "The receiving organisation; may be left out when `service_id` is given "
                       "(then it is the service's organisation)."})
    service_id = fields.String(validate=validate.Length(1, 100), metadata={
        "description": "A directory service (GET /services) of the receiving organisation."})
    purpose = fields.String(required=True, validate=CODE,
                            metadata={"description": "The purpose the recipient is asked to "
                                                     "act for (may differ from the caller's)."})
    message = fields.String(required=True, validate=validate.Length(1, 4000))
    contact_name = fields.String(required=True, validate=validate.Length(1, 200))
    appointment_at = UTCDateTime(metadata={"description": "RFC 3339, in the future."})


class ReferralDecline(StrictSchema):
    reason = fields.String(required=True, validate=validate.Length(1, 1000))


class ReferralStep(StrictSchema):
    type = fields.String(required=True, validate=validate.OneOf(STEP_TYPES),
                         metadata={"description": "booked, attended, did_not_attend, completed "
                                                  "(by the receiving organisation) or withdrawn "
                                                  "(by the sender)."})
    appointment_at = UTCDateTime(metadata={"description": "booked only (required): RFC 3339, "
                                                          "in the future."})
    location = fields.String(validate=validate.Length(1, 300),
                             metadata={"description": "booked only (required): where."})
    outcome = fields.String(validate=validate.Length(1, 40),
                            metadata={"description": "completed only (required): a code from "
                                                     "the controlled list of outcomes."})
    note = fields.String(validate=validate.Length(1, 2000),
                         metadata={"description": "Free text, sealed; shown to the sender and "
                                                  "the receiver of the referral only."})


class InboxQuery(PurposeQuery):
    box = fields.String(load_default="inbox", validate=validate.OneOf(["inbox", "sent"]),
                        metadata={"description": "inbox: addressed to the caller's "
                                                 "organisation; sent: made by it."})
    status = fields.String(validate=validate.OneOf(REFERRAL_STATUSES))
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200))
    cursor = fields.String(validate=validate.Length(1, 200))


class SenderOut(StrictSchema):
    name = fields.String()
    email = fields.String(metadata={"description": "The sender's work e-mail: how staff of "
                                                   "the partner organisations reach each other."})
    org = fields.String()


class TimelineOut(StrictSchema):
    type = fields.String(metadata={"description": "created (sent), accepted, declined, booked, "
                                                  "attended, did_not_attend, completed, "
                                                  "withdrawn or suspended."})
    at = UTCDateTime()
    actor_org = fields.String(allow_none=True,
                              metadata={"description": "None for a suspension (the service "
                                                       "found the basis gone)."})
    actor_name = fields.String(allow_none=True)
    note = fields.String(allow_none=True,
                         metadata={"description": "The step's note (a decline's reason), "
                                                  "shown to the two organisations while the "
                                                  "referral's basis holds."})
    reasons = fields.List(fields.String(), metadata={"description": "Why it was suspended."})
    outcome = fields.String(allow_none=True, metadata={"description": "completed: the code."})
    appointment_at = UTCDateTime(allow_none=True, metadata={"description": "booked: when."})
    location = fields.String(allow_none=True, metadata={"description": "booked: where."})


class ReferralOut(StrictSchema):
    id = fields.UUID()
    subject_id = fields.UUID()
    from_org = fields.String()
    to_org = fields.String()
    purpose = fields.String()
    status = fields.String()
    message = fields.String(allow_none=True)
    contact_name = fields.String(allow_none=True)
    decline_reason = fields.String(allow_none=True)
    appointment_at = UTCDateTime(allow_none=True)
    service_id = fields.String(allow_none=True, metadata={"description": "The directory "
                                                          "service it was made to, if any."})
    created_at = UTCDateTime()
    decided_at = UTCDateTime(allow_none=True)
    reasons = fields.List(fields.String(), metadata={"description": "Why it was suspended."})
    location = fields.String(allow_none=True,
                             metadata={"description": "Where the booked appointment is."})
    outcome = fields.String(allow_none=True,
                            metadata={"description": "The outcome code, once completed."})
    respond_by = UTCDateTime(allow_none=True, metadata={
        "description": "The response standard: accept or decline before this moment."})
    overdue = fields.Boolean(metadata={"description": "Still open after respond_by."})
    next_steps = fields.List(fields.String(), metadata={
        "description": "What the caller's organisation may do now: accept, decline, or a "
                       "step type for POST /referrals/{id}/events."})
    sent_by = fields.Nested(SenderOut, allow_none=True,
                            metadata={"description": "The staff member who sent it (None when "
                                                     "a partner system did)."})
    timeline = fields.List(fields.Nested(TimelineOut),
                           metadata={"description": "The status history, oldest first."})
    claimant_name = fields.String(
        allow_none=True, metadata={"description": "In GET /referrals only: the claimant's name "
                                   "where the caller may see their identity (the recipient of "
                                   "an open referral: under the referral's basis)."})
    claimant_withheld = fields.List(
        fields.String(), metadata={"description": "In GET /referrals only: reason codes for "
                                   "a claimant_name not given."})


class ReferralList(StrictSchema):
    items = fields.List(fields.Nested(ReferralOut))
    next_cursor = fields.String(allow_none=True)
