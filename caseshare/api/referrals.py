from __future__ import annotations

import uuid
from typing import Any

from caseshare.access import referrals
from caseshare.api.common import api_blueprint, no_store, unit_of_work
from caseshare.schemas.common import PurposeQuery
from caseshare.schemas.referrals import (
    InboxQuery,
    ReferralCreate,
    ReferralDecline,
    ReferralList,
    ReferralOut,
    ReferralStep,
)

blp = api_blueprint("referrals", __name__, "Referrals: warm handovers between organisations")


@blp.route("/subjects/<uuid:subject_id>/referrals", methods=["POST"])
@blp.arguments(PurposeQuery, location="query", as_kwargs=True)
@blp.arguments(ReferralCreate)
@blp.response(201, ReferralOut)
def create_referral(body: dict[str, Any], subject_id: uuid.UUID, purpose: str) -> Any:
    """Refer a claimant to another organisation.

    A warm handover: the receiving organisation, the referral's purpose (one the caller may use),
    a message, a named contact and optionally an appointment. The receiver sees it in its inbox.
    """
    with unit_of_work(purpose, "referrals:write") as ctx:
        return referrals.create_referral(ctx, subject_id, body), 201, no_store()


@blp.route("/referrals", methods=["GET"])
@blp.arguments(InboxQuery, location="query", as_kwargs=True)
@blp.response(200, ReferralList)
def inbox(purpose: str, box: str, limit: int, status: str | None = None,
          cursor: str | None = None) -> Any:
    """List referrals received or sent.

    `box=inbox` (default): referrals addressed to the caller's organisation; `box=sent`: those it
    made. Filter by `status`; paged with `limit` and `cursor`.
    """
    with unit_of_work(purpose, "referrals:read") as ctx:
        items, next_cursor = referrals.inbox(ctx, box=box, status=status, limit=limit,
                                             cursor=cursor)
        return {"items": items, "next_cursor": next_cursor}, 200, no_store()


@blp.route("/referrals/<uuid:referral_id>/accept", methods=["POST"])
@blp.arguments(PurposeQuery, location="query", as_kwargs=True)
@blp.response(200, ReferralOut)
def accept(referral_id: uuid.UUID, purpose: str) -> Any:
    """Accept a referral.

    Only the receiving organisation accepts; its organisation then works with the claimant. A
    referral that is no longer open: 409.
    """
    with unit_of_work(purpose, "referrals:write") as ctx:
        return referrals.accept_referral(ctx, referral_id), 200, no_store()


@blp.route("/referrals/<uuid:referral_id>/decline", methods=["POST"])
@blp.arguments(PurposeQuery, location="query", as_kwargs=True)
@blp.arguments(ReferralDecline)
@blp.response(200, ReferralOut)
def decline(body: dict[str, Any], referral_id: uuid.UUID, purpose: str) -> Any:
    """Decline a referral.

    Only the receiving organisation declines, with a `reason` the sender sees. A referral that is
    no longer open: 409.
    """
    with unit_of_work(purpose, "referrals:write") as ctx:
        return referrals.decline_referral(ctx, referral_id, body["reason"]), 200, no_store()


@blp.route("/referrals/<uuid:referral_id>", methods=["GET"])
@blp.arguments(PurposeQuery, location="query", as_kwargs=True)
@blp.response(200, ReferralOut)
def get_referral(referral_id: uuid.UUID, purpose: str) -> Any:
    """Read one referral with its timeline.

    For the sending and the receiving organisation only (anyone else: 404). The `timeline` lists
    each step with who and when; notes, the appointment and its place are shown while the
    referral's basis (the claimant's consent) holds, and the claimant is named only where the
    caller may see them.
    """
    with unit_of_work(purpose, "referrals:read") as ctx:
        return referrals.get_referral(ctx, referral_id), 200, no_store()


@blp.route("/referrals/<uuid:referral_id>/events", methods=["POST"])
@blp.arguments(PurposeQuery, location="query", as_kwargs=True)
@blp.arguments(ReferralStep)
@blp.response(200, ReferralOut)
def record_step(body: dict[str, Any], referral_id: uuid.UUID, purpose: str) -> Any:
    """Record the next step of a referral.

    The receiving organisation records `booked` (with `appointment_at` and `location`),
    `attended`, `did_not_attend` (then `booked` again, or `completed`) and `completed` (with an
    `outcome` code); the sender records `withdrawn`. The other side: 403
    `referral_step_not_yours`. A step out of order: 409. The sender is told of every step (the
    receiver of a withdrawal).
    """
    with unit_of_work(purpose, "referrals:write") as ctx:
        return referrals.record_step(ctx, referral_id, body), 200, no_store()
