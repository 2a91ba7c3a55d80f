"""Case conferences on the staff pages: a claimant's conferences, record one, read one.

The record form offers only what the decision allows: minutes in the categories the user may
write for this claimant and purpose and that reach other organisations, the rest explained with
the next step; up to five decisions, each becoming a plan action. A refusal or an error
re-renders the form with everything typed. The conference page shows the attendees, the
decisions (linked to their plan actions), the minutes the reader may read and, in plain words,
the kinds of information withheld (caseshare/access/conferences.py decides and audits)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import abort, flash, redirect, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response as BaseResponse

from caseshare.access import case_plans, conferences
from caseshare.access.case_plans import PlanPermissions
from caseshare.errors import ForbiddenError, ValidationError
from caseshare.web import forms
from caseshare.web.blueprint import bp, page, require, run, runtime, user
from caseshare.web.explanations import Explanation, explain
from caseshare.web.filters import category_name, purpose_name
from caseshare.web.subjects import explain_withheld

DECISION_ROWS = 5
DECISION_FIELDS = ("title", "owner_org", "category")


@bp.route("/claimants/<uuid:subject_id>/conferences")
def conference_list(subject_id: uuid.UUID) -> tuple[str, int]:
    items = run("case_plans:read", conferences.list_conferences, subject_id)
    return page("conferences/list.html", subject_id=subject_id, items=items,
                may_record="case_plans:write" in user().principal.scopes)


@bp.route("/claimants/<uuid:subject_id>/conferences/<uuid:conference_id>")
def conference(subject_id: uuid.UUID, conference_id: uuid.UUID) -> tuple[str, int]:
    view = run("case_plans:read", conferences.read_conference, conference_id)
    if view["subject_id"] != subject_id:
        abort(404)
    u = user()
    withheld = [explain_withheld(w["category"], w["reasons"], u.org_name, u.purpose or "")
                for w in view["withheld"]]
    return page("conferences/conference.html", subject_id=subject_id, c=view,
                withheld=withheld)


@dataclass
class Submitted:
    """The form as typed (`values`), the use case's input built from it (`body`), and where
    each of the use case's field names points on the page (`fields`)."""

    values: dict[str, Any]
    body: dict[str, Any] = field(default_factory=dict)
    fields: dict[str, str] = field(default_factory=dict)
    errors: forms.Errors = field(default_factory=dict)


@bp.route("/claimants/<uuid:subject_id>/conferences/new", methods=["GET", "POST"])
def record_conference(subject_id: uuid.UUID) -> BaseResponse | tuple[str, int]:
    require("case_plans:write")
    if request.method == "GET":
        return _render(subject_id, {"held_on": {}, "attendees": [user().principal.org],
                                    "decisions": [{} for _ in range(DECISION_ROWS)]}, {})
    permissions = run("case_plans:read", case_plans.plan_permissions, subject_id)
    choices = run("case_plans:read", conferences.attendee_choices, subject_id)
    form = _read(request.form, choices, _minute_categories(permissions))
    if form.errors:
        return _render(subject_id, form.values, form.errors, 422, permissions, choices)
    try:
        view = run("case_plans:write", conferences.record_conference, subject_id, form.body)
    except ValidationError as exc:
        errors = forms.domain_errors(exc.extra["errors"], {
            "held_on": "held_on-day", "decisions": "decision-1-title", **form.fields})
        return _render(subject_id, form.values, errors, 422, permissions, choices)
    except ForbiddenError as exc:
        refused = _explained(exc.extra.get("reasons") or [], "")
        return _render(subject_id, form.values, {}, 403, permissions, choices, refused,
                       exc.detail)
    flash("Conference recorded")
    return redirect(url_for("web.conference", subject_id=subject_id, conference_id=view["id"]))


def _explained(reasons: list[str] | tuple[str, ...], category: str) -> list[Explanation]:
    u = user()
    names = {"org": u.org_name, "purpose": purpose_name(u.purpose).lower(),
             "category": category_name(category) if category else "this kind of information"}
    return [explain(r, **names) for r in reasons] or [explain("", **names)]


def _owner_choices() -> list[str]:
    """Organisations sharing a protocol with the user's (the use case checks that the one
    chosen is involved in this case), as on the plan page."""
    org = user().principal.org
    return sorted({p.id for protocol in runtime().protocols.for_party(org)
                   for p in protocol.parties})


