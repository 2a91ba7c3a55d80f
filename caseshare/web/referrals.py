"""Make a referral (a warm handover: receiving organisation, purpose, message, named contact,
appointment), and the referral inbox of the receiving organisation with accept and decline.
Every step is one use case in caseshare.access.referrals (basis checked, audited)."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, time
from typing import Any

from flask import flash, redirect, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from caseshare.access import referrals
from caseshare.errors import ForbiddenError, ValidationError
from caseshare.policy.models import RESERVED_PURPOSES
from caseshare.web import forms
from caseshare.web.blueprint import bp, page, require, run, runtime, user
from caseshare.web.explanations import explain
from caseshare.web.filters import org_name, purpose_name
from caseshare.web.i18n import UK

REFERRAL_FIELDS = {"to_org": "to_org", "purpose": "purpose", "message": "message",
                   "contact_name": "contact_name", "appointment_at": "appointment-day"}
TIME = re.compile(r"^(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm)?$", re.IGNORECASE)
MESSAGE_MAX, CONTACT_MAX, REASON_MAX = 4000, 200, 1000


def _recipients() -> list[str]:
    """Organisations sharing a protocol with the user's own (the use case checks the flow and
    the claimant's consent)."""
    org = user().principal.org
    return sorted({p.id for protocol in runtime().protocols.for_party(org)
                   for p in protocol.parties if p.id != org})


def _purposes() -> list[str]:
    org = user().principal.org
    return sorted({p for protocol in runtime().protocols.for_party(org)
                   for p in protocol.purposes if p not in RESERVED_PURPOSES})


def parse_time(value: str) -> time | None:
    """'14:30', '2:30pm', '2pm', '9.15' -> a time of day; None if it is not one."""
    match = TIME.match(value.strip())
    if not match:
        return None
    hour, minute, half = int(match.group(1)), int(match.group(2) or 0), match.group(3)
    if half:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half.lower() == "pm" else 0)
    elif match.group(2) is None:
        return None  # a bare number is ambiguous: 9 or 21?
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def _read(submitted: Any) -> tuple[dict[str, Any], forms.Errors]:
    values: dict[str, Any] = {name: forms.text(submitted, name)
                              for name in ("to_org", "purpose", "message", "contact_name",
                                           "appointment_time")}
    values["appointment"] = forms.date_parts(submitted, "appointment")
    errors: forms.Errors = {}
    if values["to_org"] not in _recipients():
        errors["to_org"] = "Select the organisation you are referring the claimant to"
    if values["purpose"] not in _purposes():
        errors["purpose"] = "Select what the referral is for"
    forms.check_text(errors, "message", values["message"], max_length=MESSAGE_MAX,
                     missing="Enter a message for the organisation",
                     too_long="Message must be 4,000 characters or fewer")
    forms.check_text(errors, "contact_name", values["contact_name"], max_length=CONTACT_MAX,
                     missing="Enter the name of the person the claimant will see",
                     too_long="Name must be 200 characters or fewer")
    values["appointment_at"] = _appointment(values, errors)
    return values, errors


def _appointment(values: dict[str, Any], errors: forms.Errors) -> datetime | None:
    """The appointment, if a date or time was given: a real date in the future, at the time
    given (09:00 if none); each problem is an error on the box that has it."""
    if not any(values["appointment"].values()) and not values["appointment_time"]:
        return None
    day = forms.parse_date(values["appointment"])
    at = parse_time(values["appointment_time"]) if values["appointment_time"] else time(9)
    if day is None:
        errors["appointment-day"] = "Enter a real appointment date, like 5 12 2026"
        return None
    if at is None:
        errors["appointment_time"] = "Enter the time like 14:30 or 2:30pm"
        return None
    moment = datetime.combine(day, at, tzinfo=UK)
    if moment <= runtime().now():
        errors["appointment-day"] = "The appointment must be in the future"
    return moment


