"""Add or update a case plan action. Updates carry the version the user saw (a hidden field,
sent as If-Match), so a change made meanwhile by someone else is never silently overwritten.

Only the organisation that wrote an entry changes its words (title, detail, named contact):
they are shared under that organisation's agreements. Staff of another organisation get a form
with the codes only (status, due date, organisation responsible) and are told why."""

from __future__ import annotations

import uuid
from typing import Any

from flask import flash, redirect, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from caseshare.access import case_plans
from caseshare.case_plan.service import TEXT_FIELDS, entry_etag
from caseshare.errors import ConflictError, NotFoundError, PreconditionFailedError, ValidationError
from caseshare.schemas.case_plans import KINDS, STATUSES
from caseshare.web import forms
from caseshare.web.blueprint import bp, page, require, run, runtime, user

ENTRY_FIELDS = {"kind": "kind", "category": "category", "title": "title", "detail": "detail",
                "owner_org": "owner_org", "owner_name": "owner_name", "due_on": "due_on-day",
                "status": "status"}
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
                                           "owner_name", "status")}
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


def _render(subject_id: uuid.UUID, values: dict[str, Any], errors: forms.Errors,
            status: int = 200, entry_id: uuid.UUID | None = None,
            version: str = "", stale: bool = False, author: str = "") -> tuple[str, int]:
    """`author`: set when another organisation wrote the entry (its words are not offered)."""
    return page("entry_form.html", status, subject_id=subject_id, entry_id=entry_id,
                values=values, errors=errors, version=version, stale=stale, kinds=KINDS,
                statuses=STATUSES, categories=sorted(runtime().protocols.categories),
                owners=_owner_choices(), author=author)


@bp.route("/claimants/<uuid:subject_id>/plan/entries/new", methods=["GET", "POST"])
def add_entry(subject_id: uuid.UUID) -> BaseResponse | tuple[str, int]:
    if request.method == "GET":
        require("case_plans:write")
        return _render(subject_id, {"kind": "action", "status": "open",
                                    "owner_org": user().principal.org,
                                    "owner_name": user().staff.name, "due_on": {}}, {})
    values, errors = _read(request.form, new=True)
    if errors:
        return _render(subject_id, values, errors, 422)
    try:
        run("case_plans:write", case_plans.add_plan_entry, subject_id, _entry_values(values))
    except ValidationError as exc:
        return _render(subject_id, values, forms.domain_errors(exc.extra["errors"],
                                                               ENTRY_FIELDS), 422)
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
                  "due_on": {"day": str(due.day), "month": str(due.month),
                             "year": str(due.year)} if due else {}}
        author = "" if entry.created_org == user().principal.org else entry.created_org
        return _render(subject_id, values, {}, entry_id=entry_id, version=entry_etag(entry),
                       author=author)
    version = forms.text(request.form, "version")
    # Shown for display only; the use case decides who may change the words.
    author = forms.text(request.form, "author")
    values, errors = _read(request.form, new=False, words=not author)
    values["kind"], values["category"] = forms.text(request.form, "kind"), forms.text(
        request.form, "category")
    if errors:
        return _render(subject_id, values, errors, 422, entry_id, version, author=author)
    changes = _entry_values(values)
    for fixed in ("kind", "category", *(TEXT_FIELDS if author else ())):
        changes.pop(fixed, None)
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
    flash(f"Updated: {values['title']}" if values["title"] else "Updated the action")
    return redirect(url_for("web.overview", subject_id=subject_id))


def _entry_values(values: dict[str, Any]) -> dict[str, Any]:
    return {"kind": values["kind"], "category": values["category"], "title": values["title"],
            "detail": values["detail"] or None, "owner_org": values["owner_org"],
            "owner_name": values["owner_name"] or None, "due_on": values["due"],
            "status": values["status"]}
