"""The case on the staff pages: the overview's "Case" summary (lead worker, review date,
status), the page to change the lead worker and review date, closing the case (a reason in
plain words, a note for "other", what closing ends) and reopening it."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from flask import flash, redirect, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from caseshare.access import cases
from caseshare.access.cases import CaseDetails
from caseshare.cases.closure import CLOSURE_REASONS, closure_errors, is_review_overdue
from caseshare.errors import ConflictError, ForbiddenError, ValidationError
from caseshare.uk_time import UK
from caseshare.web import forms
from caseshare.web.blueprint import bp, page, run, runtime, user
from caseshare.web.explanations import explain
from caseshare.web.filters import purpose_name

REASON_WORDS = {
    "goals_met": "The goals of the plan were met",
    "moved_away": "The claimant moved away",
    "no_longer_engaging": "The claimant is no longer taking part",
    "transferred": "The case moved to another organisation",
    "deceased": "The claimant died",
    "other": "Another reason",
}
DETAIL_FIELDS = {"lead_worker_id": "lead_worker_id", "review_on": "review_on-day"}


def case_summary(subject_id: uuid.UUID) -> dict[str, Any]:
    """For the overview: the case, whether it may be changed (or why not), overdue review."""
    details: CaseDetails = run("case_plans:read", cases.read_case, subject_id)
    today = runtime().now().astimezone(UK).date()
    return {"case": details.case, "details": details, "reason_words": REASON_WORDS,
            "overdue": is_review_overdue(details.case.review_on, details.case.status, today),
            "refusal": _refusal(list(details.refusals)) if details.refusals else None}


@bp.route("/claimants/<uuid:subject_id>/case", methods=["GET", "POST"])
def case_details(subject_id: uuid.UUID) -> BaseResponse | tuple[str, int]:
    """Change the lead worker and the review date."""
    if request.method == "GET":
        return _details_page(subject_id, {}, {})
    values = {"lead_worker_id": forms.text(request.form, "lead_worker_id"),
              "review_on": forms.date_parts(request.form, "review_on")}
    lead, review, errors = _parse_details(values)
    if errors:
        return _details_page(subject_id, values, errors, 422)
    try:
        run("case_plans:write", cases.update_case, subject_id, lead_worker_id=lead,
            review_on=review)
    except ValidationError as exc:
        return _details_page(subject_id, values,
                             forms.domain_errors(exc.extra["errors"], DETAIL_FIELDS), 422)
    except ForbiddenError as exc:
        return _details_page(subject_id, values,
                             {"lead_worker_id": _refusal(exc.extra.get("reasons") or [])}, 403)
    flash("Case details saved.")
    return redirect(url_for("web.overview", subject_id=subject_id) + "#case")


@bp.route("/claimants/<uuid:subject_id>/case/close", methods=["GET", "POST"])
def close_case(subject_id: uuid.UUID) -> BaseResponse | tuple[str, int]:
    """Close the case with a reason (a note for "other"), saying first what closing ends."""
    if request.method == "GET":
        return _close_page(subject_id, {}, {})
    values = {"reason": forms.text(request.form, "reason"),
              "note": forms.text(request.form, "note")}
    errors = {k: v[0] for k, v in closure_errors(values["reason"], values["note"]).items()}
    if errors:
        return _close_page(subject_id, values, errors, 422)
    try:
        run("case_plans:write", cases.close_case, subject_id, values["reason"],
            values["note"] or None)
    except ForbiddenError as exc:
        return _close_page(subject_id, values,
                           {"reason": _refusal(exc.extra.get("reasons") or [])}, 403)
    except ConflictError:
        flash("The case was already closed.")
    else:
        flash("Case closed. Consents that lasted until the case closed have ended and open "
              "referrals are closed.")
    return redirect(url_for("web.overview", subject_id=subject_id) + "#case")


@bp.route("/claimants/<uuid:subject_id>/case/reopen", methods=["GET", "POST"])
def reopen_case(subject_id: uuid.UUID) -> BaseResponse | tuple[str, int]:
    """Reopen a closed case; consents that ended at closure stay ended (the page says so)."""
    if request.method == "GET":
        return _reopen_page(subject_id, None)
    try:
        run("case_plans:write", cases.reopen_case, subject_id)
    except ForbiddenError as exc:
        return _reopen_page(subject_id, _refusal(exc.extra.get("reasons") or []), 403)
    except ConflictError:
        flash("The case was already open.")
    else:
        flash("Case reopened. Record a new consent before sharing information again.")
    return redirect(url_for("web.overview", subject_id=subject_id) + "#case")


def _parse_details(values: dict[str, Any]) -> tuple[uuid.UUID | None, date | None,
                                                   forms.Errors]:
    errors: forms.Errors = {}
    lead = None
    if values["lead_worker_id"]:
        try:
            lead = uuid.UUID(values["lead_worker_id"])
        except ValueError:
            errors["lead_worker_id"] = "Choose a lead worker from the list"
    review = None
    if any(values["review_on"].values()):
        review = forms.parse_date(values["review_on"])
        if review is None:
            errors["review_on-day"] = "Enter a real review date, like 5 3 2027"
    return lead, review, errors


def _details_page(subject_id: uuid.UUID, values: dict[str, Any], errors: forms.Errors,
                  status: int = 200) -> tuple[str, int]:
    summary = case_summary(subject_id)
    case = summary["case"]
    if not values:
        review = case.review_on
        values = {"lead_worker_id": str(case.lead_worker_id or ""),
                  "review_on": {"day": review.day, "month": review.month, "year": review.year}
                  if review else {}}
    return page("cases/details.html", status, subject_id=subject_id, values=values,
                errors=errors, **summary)


def _close_page(subject_id: uuid.UUID, values: dict[str, str], errors: forms.Errors,
                status: int = 200) -> tuple[str, int]:
    return page("cases/close.html", status, subject_id=subject_id, values=values,
                errors=errors, reasons=CLOSURE_REASONS, **case_summary(subject_id))


def _reopen_page(subject_id: uuid.UUID, refusal: str | None,
                 status: int = 200) -> tuple[str, int]:
    summary = case_summary(subject_id)
    if refusal:
        summary["refusal"] = refusal
    return page("cases/reopen.html", status, subject_id=subject_id, **summary)


def _refusal(reasons: list[str]) -> str:
    """Why the caller may not change the case, with the next step, in plain words."""
    if not reasons:
        return "You cannot change this case."
    u = user()
    first = explain(reasons[0], org=u.org_name, category="case details",
                    purpose=purpose_name(u.purpose or ""))
    return f"{first.sentence} {first.next_step}"