def _minute_categories(permissions: PlanPermissions) -> list[str]:
    """Minutes are offered where the user may write and someone else could read them."""
    return [c.category for c in permissions.writable if not c.own_record]


def _read(submitted: MultiDict[str, str], choices: dict[str, Any],
          categories: list[str]) -> Submitted:
    form = Submitted({"held_on": forms.date_parts(submitted, "held_on"),
                      "attendees": forms.ticked(submitted, "attendee", list(choices)),
                      "staff": {org: forms.text(submitted, f"staff-{org}") for org in choices},
                      "minutes": {c: forms.text(submitted, f"minutes-{c}") for c in categories},
                      "decisions": []})
    held_on = forms.parse_date(form.values["held_on"])
    if held_on is None:
        form.errors["held_on-day"] = "Enter the date the conference was held, like 20 11 2026"
    if not form.values["attendees"]:
        form.errors["attendee"] = "Select the organisations that attended"
    form.body = {"held_on": held_on, "attendees": _attendees(form, choices),
                 "minutes": _minutes(form), "decisions": _decisions(form, submitted)}
    return form


def _attendees(form: Submitted, choices: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for org in form.values["attendees"]:
        staff = form.values["staff"].get(org, "")
        known = {str(staff_id) for staff_id, _name in choices[org]}
        form.fields[f"attendees.{len(out)}.org"] = "attendee"
        form.fields[f"attendees.{len(out)}.staff_id"] = f"staff-{org}"
        out.append({"org": org, "staff_id": uuid.UUID(staff) if staff in known else None})
    return out


def _minutes(form: Submitted) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for category, text in form.values["minutes"].items():
        if not text:
            continue
        forms.check_text(form.errors, f"minutes-{category}", text, max_length=10000,
                         too_long="Minutes must be 10,000 characters or fewer")
        form.fields[f"minutes.{len(out)}.category"] = f"minutes-{category}"
        out.append({"category": category, "text": text})
    return out


def _decisions(form: Submitted, submitted: MultiDict[str, str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for row in range(1, DECISION_ROWS + 1):
        values: dict[str, Any] = {name: forms.text(submitted, f"decision-{row}-{name}")
                                  for name in DECISION_FIELDS}
        values["due_on"] = forms.date_parts(submitted, f"decision-{row}-due_on")
        form.values["decisions"].append(values)
        if not values["title"]:
            continue  # an empty row: no decision
        due = _decision_due(form, row, values)
        for name in DECISION_FIELDS:
            form.fields[f"decisions.{len(out)}.{name}"] = f"decision-{row}-{name}"
        form.fields[f"decisions.{len(out)}.due_on"] = f"decision-{row}-due_on-day"
        out.append({"title": values["title"], "owner_org": values["owner_org"],
                    "category": values["category"], "due_on": due})
    return out


def _decision_due(form: Submitted, row: int, values: dict[str, Any]) -> date | None:
    prefix = f"decision-{row}"
    forms.check_text(form.errors, f"{prefix}-title", values["title"], max_length=200,
                     too_long="Decision must be 200 characters or fewer")
    if not values["owner_org"]:
        form.errors[f"{prefix}-owner_org"] = "Select the organisation responsible"
    if not values["category"]:
        form.errors[f"{prefix}-category"] = "Select the type of information it is about"
    due = forms.parse_date(values["due_on"])
    if due is None:
        form.errors[f"{prefix}-due_on-day"] = "Enter a real due date, like 5 12 2026"
    return due


def _render(subject_id: uuid.UUID, values: dict[str, Any], errors: forms.Errors,
            status: int = 200, permissions: PlanPermissions | None = None,
            choices: dict[str, Any] | None = None, refused: list[Any] | None = None,
            refusal: str = "") -> tuple[str, int]:
    if permissions is None:
        permissions = run("case_plans:read", case_plans.plan_permissions, subject_id)
    if choices is None:
        choices = run("case_plans:read", conferences.attendee_choices, subject_id)
    minute_categories = _minute_categories(permissions)
    not_offered = [(c.category, _explained(c.reasons, c.category)) for c in permissions.refused]
    own_only = [c.category for c in permissions.writable if c.own_record]
    return page("conferences/record.html", status, subject_id=subject_id, values=values,
                errors=errors, choices=choices, minute_categories=minute_categories,
                decision_categories=[c.category for c in permissions.writable],
                not_offered=not_offered, own_only=own_only, owners=_owner_choices(),
                has_plan=permissions.has_plan, refused=refused or [], refusal=refusal)
