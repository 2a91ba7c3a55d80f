"""Notifications: every kind the service raises, in plain words, read or unread, each linked to
the claimant (named only where the reader may see the name). The same items as the API's
`GET /notifications` (caseshare.access.notifications)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import flash, redirect, url_for
from werkzeug.wrappers import Response as BaseResponse

from caseshare.access import caseload
from caseshare.access import notifications as inbox
from caseshare.notifications.service import NotificationView
from caseshare.web.blueprint import bp, page, unit_of_work
from caseshare.web.filters import category_name, org_name, purpose_name, uk_date

REFERRAL_OUTCOMES = {"accepted": "accepted", "declined": "declined",
                     "suspended": "suspended because the claimant's consent no longer covers it",
                     "booked": "booked an appointment for", "attended": "recorded attendance at",
                     "did_not_attend": "recorded a missed appointment for",
                     "completed": "recorded the outcome of"}


@dataclass(frozen=True)
class Notice:
    """One notification as the page shows it."""

    view: NotificationView
    headline: str
    detail: str
    claimant: str | None  # None: no claimant; else their name or "a claimant"


@bp.route("/notifications", methods=["GET"])
def notifications() -> tuple[str, int]:
    with unit_of_work("consents:read") as ctx:
        views = inbox.list_notifications(ctx)
        ids = [v.subject_id for v in views if v.subject_id is not None]
        names = caseload.claimant_names(ctx, ids) if ids and "subjects:read" in \
            ctx.principal.scopes else {}
    notices = [_notice(v, names) for v in views]
    unread = sum(1 for n in notices if not n.view.read)
    return page("notifications.html", notices=notices, unread=unread)


@bp.route("/notifications/<uuid:notification_id>/read", methods=["POST"])
def notification_read(notification_id: uuid.UUID) -> BaseResponse:
    with unit_of_work("consents:read") as ctx:
        inbox.mark_notification_read(ctx, notification_id)
    return redirect(url_for("web.notifications") + f"#n-{notification_id}")


@bp.route("/notifications/read-all", methods=["POST"])
def notifications_read_all() -> BaseResponse:
    """Mark every unread notification shown on the page read (each is audited as one read)."""
    with unit_of_work("consents:read") as ctx:
        unread = [v.id for v in inbox.list_notifications(ctx) if not v.read]
        for notification_id in unread:
            inbox.mark_notification_read(ctx, notification_id)
    flash("All notifications marked as read" if unread else "There were no unread notifications")
    return redirect(url_for("web.notifications"))


def _notice(view: NotificationView, names: dict[uuid.UUID, str | None]) -> Notice:
    claimant = None
    if view.subject_id is not None:
        claimant = names.get(view.subject_id) or "a claimant"
    headline, detail = _WORDS.get(view.type, _unknown)(view.details)
    return Notice(view, headline, detail, claimant)


def _list(codes: Any, name: Callable[[str], str]) -> str:
    """'A', 'A and B', 'A, B and C' from codes, each named by `name`."""
    items = [name(str(c)) for c in codes or []]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _withdrawn(d: dict[str, Any]) -> tuple[str, str]:
    scope = d.get("scope") or {}
    if d.get("full") or not any(scope.get(k) for k in ("recipients", "purposes", "categories")):
        return ("Consent withdrawn",
                "The claimant withdrew their consent. Stop sharing and using their information "
                "for the withdrawn purposes; open referrals relying on it are suspended.")
    parts = []
    if scope.get("recipients"):
        parts.append("from " + _list(scope["recipients"], org_name))
    if scope.get("purposes"):
        parts.append("for " + _list(scope["purposes"], purpose_name).lower())
    if scope.get("categories"):
        parts.append("covering " + _list(scope["categories"], category_name).lower())
    return ("Consent partly withdrawn",
            "The claimant withdrew part of their consent: " + ", ".join(parts) + ". "
            "Check what your organisation still receives on the claimant's page.")


def _expiring(d: dict[str, Any]) -> tuple[str, str]:
    ends = d.get("expires_on") or d.get("expires_at")
    when = f" on {str(ends)[:10]}" if ends else " soon"
    days = d.get("threshold_days")
    return (f"Consent ends within {days} days" if days else "Consent ending soon",
            f"A consent naming your organisation ends{when}. Ask the claimant whether they want "
            "to renew it, then record their new choices.")


def _regranted(d: dict[str, Any]) -> tuple[str, str]:
    who = _list(d.get("recipients"), org_name) or "an organisation"
    return ("Consent given again after a withdrawal",
            f"The claimant has again agreed to share with {who}, which they had recently "
            "withdrawn. Check that this was their own choice.")


def _received(d: dict[str, Any]) -> tuple[str, str]:
    sender = org_name(d["from_org"]) if d.get("from_org") else "Another organisation"
    return ("New referral",
            f"{sender} referred a claimant to you. Accept or decline it in your referrals.")


def _updated(d: dict[str, Any]) -> tuple[str, str]:
    status = str(d.get("status") or "")
    if status == "withdrawn":
        by = org_name(d["from_org"]) if d.get("from_org") else "The organisation that sent it"
        return "Referral withdrawn", f"{by} withdrew a referral it had sent you."
    outcome = REFERRAL_OUTCOMES.get(status, "updated")
    to = org_name(d["to_org"]) if d.get("to_org") else "The organisation you referred to"
    return f"Referral {status or 'updated'}", f"{to} {outcome} your referral."


def _overdue(_d: dict[str, Any]) -> tuple[str, str]:
    return ("Referral overdue",
            "A referral to your organisation has not been accepted or declined within the "
            "agreed response time. Accept or decline it in your referrals.")


def _override(d: dict[str, Any]) -> tuple[str, str]:
    by = org_name(d["requested_by_org"]) if d.get("requested_by_org") else "A partner"
    what = _list(d.get("categories"), category_name).lower() or "some information"
    return ("Emergency access granted",
            f"{by} used emergency access to {what}. Review whether it was justified.")


def _protocol_review(d: dict[str, Any]) -> tuple[str, str]:
    protocol = str(d.get("protocol") or "An information sharing protocol")
    when = uk_date(str(d["review_date"])) if d.get("review_date") else "soon"
    if d.get("threshold") == "passed":
        return ("Protocol review overdue",
                f"The review date of {protocol} ({when}) has passed. Agree the review with the "
                "other parties and load the reviewed version.")
    return ("Protocol review due soon",
            f"{protocol} is due for review on {when}. Start the review with the other parties "
            "so the new version is agreed before then.")


def _override_review(_d: dict[str, Any]) -> tuple[str, str]:
    return ("Emergency access review overdue",
            "An emergency access by your organisation has not been reviewed in the agreed "
            "time. Review it in the override review queue.")


def _arrears_after_apa(d: dict[str, Any]) -> tuple[str, str]:
    month = str(d.get("month") or "a recent month")
    return ("Arrears after an APA ended",
            f"The rent account shows arrears for {month}, after the claimant's Alternative "
            "Payment Arrangement ended. Check whether a new arrangement is needed.")


def _unknown(_d: dict[str, Any]) -> tuple[str, str]:
    return ("Update", "Something changed for a claimant your organisation works with.")


_WORDS = {
    "consent_withdrawn": _withdrawn,
    "consent_expiring": _expiring,
    "consent_regranted_after_withdrawal": _regranted,
    "referral_received": _received,
    "referral_updated": _updated,
    "referral_overdue": _overdue,
    "override_granted": _override,
    "protocol_review_due": _protocol_review,
    "override_review_overdue": _override_review,
    "arrears_after_apa": _arrears_after_apa,
}
