"""Retention pages for IG officers: what is due for deletion (and what becomes due in the next
90 days), legal holds (place with a reason, lift), and deletion certificates.

The use cases (caseshare/access/retention.py) decide who may see and do what, and audit it; the
pages only ask. A hold is placed from a due row or from the claimant's IG view (the subject
access report), on its own page whose form keeps what was typed on any error or refusal.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import flash, redirect, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from caseshare.access import retention
from caseshare.errors import BadCursorError, ConflictError, ValidationError
from caseshare.retention.holds import REASON_MAX, REASON_MIN
from caseshare.web.blueprint import bp, page, require, run, unit_of_work, user
from caseshare.web.forms import Errors, domain_errors, text

READ_SCOPE = "audit:read"
HOLD_SCOPE = "subjects:erase"  # as the API: a hold decides whether data is deleted
PAGE_SIZE = 25


def _offset(name: str) -> int:
    """A page offset from the query string (anything else is the first page)."""
    value = request.args.get(name, "")
    return int(value) if value.isdigit() and len(value) < 9 else 0


@bp.route("/ig/retention", methods=["GET"])
def ig_retention_due() -> tuple[str, int]:
    cursor = request.args.get("cursor") or None
    with unit_of_work(READ_SCOPE) as ctx:
        try:
            due, next_cursor = retention.list_due(ctx, cursor=cursor, limit=PAGE_SIZE)
        except BadCursorError:  # a tampered link: start again at the first page
            due, next_cursor = retention.list_due(ctx, limit=PAGE_SIZE)
            cursor = None
        offset = _offset("upcoming")
        upcoming, more = retention.list_upcoming(ctx, offset=offset, limit=PAGE_SIZE)
    return page("ig/retention_due.html", due=due, next_cursor=next_cursor, paged=bool(cursor),
                upcoming=upcoming, upcoming_offset=offset, upcoming_more=more,
                page_size=PAGE_SIZE, days=retention.UPCOMING_DAYS, org=user().principal.org)


@bp.route("/ig/retention/holds", methods=["GET"])
def ig_retention_holds() -> tuple[str, int]:
    active_offset, lifted_offset = _offset("active"), _offset("lifted")
    with unit_of_work(READ_SCOPE) as ctx:
        active = retention.list_holds(ctx, active=True, offset=active_offset, limit=PAGE_SIZE)
        lifted = retention.list_holds(ctx, active=False, offset=lifted_offset, limit=PAGE_SIZE)
    return page("ig/retention_holds.html", active=active, lifted=lifted,
                active_offset=active_offset, lifted_offset=lifted_offset, page_size=PAGE_SIZE,
                org=user().principal.org)


@bp.route("/ig/retention/deleted", methods=["GET"])
def ig_retention_deleted() -> tuple[str, int]:
    offset = _offset("offset")
    found = run(READ_SCOPE, retention.list_deleted, offset=offset, limit=PAGE_SIZE)
    return page("ig/retention_deleted.html", found=found, offset=offset, page_size=PAGE_SIZE)


def _hold_form(subject_id: uuid.UUID, code: int, values: dict[str, str],
               errors: Errors, refusal: str | None = None) -> tuple[str, int]:
    hold = run(READ_SCOPE, retention.hold_for, subject_id)
    return page("ig/retention_hold.html", code, subject_id=subject_id, hold=hold, values=values,
                errors=errors, refusal=refusal, reason_min=REASON_MIN, reason_max=REASON_MAX,
                org=user().principal.org)


@bp.route("/ig/claimants/<uuid:subject_id>/legal-hold", methods=["GET"])
def ig_legal_hold(subject_id: uuid.UUID) -> tuple[str, int]:
    require(HOLD_SCOPE)
    return _hold_form(subject_id, 200, {"reason": ""}, {})


@bp.route("/ig/claimants/<uuid:subject_id>/legal-hold", methods=["POST"])
def ig_legal_hold_place(subject_id: uuid.UUID) -> BaseResponse | tuple[str, int]:
    values = {"reason": text(request.form, "reason")}
    folded = " ".join(values["reason"].split())
    errors: Errors = {}
    if not folded:
        errors["reason"] = "Enter the reason for the legal hold"
    elif len(folded) < REASON_MIN:
        errors["reason"] = f"The reason must be {REASON_MIN} characters or more"
    elif len(folded) > REASON_MAX:
        errors["reason"] = f"The reason must be {REASON_MAX} characters or fewer"
    if errors:
        return _hold_form(subject_id, 422, values, errors)
    try:
        run(HOLD_SCOPE, retention.place_hold, subject_id, values["reason"])
    except ValidationError as exc:
        return _hold_form(subject_id, 422, values,
                          domain_errors(exc.extra.get("errors", {}), {"reason": "reason"}))
    except ConflictError:  # another officer placed one since the form was shown
        return _hold_form(subject_id, 409, values, {},
                          refusal="Another legal hold was placed on this claimant while you "
                                  "were typing. It is shown below; lift it first if yours "
                                  "replaces it.")
    flash("Legal hold placed. Nothing of this claimant's will be deleted until it is lifted.")
    return redirect(url_for("web.ig_retention_holds"))


@bp.route("/ig/claimants/<uuid:subject_id>/legal-holds/<uuid:hold_id>/lift",
          methods=["POST"])
def ig_legal_hold_lift(subject_id: uuid.UUID, hold_id: uuid.UUID) -> BaseResponse:
    try:
        run(HOLD_SCOPE, retention.lift_hold, subject_id, hold_id)
    except ConflictError:
        flash("That legal hold had already been lifted.")
        return redirect(url_for("web.ig_retention_holds"))
    flash("Legal hold lifted. Copies already due will be deleted at the next retention pass.")
    return redirect(url_for("web.ig_retention_holds"))


def retention_links() -> list[dict[str, Any]]:
    """The three retention pages, for their sub-navigation."""
    current = request.endpoint
    return [{"href": url_for(endpoint), "text": label, "current": current == endpoint}
            for endpoint, label in (("web.ig_retention_due", "Due for deletion"),
                                    ("web.ig_retention_holds", "On hold"),
                                    ("web.ig_retention_deleted", "Deleted"))]


@bp.app_context_processor
def _retention_nav() -> dict[str, Any]:
    return {"retention_links": retention_links}
