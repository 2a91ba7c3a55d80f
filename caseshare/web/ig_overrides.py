"""Override review for IG officers: the queue (pending first, overdue highlighted), one override
with its justification (opened and audited by the use case), and the review: justified or not
justified, with notes. Nobody reviews their own override (the use case refuses it too)."""

from __future__ import annotations

import uuid
from typing import Any

from flask import flash, g, redirect, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from caseshare.access import overrides
from caseshare.overrides.models import OverrideRecord
from caseshare.request_db import db_session
from caseshare.web.blueprint import WebUser, bp, page, require, run, unit_of_work, user
from caseshare.web.forms import Errors, text

SCOPE = "overrides:review"
OUTCOMES = {"justified": "Justified", "not_justified": "Not justified"}
NOTE_MIN, NOTE_MAX = 10, 4000


@bp.app_context_processor
def _override_notices() -> dict[str, Any]:
    """Unread `override_granted` notifications for the IG officer's banner (layout.html): they
    see emergency access on their next page, until they open the override."""
    u: WebUser | None = g.get("web_user")
    if u is None or "ig_officer" not in u.principal.roles:
        return {"override_notices": []}
    return {"override_notices": overrides.unread_override_notices(db_session(), u.principal)}


@bp.route("/ig/overrides", methods=["GET"])
def ig_overrides() -> tuple[str, int]:
    with unit_of_work(SCOPE) as ctx:
        found = overrides.list_for_review(ctx, None)
    pending = [o for o in found if o.status == "pending_review"]
    reviewed = sorted((o for o in found if o.status != "pending_review"),
                      key=lambda o: o.record.reviewed_at or o.record.created_at, reverse=True)
    return page("ig/overrides.html", pending=pending, reviewed=reviewed, now=ctx.now,
                outcomes=OUTCOMES)


def own(record: OverrideRecord) -> bool:
    principal = user().principal
    return record.org_id == principal.org and record.requested_by == principal.actor_id


def _detail(override_id: uuid.UUID, code: int, values: dict[str, Any],
            errors: Errors) -> tuple[str, int]:
    with unit_of_work(SCOPE) as ctx:
        record, justification = overrides.read_for_review(ctx, override_id)
    return page("ig/override.html", code, record=record, justification=justification,
                own=own(record), now=ctx.now, values=values, errors=errors, outcomes=OUTCOMES)


@bp.route("/ig/overrides/<uuid:override_id>", methods=["GET"])
def ig_override(override_id: uuid.UUID) -> tuple[str, int]:
    return _detail(override_id, 200, {"outcome": "", "note": ""}, {})


@bp.route("/ig/overrides/<uuid:override_id>", methods=["POST"])
def ig_override_review(override_id: uuid.UUID) -> BaseResponse | tuple[str, int]:
    require(SCOPE)
    values = {"outcome": text(request.form, "outcome"), "note": text(request.form, "note")}
    errors: Errors = {}
    if values["outcome"] not in OUTCOMES:
        errors["outcome"] = "Select whether the use of break-glass was justified"
    if len(values["note"]) < NOTE_MIN:
        errors["note"] = ("Enter your review notes" if not values["note"] else
                          f"Review notes must be {NOTE_MIN} characters or more")
    elif len(values["note"]) > NOTE_MAX:
        errors["note"] = f"Review notes must be {NOTE_MAX} characters or fewer"
    if errors:
        return _detail(override_id, 422, values, errors)
    record = run(SCOPE, overrides.review_override, override_id, values["outcome"], values["note"])
    flash(f"Review recorded: {OUTCOMES[record.status].lower()}.")
    return redirect(url_for("web.ig_overrides"))
