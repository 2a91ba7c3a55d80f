"""The home page: my caseload (the claimants my organisation works with, flagged where they
need attention, sorted, filtered and paged), and the counts in the header navigation.

Both come from `caseshare.access.caseload`. IG officers land on their dashboard instead.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app, g, redirect, request, url_for
from flask import session as cookie
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response as BaseResponse

from caseshare.access import caseload
from caseshare.errors import CaseshareError, ValidationError
from caseshare.policy.models import EVALUATION
from caseshare.web.blueprint import bp, page, runtime, unit_of_work, user

SORT_LABELS = {"overdue": "Overdue first", "name": "Name",
               "consent_expiry": "Consent ending soonest"}
FILTER_LABELS = {"all": "All claimants", "overdue": "Overdue actions",
                 "due": "Actions due this week", "referrals": "New referrals and updates",
                 "expiring": "Consent ending within 30 days",
                 "withdrawals": "Consent withdrawn"}
# The header's caseload count is computed at most this often on other pages (it reads the whole
# caseload); the caseload page itself always refreshes it.
COUNT_TTL = timedelta(seconds=60)


def _is_ig(principal_roles: frozenset[str]) -> bool:
    return "ig_officer" in principal_roles


@bp.route("/", methods=["GET"])
def home() -> BaseResponse | tuple[str, int]:
    """My caseload. IG officers go to their dashboard."""
    if _is_ig(user().principal.roles):
        return redirect(url_for("web.ig_dashboard"))
    if user().purpose == EVALUATION:  # no caseload under evaluation: MI only
        return redirect(url_for("web.mi_outcomes"))
    args = request.args
    sort = args.get("sort", "overdue")
    chosen = args.get("filter", "all")
    errors: dict[str, str] = {}
    if sort not in caseload.SORTS:
        errors["sort"], sort = "Choose how to sort the list", "overdue"
    if chosen not in caseload.FILTERS:
        errors["filter"], chosen = "Choose which claimants to show", "all"
    try:
        with unit_of_work("subjects:read") as ctx:
            found = caseload.my_caseload(ctx, sort=sort, filter=chosen,
                                         cursor=args.get("cursor") or None)
    except ValidationError:  # a cursor from another list, or tampered: start again
        return redirect(url_for("web.home", sort=sort, filter=chosen))
    _remember_attention(found.attention)
    return page("caseload.html", 422 if errors else 200, errors=errors, found=found,
                sort=sort, filter=chosen, sort_labels=SORT_LABELS, filter_labels=FILTER_LABELS,
                options=_options, register_url=_register_url())


def _options(labels: dict[str, str], chosen: str) -> list[dict[str, Any]]:
    return [{"value": code, "text": text, "selected": code == chosen}
            for code, text in labels.items()]


def _register_url() -> str:
    """Registering a claimant is another page's work; its plain path until it exists."""
    if "web.register_claimant" in current_app.view_functions:
        return url_for("web.register_claimant")
    return "/claimants/new"


def _remember_attention(count: int) -> None:
    cookie["attention"] = [count, runtime().now().isoformat(), user().purpose]


def _attention() -> int | None:
    """Claimants needing attention, from the last minute's count or freshly counted."""
    kept = cookie.get("attention")
    now = runtime().now()
    if (kept and len(kept) == 3 and kept[2] == user().purpose
            and timedelta(0) <= now - datetime.fromisoformat(kept[1]) < COUNT_TTL):
        return int(kept[0])
    with unit_of_work("subjects:read") as ctx:
        count = caseload.attention_count(ctx)
    _remember_attention(count)
    return count


@bp.app_context_processor
def _header_counts() -> dict[str, Any]:
    """`nav_counts` for the header: unread notifications and claimants needing attention, or
    nothing where they cannot be counted (signed out, no purpose chosen, no scope)."""
    u = g.get("web_user")
    if (u is None or u.purpose in (None, EVALUATION) or request.blueprint != "web"
            or request.endpoint is None):
        return {}  # under evaluation there is no caseload to count (MI only)
    if "nav_counts" not in g:
        g.nav_counts = _counts(u.principal.scopes, u.principal.roles)
    return {"nav_counts": g.nav_counts}


def _counts(scopes: frozenset[str], roles: frozenset[str]) -> dict[str, int | None]:
    counts: dict[str, int | None] = {"unread": None, "attention": None}
    try:
        if "consents:read" in scopes:
            with unit_of_work("consents:read") as ctx:
                counts["unread"] = caseload.unread_notifications(ctx)
        if "subjects:read" in scopes and not _is_ig(roles):
            counts["attention"] = _attention()
    except (CaseshareError, SQLAlchemyError):
        pass  # the header goes without its counts; the page itself says what went wrong
    return counts
