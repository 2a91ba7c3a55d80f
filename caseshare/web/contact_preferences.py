"""Appointment reminders on the staff pages: the claimant's contact preference (record it or
withdraw it, on a page linked from the overview's papers section) and, for information
governance officers, the reminder outbox (what was sent, retried, failed or cancelled)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from flask import flash, redirect, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from caseshare.access import contact_preferences, reminders
from caseshare.access.contact_preferences import PreferenceView
from caseshare.errors import ConflictError, ForbiddenError
from caseshare.reminders.service import CHANNELS, LANGUAGES, METHODS
from caseshare.schemas.contact_preferences import address_problem
from caseshare.uk_time import UK
from caseshare.web import forms
from caseshare.web.blueprint import bp, page, run, user
from caseshare.web.explanations import explain
from caseshare.web.filters import org_name, purpose_name

FIELDS = ("channel", "address", "language", "method")


@bp.route("/claimants/<uuid:subject_id>/contact-preference", methods=["GET", "POST"])
def contact_preference(subject_id: uuid.UUID) -> BaseResponse | tuple[str, int]:
    """The preference as it stands and, where the decision allows, the form to record one."""
    if request.method == "GET":
        return _page(subject_id, {}, {})
    values = {name: forms.text(request.form, name) for name in FIELDS}
    errors = _check(values)
    if errors:
        return _page(subject_id, values, errors, 422)
    try:
        run("consents:write", contact_preferences.record_preference, subject_id, values)
    except ForbiddenError as exc:  # the decision changed since the form was shown
        return _page(subject_id, values, {"channel": _refusal(exc.extra.get("reasons") or [])},
                     403)
    flash("Contact preference recorded. The claimant will get a reminder the day before "
          "an appointment that is booked for them.")
    return redirect(url_for("web.contact_preference", subject_id=subject_id))


@bp.route("/claimants/<uuid:subject_id>/contact-preference/withdraw", methods=["POST"])
def withdraw_contact_preference(subject_id: uuid.UUID) -> BaseResponse:
    """The claimant no longer wants reminders: withdrawn at once, pending ones cancelled."""
    try:
        run("consents:write", contact_preferences.withdraw_preference, subject_id)
    except ConflictError:
        flash("There was nothing to withdraw: the claimant had not agreed to get reminders.")
    else:
        flash("Reminders stopped. The claimant will get no more appointment reminders.")
    return redirect(url_for("web.contact_preference", subject_id=subject_id))


def _page(subject_id: uuid.UUID, values: dict[str, str], errors: forms.Errors,
          status: int = 200) -> tuple[str, int]:
    current: PreferenceView = run("consents:read", contact_preferences.read_preference,
                                  subject_id)
    refusal = run("consents:write", contact_preferences.record_refusal, subject_id)
    return page("contact_preference.html", status, subject_id=subject_id, current=current,
                values=values or _prefilled(current), errors=errors,
                methods=METHODS, channels=CHANNELS, languages=LANGUAGES,
                refusal=_refusal(refusal) if refusal else None)


def _prefilled(current: PreferenceView) -> dict[str, Any]:
    """Changing an active preference starts from it (the address only where it is shown)."""
    if current.status != "active":
        return {}
    return {"channel": current.channel, "address": current.address or "",
            "language": current.language, "method": current.method}


def _check(values: dict[str, str]) -> forms.Errors:
    errors: forms.Errors = {}
    if values["channel"] not in CHANNELS:
        errors["channel"] = "Select how the claimant wants to get reminders"
    if values["language"] not in LANGUAGES:
        errors["language"] = "Select the language of the reminders"
    if values["method"] not in METHODS:
        errors["method"] = "Select how the claimant agreed"
    if not values["address"]:
        errors["address"] = "Enter the mobile number or e-mail address"
    elif values["channel"] in CHANNELS:
        problem = address_problem(values["channel"], values["address"])
        if problem:
            errors["address"] = problem.rstrip(".")
    return errors


def _refusal(reasons: list[str]) -> str:
    """Why the form is not offered, in plain words with the next step."""
    u = user()
    if not reasons:
        return "You cannot record this for the claimant"
    said = explain(reasons[0], org=org_name(u.principal.org), category="contact details",
                   purpose=purpose_name(u.purpose))
    return f"{said.sentence.rstrip('.')}. {said.next_step.rstrip('.')}"


@bp.route("/ig/outbox", methods=["GET"])
def ig_outbox() -> tuple[str, int]:
    """IG officers: the reminders the service sent, is retrying, gave up on or cancelled."""
    rows = run("audit:read", reminders.list_outbox)
    return page("ig/outbox.html", rows=[(r, _uk_time(r.sent_at or r.next_attempt_at))
                                        for r in rows])


def _uk_time(value: datetime) -> str:
    """'25 November 2026, 10:30' in UK local time."""
    local = value.astimezone(UK)
    return f"{local.day} {local:%B %Y, %H:%M}"
