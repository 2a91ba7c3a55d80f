"""My caseload as JSON: the claimants the caller's organisation works with and what needs
attention for each (caseshare.access.caseload)."""

from __future__ import annotations

from typing import Any

from caseshare.access import caseload
from caseshare.api.common import api_blueprint, no_store, unit_of_work
from caseshare.schemas.caseload import CaseloadList, CaseloadQuery

blp = api_blueprint("caseload", __name__, "My caseload: the claimants my organisation works with")


def item_out(item: caseload.CaseloadItem) -> dict[str, Any]:
    return {"subject_id": item.subject_id, "name": item.name, "lead_org": item.lead_org,
            "lead_worker": item.lead_worker, "case_member": item.member,
            "overdue_actions": item.overdue_actions, "due_this_week": item.due_this_week,
            "referrals_in": item.referrals_in, "referral_updates": item.referral_updates,
            "referrals_overdue": item.referrals_overdue,
            "withdrawal_notices": item.withdrawal_notices,
            "consent_expires_on": item.consent_expires_on,
            "consent_expiring": item.consent_expiring, "next_review_on": item.next_review_on}


@blp.route("/caseload", methods=["GET"])
@blp.arguments(CaseloadQuery, location="query", as_kwargs=True)
@blp.response(200, CaseloadList)
def my_caseload(purpose: str, sort: str, filter: str, limit: int,
                cursor: str | None = None) -> Any:
    """My caseload.

    The claimants the caller's organisation works with (lead or case member) or has an open
    referral from, with overdue and due-this-week actions, referrals in, unread referral
    updates and withdrawal notices, and when consent naming the organisation ends. `name` only
    where the caller may read the claimant's identity; counts only of actions the caller may
    read or its organisation wrote or owns. At most 200 rows a page; audited
    (`subject:caseload:list`)."""
    with unit_of_work(purpose, "subjects:read") as ctx:
        found = caseload.my_caseload(ctx, sort=sort, filter=filter, limit=limit, cursor=cursor)
        return ({"items": [item_out(i) for i in found.items], "next_cursor": found.next_cursor,
                 "total": found.total}, 200, no_store())
