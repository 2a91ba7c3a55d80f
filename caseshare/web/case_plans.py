"""Add or update a case plan action. Updates carry the version the user saw (a hidden field,
sent as If-Match), so a change made meanwhile by someone else is never silently overwritten.

Only the organisation that wrote an entry changes its words (title, detail, named contact):
they are shared under that organisation's agreements. Staff of another organisation get a form
with the codes only (status, due date, organisation responsible) and are told why.

Every choice comes from the decision for this user, claimant and purpose
(`access.case_plans.plan_permissions`): the categories offered are those the user may write, the
rest are explained with the next step, each offered category says who will see the entry, and
"Change" appears only on entries the user may change. A refusal that still happens re-renders
the form with everything typed and the reason in plain words. Starting the plan is here too."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from flask import flash, redirect, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from caseshare.access import case_plans
from caseshare.access.case_plans import PlanPermissions
from caseshare.case_plan.models import SUPPORT_SERVICES
from caseshare.case_plan.service import TEXT_FIELDS, entry_etag
from caseshare.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    PreconditionFailedError,
    ValidationError,
)
from caseshare.schemas.case_plans import KINDS, STATUSES
from caseshare.web import forms
from caseshare.web.blueprint import bp, page, require, run, runtime, user
from caseshare.web.explanations import Explanation, explain
from caseshare.web.filters import category_name, purpose_name

ENTRY_FIELDS = {"kind": "kind", "category": "category", "title": "title", "detail": "detail",
                "owner_org": "owner_org", "owner_name": "owner_name", "due_on": "due_on-day",
                "status": "status", "service": "service", "outcome": "outcome"}
STALE = ("Someone else changed this action after you opened it, so your changes were not "
         "saved. Open the action again to see the latest version, then make your changes.")


def _owner_choices() -> list[str]:
    """Organisations sharing a protocol with the user's own (the use case checks that the
    owner is involved in this case)."""
    protocols = runtime().protocols
    org = user().principal.org
    return sorted({p.id for protocol in protocols.for_party(org) for p in protocol.parties})


def _read(submitted: Any, *, new: bool, words: bool = True) -> tuple[dict[str, Any],
                                                                    forms.Errors]:
    """The submitted values; `words`: the form offered the text fields (the user's own
    organisation wrote the entry, or it is a new one)."""
    values: dict[str, Any] = {name: forms.text(submitted, name)
                              for name in ("kind", "category", "title", "detail", "owner_org",
                                           "owner_name", "status", "service", "outcome")}
    values["due_on"] = forms.date_parts(submitted, "due_on")
    errors: forms.Errors = {}
    if new and values["kind"] not in KINDS:
        errors["kind"] = "Select whether this is a goal, an action or a note"
    if new and values["category"] not in runtime().protocols.categories:
        errors["category"] = "Select the type of information this is about"
    if words:
        forms.check_text(errors, "title", values["title"], max_length=200,
                         missing="Enter a short title",
                         too_long="Title must be 200 characters or fewer")
        forms.check_text(errors, "detail", values["detail"], max_length=4000,
                         too_long="Detail must be 4,000 characters or fewer")
        forms.check_text(errors, "outcome", values["outcome"], max_length=2000,
                         too_long="Outcome must be 2,000 characters or fewer")
    if values["service"] and values["service"] not in SUPPORT_SERVICES:
        errors["service"] = "Select the support service line, or none"
    if values["status"] not in STATUSES:
        errors["status"] = "Select the status"
    if values["owner_org"] not in _owner_choices():
        errors["owner_org"] = "Select the organisation responsible"
    values["due"] = _due(values["due_on"], errors)
    return values, errors


def _due(parts: dict[str, str], errors: forms.Errors) -> Any:
    """The due date, if one was given; a date that is not real is an error on its day box."""
    if not any(parts.values()):
        return None
    due = forms.parse_date(parts)
    if due is None:
        errors["due_on-day"] = "Enter a real due date, like 5 12 2026"
    return due


def _explained(reasons: tuple[str, ...] | list[str], category: str) -> list[Explanation]:
    u = user()
    names = {"org": u.org_name, "category": category_name(category),
             "purpose": purpose_name(u.purpose).lower()}
    return [explain(r, **names) for r in reasons] or [explain("", **names)]


def _render(subject_id: uuid.UUID, values: dict[str, Any], errors: forms.Errors,
            status: int = 200, entry_id: uuid.UUID | None = None,
            version: str = "", stale: bool = False, author: str = "",
            permissions: PlanPermissions | None = None,
            refused: list[Explanation] | None = None,
            history: list[dict[str, Any]] | None = None) -> tuple[str, int]:
    """`author`: set when another organisation wrote the entry (its words are not offered);
    `refused`: why a save was refused, in plain words (the form keeps what was typed)."""
    if permissions is None:
        permissions = run("case_plans:read", case_plans.plan_permissions, subject_id)
    not_offered = [(c.category, _explained(c.reasons, c.category))
                   for c in permissions.refused]
    return page("entry_form.html", status, subject_id=subject_id, entry_id=entry_id,
                values=values, errors=errors, version=version, stale=stale, kinds=KINDS,
                statuses=STATUSES, services=SUPPORT_SERVICES,
                categories=[c.category for c in permissions.writable],
                choices=permissions.choices, not_offered=not_offered,
                owners=_owner_choices(), author=author, refused=refused or [],
                history=history or [])


@bp.route("/claimants/<uuid:subject_id>/plan/entries/new", methods=["GET", "POST"])
def add_entry(subject_id: uuid.UUID) -> BaseResponse | tuple[str, int]:
    if request.method == "GET":
        require("case_plans:write")
        permissions = run("case_plans:read", case_plans.plan_permissions, subject_id)
        if not permissions.has_plan:
            return redirect(url_for("web.start_plan", subject_id=subject_id))
        return _render(subject_id, {"kind": "action", "status": "open",
                                    "owner_org": user().principal.org,
                                    "owner_name": user().staff.name, "due_on": {}}, {},
                       permissions=permissions)
    values, errors = _read(request.form, new=True)
    if errors:
        return _render(subject_id, values, errors, 422)
    try:
        run("case_plans:write", case_plans.add_plan_entry, subject_id, _entry_values(values))
    except ValidationError as exc:
        return _render(subject_id, values, forms.domain_errors(exc.extra["errors"],
                                                               ENTRY_FIELDS), 422)
    except ForbiddenError as exc:
        return _render(subject_id, values, {}, 403, refused=_explained(
            exc.extra.get("reasons") or [], values["category"]))
    flash(f"Added: {values['title']}")
    return redirect(url_for("web.overview", subject_id=subject_id))


@bp.route("/claimants/<uuid:subject_id>/plan/entries/<uuid:entry_id>",
          methods=["GET", "POST"])
def edit_entry(subject_id: uuid.UUID, entry_id: uuid.UUID) -> BaseResponse | tuple[str, int]:
    if request.method == "GET":
        _plan, disclosure, _etag = run("case_plans:read", case_plans.read_case_plan, subject_id)
        entry = next((e for e in disclosure.entries if e.id == entry_id), None)
        item = next((i for i in disclosure.items if i["id"] == entry_id), None)
        if entry is None or item is None:
            raise NotFoundError("No such case plan entry.")
        due = item["due_on"]
        values = {**item, "detail": item.get("detail") or "",
                  "owner_name": item.get("owner_name") or "",
                  "outcome": item.get("outcome") or "", "service": item.get("service") or "",
                  "service_was": item.get("service") or "",
                  "due_on": {"day": str(due.day), "month": str(due.month),
                             "year": str(due.year)} if due else {}}
        author = "" if entry.created_org == user().principal.org else entry.created_org
        permissions = run("case_plans:read", case_plans.plan_permissions, subject_id)
        if entry_id not in permissions.updatable:
            choice = permissions.choices.get(entry.category)
            raise ForbiddenError("You can see this action but cannot change it.",
                                 reasons=list(choice.reasons if choice else ()))
        values["own_record"] = entry_id in permissions.own_records
        return _render(subject_id, values, {}, entry_id=entry_id, version=entry_etag(entry),
                       author=author, permissions=permissions,
                       history=run("case_plans:read", case_plans.entry_history, subject_id,
                                   entry_id))
    version = forms.text(request.form, "version")
    # Shown for display only; the use case decides who may change the words.
    author = forms.text(request.form, "author")
    values, errors = _read(request.form, new=False, words=not author)
    values["kind"], values["category"] = forms.text(request.form, "kind"), forms.text(
        request.form, "category")
    values["service_was"] = forms.text(request.form, "service_was")
    values["own_record"] = forms.text(request.form, "own_record") == "yes"  # for display only
    if errors:
        return _render(subject_id, values, errors, 422, entry_id, version, author=author)
    changes = _entry_values(values)
    for fixed in ("kind", "category", *(TEXT_FIELDS if author else ())):
        changes.pop(fixed, None)
    if values["service"] == values["service_was"]:
        changes.pop("service")  # unchanged: the version records only what this user changed
    try:
        run("case_plans:write", case_plans.update_plan_entry, subject_id, entry_id,
            version, changes)
    except (PreconditionFailedError, ConflictError):
        return _render(subject_id, values, {"status" if author else "title": STALE}, 409,
                       entry_id, version, stale=True, author=author)
    except ValidationError as exc:
        return _render(subject_id, values, forms.domain_errors(exc.extra["errors"],
                                                               ENTRY_FIELDS), 422, entry_id,
                       version, author=author)
    except ForbiddenError as exc:
        return _render(subject_id, values, {}, 403, entry_id, version, author=author,
                       refused=_explained(exc.extra.get("reasons") or [], values["category"]))
    flash(f"Updated: {values['title']}" if values["title"] else "Updated the action")
    return redirect(url_for("web.overview", subject_id=subject_id))


def _entry_values(values: dict[str, Any]) -> dict[str, Any]:
    return {"kind": values["kind"], "category": values["category"], "title": values["title"],
            "detail": values["detail"] or None, "owner_org": values["owner_org"],
            "owner_name": values["owner_name"] or None, "due_on": values["due"],
            "status": values["status"], "service": values["service"] or None,
            "outcome": values["outcome"] or None}


DUE_SOON_DAYS = 7


def due_flag(entry: dict[str, Any], today: date) -> str | None:
    """'overdue' (due before today, still open or in progress), 'due_soon' (due within the next
    seven days, still open or in progress), or None."""
    due = entry.get("due_on")
    if due is None or entry.get("status") not in ("open", "in_progress"):
        return None
    if due < today:
        return "overdue"
    return "due_soon" if due <= today + timedelta(days=DUE_SOON_DAYS) else None


def plan_section(subject_id: uuid.UUID, plan: dict[str, Any] | None) -> dict[str, Any]:
    """What the overview's plan section needs beyond the plan itself: the entries with their
    due flags (only the user's organisation's with `?mine=1`), which of them the user may
    change, whether they may add to it, and whether they may start it."""
    u = user()
    permissions = run("case_plans:read", case_plans.plan_permissions, subject_id)
    today = runtime().now().date()
    mine = request.args.get("mine") == "1"
    entries = [{**e, "flag": due_flag(e, today)} for e in (plan or {}).get("entries", [])
               if not mine or e["owner_org"] == u.principal.org]
    return {"entries": entries, "mine": mine, "updatable": permissions.updatable,
            "can_add": bool(permissions.writable)
            and "case_plans:write" in u.principal.scopes,
            "closed": any("case_closed" in c.reasons for c in permissions.refused),
            "counts": {"overdue": sum(e["flag"] == "overdue" for e in entries),
                       "due_soon": sum(e["flag"] == "due_soon" for e in entries)}}


START_FIELDS = {"title": "title", "category": "category", "due_on": "due_on-day"}


@bp.route("/claimants/<uuid:subject_id>/plan/start", methods=["GET", "POST"])
def start_plan(subject_id: uuid.UUID) -> BaseResponse | tuple[str, int]:
    """Start the shared plan: the user's organisation becomes its lead; an optional first
    action. A plan that already exists, or an organisation that does not work with the
    claimant, is said in plain words with the next step."""
    require("case_plans:write")
    permissions = run("case_plans:read", case_plans.plan_permissions, subject_id)
    if permissions.has_plan:
        return page("start_plan.html", 409, subject_id=subject_id, exists=True,
                    lead_org=permissions.lead_org, values={}, errors={}, categories=[],
                    choices={}, refused=[])
    categories = [c.category for c in permissions.writable]
    values: dict[str, Any] = {"title": "", "category": "", "due_on": {}}
    errors: forms.Errors = {}
    refused: list[Explanation] = []
    if request.method == "POST":
        values = {"title": forms.text(request.form, "title"),
                  "category": forms.text(request.form, "category"),
                  "due_on": forms.date_parts(request.form, "due_on")}
        errors, entries = _first_action(values, categories)
        if not errors:
            try:
                run("case_plans:write", case_plans.create_case_plan, subject_id, entries)
            except ValidationError as exc:
                errors = forms.domain_errors(exc.extra["errors"], START_FIELDS)
            except ConflictError:
                return redirect(url_for("web.start_plan", subject_id=subject_id))
            except ForbiddenError as exc:
                refused = _explained(exc.extra.get("reasons") or [],
                                     values["category"] or "identity")
            else:
                flash("You started the shared plan")
                return redirect(url_for("web.overview", subject_id=subject_id) + "#plan")
    status = 403 if refused else 422 if errors else 200
    return page("start_plan.html", status, subject_id=subject_id, exists=False,
                lead_org=permissions.lead_org, values=values, errors=errors,
                categories=categories, choices=permissions.choices, refused=refused)


def _first_action(values: dict[str, Any], categories: list[str]) -> tuple[forms.Errors,
                                                                         list[dict[str, Any]]]:
    """The optional first action: nothing, or a title with a category the user may write."""
    errors: forms.Errors = {}
    due = _due(values["due_on"], errors)
    if not values["title"] and not values["category"] and due is None and not errors:
        return {}, []
    forms.check_text(errors, "title", values["title"], max_length=200,
                     missing="Enter a short title for the first action, or leave the first "
                             "action blank",
                     too_long="Title must be 200 characters or fewer")
    if values["category"] not in categories:
        errors["category"] = "Select what the first action is about"
    entry = {"kind": "action", "category": values["category"], "title": values["title"],
             "owner_org": user().principal.org, "owner_name": user().staff.name,
             "due_on": due, "status": "open"}
    return errors, [] if errors else [entry]
