"""The claimant's contact preference for appointment reminders (issue 22)."""
from __future__ import annotations

import dataclasses
import uuid
from typing import Any

from caseshare.access import contact_preferences
from caseshare.access.contact_preferences import PreferenceView
from caseshare.api.common import api_blueprint, no_store, unit_of_work
from caseshare.schemas.common import PurposeQuery
from caseshare.schemas.contact_preferences import ContactPreferenceIn, ContactPreferenceOut

blp = api_blueprint("contact_preferences", __name__,
                    "The claimant's agreement to get appointment reminders")
PATH = "/subjects/<uuid:subject_id>/contact-preference"


def preference_out(view: PreferenceView) -> dict[str, Any]:
    return {**dataclasses.asdict(view), "withheld": list(view.withheld)}


@blp.route(PATH, methods=["PUT"])
@blp.arguments(PurposeQuery, location="query", as_kwargs=True)
@blp.arguments(ContactPreferenceIn)
@blp.response(200, ContactPreferenceOut)
def put_preference(body: dict[str, Any], subject_id: uuid.UUID, purpose: str) -> Any:
    """Record the claimant's agreement to get appointment reminders.

    By SMS or e-mail (`address`: a UK mobile number or an e-mail address), in English or Welsh,
    and how they agreed. It replaces the current preference, if any. Needs the decision to write
    `contact` data for the purpose (otherwise 403 with reasons). The address is sealed like the
    claimant's other contact details.
    """
    with unit_of_work(purpose, "consents:write") as ctx:
        view = contact_preferences.record_preference(ctx, subject_id, body)
        return preference_out(view), 200, no_store()


@blp.route(PATH, methods=["GET"])
@blp.arguments(PurposeQuery, location="query", as_kwargs=True)
@blp.response(200, ContactPreferenceOut)
def get_preference(subject_id: uuid.UUID, purpose: str) -> Any:
    """Read the claimant's contact preference.

    The current one (`status` active), else the latest one that ended (withdrawn or replaced),
    else `status` none. The address shows only where a flow brings the recording
    organisation's `contact` data to the caller for the purpose; otherwise `withheld` says why.
    A claimant the caller's organisation has no relationship with is 404.
    """
    with unit_of_work(purpose, "consents:read") as ctx:
        return preference_out(contact_preferences.read_preference(ctx, subject_id)), 200, \
            no_store()


@blp.route(PATH, methods=["DELETE"])
@blp.arguments(PurposeQuery, location="query", as_kwargs=True)
@blp.response(200, ContactPreferenceOut)
def withdraw_preference(subject_id: uuid.UUID, purpose: str) -> Any:
    """Withdraw the claimant's agreement to get reminders.

    Takes effect at once: reminders not yet sent are cancelled. Any organisation working with
    the claimant may record it. No current preference: 409.
    """
    with unit_of_work(purpose, "consents:write") as ctx:
        view = contact_preferences.withdraw_preference(ctx, subject_id)
        return preference_out(view), 200, no_store()