def _form(subject_id: uuid.UUID, values: dict[str, Any], errors: forms.Errors,
          status: int = 200) -> tuple[str, int]:
    return page("referral_new.html", status, subject_id=subject_id, values=values,
                errors=errors, recipients=_recipients(), purposes=_purposes())


@bp.route("/claimants/<uuid:subject_id>/referrals/new", methods=["GET", "POST"])
def make_referral(subject_id: uuid.UUID) -> BaseResponse | tuple[str, int]:
    if request.method == "GET":
        require("referrals:write")
        return _form(subject_id, {"purpose": user().purpose}, {})
    values, errors = _read(request.form)
    if errors:
        return _form(subject_id, values, errors, 422)
    data = {"to_org": values["to_org"], "purpose": values["purpose"],
            "message": values["message"], "contact_name": values["contact_name"],
            "appointment_at": values["appointment_at"]}
    try:
        run("referrals:write", referrals.create_referral, subject_id, data)
    except ValidationError as exc:
        return _form(subject_id, values,
                     forms.domain_errors(exc.extra["errors"], REFERRAL_FIELDS), 422)
    except ForbiddenError as exc:
        # Refused (and audited) by the use case: say why next to the choice, keeping the text.
        why = [_refusal(r, values["to_org"], values["purpose"])
               for r in exc.extra.get("reasons") or []]
        message = " ".join(why) or "This referral is not allowed"
        return _form(subject_id, values, {"to_org": message.rstrip(".")}, 403)
    flash(f"Referral sent to {org_name(values['to_org'])}. They will see it in their "
          "referrals and can accept or decline it.")
    return redirect(url_for("web.overview", subject_id=subject_id))


def _refusal(reason: str, to_org: str, purpose: str) -> str:
    """Why a referral was refused, in plain English. The reasons are about the receiving
    organisation (its grants, the claimant's consent to it), except the sender's own case
    relationship."""
    recipient, doing = org_name(to_org), purpose_name(purpose).lower()
    if reason == "role_not_granted":
        return (f"{recipient} is not given access to this claimant's information for {doing} "
                "under the information sharing agreements.")
    org = user().org_name if reason == "no_case_relationship" else recipient
    return explain(reason, org=org, category="this information", purpose=doing).sentence


@bp.route("/referrals", methods=["GET"])
def referral_inbox() -> tuple[str, int]:
    box = "sent" if request.args.get("box") == "sent" else "inbox"
    items, _cursor = run("referrals:read", referrals.inbox, box=box, status=None,
                         limit=200, cursor=None)
    items.sort(key=lambda r: (r["status"] != "open", -r["created_at"].timestamp()))
    return page("referrals.html", box=box, items=items)


@bp.route("/referrals/<uuid:referral_id>/accept", methods=["POST"])
def accept_referral(referral_id: uuid.UUID) -> BaseResponse:
    opened = run("referrals:write", referrals.accept_referral, referral_id)
    flash(f"Referral accepted. {user().org_name} now works with this claimant.")
    return redirect(url_for("web.overview", subject_id=opened["subject_id"]))


@bp.route("/referrals/<uuid:referral_id>/decline", methods=["GET", "POST"])
def decline_referral(referral_id: uuid.UUID) -> BaseResponse | tuple[str, int]:
    if request.method == "GET":
        require("referrals:write")
        return page("referral_decline.html", referral_id=referral_id, values={}, errors={})
    reason = forms.text(request.form, "reason")
    errors: forms.Errors = {}
    if not reason:
        errors["reason"] = "Enter why you are declining the referral"
    elif len(reason) > REASON_MAX:
        errors["reason"] = "Reason must be 1,000 characters or fewer"
    if errors:
        return page("referral_decline.html", 422, referral_id=referral_id,
                    values={"reason": reason}, errors=errors)
    run("referrals:write", referrals.decline_referral, referral_id, reason)
    flash("Referral declined. The organisation that sent it will see that you declined it.")
    return redirect(url_for("web.referral_inbox"))
