"""Housing and money on the staff pages: a claimant's records the user may read (the rest named
with the reason), forms to add and change each kind (offered only where the decision lets the
user write it; an error or a refusal re-renders the form with everything typed), the APA page
with its status steps and a button for the next one, and the tenancy page with its monthly
rent figures and a form to add a month (caseshare/access/support_records.py decides and
audits). Money is typed in pounds and kept in pence."""

from __future__ import annotations

import re
import uuid
from typing import Any

from flask import abort, flash, redirect, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response as BaseResponse

from caseshare.access import support_records
from caseshare.errors import ConflictError, ForbiddenError, PreconditionFailedError, ValidationError
from caseshare.support_records import rent, validation
from caseshare.support_records.models import (
    ACCOUNT_TYPES,
    APA_STATUSES,
    APA_TRIGGERS,
    APA_TYPES,
    LANDLORD_TYPES,
    RECORD_CATEGORIES,
    RECORD_KINDS,
    RENT_FREQUENCIES,
    RENT_PAYERS,
)
from caseshare.support_records.service import SnapshotIn
from caseshare.web import forms
from caseshare.web.blueprint import bp, page, run, user
from caseshare.web.explanations import explain
from caseshare.web.filters import category_name, purpose_name
from caseshare.web.subjects import explain_withheld

KIND_NAMES = {"tenancy": "Tenancy", "apa": "Alternative Payment Arrangement (APA)",
              "money_plan": "Money action plan", "banking": "Banking and digital"}
STATUS_NAMES = {"identified": "Identified", "requested": "Requested",
                "dwp_decision": "DWP decision", "in_place": "In place", "ended": "Ended"}
OUTCOME_NAMES = {"paying_own_rent_6m": "Paying own rent for six months"}
STALE = ("Someone else changed this record after you opened it, so your changes were not "
         "saved. Open it again to see the latest version, then make your changes.")
POUNDS = re.compile(r"^£?\s*(\d{1,7})(?:\.(\d{2}))?$")
LINE = re.compile(r"^(.+?)\s*[:,]\s*£?\s*(\d{1,7}(?:\.\d{2})?)$")
# Where the domain's month problems (API names) point on the add-a-month form.
MONTH_FIELDS = {"month": "month", "rent_due_pence": "rent_due", "rent_paid_pence": "rent_paid",
                "arrears_pence": "arrears", "paid_by": "paid_by"}
DATES = {"tenancy": ("start_on",), "apa": ("identified_on", "review_on"),
         "money_plan": ("reviewed_on",), "banking": ("opened_on", "online_account_set_up")}
# Where each use-case field (data.<name>) points on the form.
FIELDS = {"data.landlord_type": "landlord_type", "data.rent_pence": "rent",
          "data.rent_frequency": "rent_frequency", "data.paid_by": "paid_by",
          "data.start_on": "start_on-day", "data.trigger": "trigger", "data.type": "type",
          "data.review_on": "review_on-day", "data.status_dates.identified": "identified_on-day",
          "data.reviewed_on": "reviewed_on-day", "data.account_opened.type": "account_type",
          "data.account_opened.on": "opened_on-day",
          "data.online_account_set_up": "online_account_set_up-day",
          "data.income": "income", "data.outgoings": "outgoings",
          "data.priority_debts": "priority_debts", "data.agreed_actions": "agreed_actions"}


def pence(text: str) -> int | None:
    """Pounds as typed ('£1,250.50') in pence; None for anything else or above the domain's
    limit (validation.MAX_PENCE, £1,000,000: the API's limit too)."""
    match = POUNDS.match(text.replace(",", ""))
    if match is None:
        return None
    value = int(match.group(1)) * 100 + int(match.group(2) or 0)
    return value if value <= validation.MAX_PENCE else None


def pounds(value: int | None) -> str:
    return "" if value is None else f"{value // 100}.{value % 100:02d}"


def _iso(parts: dict[str, str], name: str, errors: forms.Errors,
         required: bool = False) -> str | None:
    if not any(parts.values()):
        if required:
            errors[f"{name}-day"] = "Enter the date"
        return None
    day = forms.parse_date(parts)
    if day is None:
        errors[f"{name}-day"] = "Enter a real date, like 5 12 2026"
        return None
    return day.isoformat()


def _lines(text: str, name: str, errors: forms.Errors) -> list[dict[str, Any]]:
    """'Rent: 450.00' one a line -> [{label, pence}]."""
    out = []
    for line in (raw.strip() for raw in text.splitlines()):
        if not line:
            continue
        match = LINE.match(line)
        amount = pence(match.group(2)) if match else None
        if match is None or amount is None:
            errors[name] = ("Write each line as what it is, a colon and the amount (up to "
                            "£1,000,000), like Rent: 450.00")
            return []
        out.append({"label": match.group(1), "pence": amount})
    return out


def _data(kind: str, form: MultiDict[str, str], *, new: bool = True) -> tuple[
        dict[str, Any], dict[str, Any], forms.Errors]:
    """The typed values (to re-render) and the record's data (for the use case); `new`: the
    form adds a record (a changed APA keeps its status and dates, moved on its own page)."""
    values: dict[str, Any] = {k: forms.text(form, k) for k in form if not k.endswith(
        ("-day", "-month", "-year")) and k != "csrf_token"}
    errors: forms.Errors = {}
    for name in DATES[kind]:
        values[name] = forms.date_parts(form, name)
    data: dict[str, Any] = {}
    if kind == "tenancy":
        data = {k: values.get(k) or None for k in ("landlord_type", "rent_frequency", "paid_by")}
        data["rent_pence"] = pence(values.get("rent", ""))
        if data["rent_pence"] is None:
            errors["rent"] = "Enter the rent in pounds, like 450.00, up to £1,000,000"
        data["start_on"] = _iso(values["start_on"], "start_on", errors, required=True)
    elif kind == "apa":
        data = {k: values.get(k) or None for k in ("trigger", "type")}
        identified = _iso(values["identified_on"], "identified_on", errors, required=new)
        data.update(status="identified", status_dates={"identified": identified},
                    review_on=_iso(values["review_on"], "review_on", errors))
    elif kind == "money_plan":
        data = {k: _lines(values.get(k, ""), k, errors)
                for k in ("income", "outgoings", "priority_debts")}
        data["agreed_actions"] = [a.strip() for a in values.get("agreed_actions", "")
                                  .splitlines() if a.strip()]
        data["reviewed_on"] = _iso(values["reviewed_on"], "reviewed_on", errors, required=True)
    else:
        opened = _iso(values["opened_on"], "opened_on", errors)
        account = values.get("account_type") or ""
        data = {"account_opened": {"type": account, "on": opened} if account else None,
                "online_account_set_up": _iso(values["online_account_set_up"],
                                              "online_account_set_up", errors),
                "claim_managed_online": values.get("claim_managed_online") == "yes"}
        if account and opened is None:
            errors.setdefault("opened_on-day", "Enter the date the account was opened")
    return values, data, errors


def _form_values(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """A stored record's data as the form shows it."""
    def parts(iso: str | None) -> dict[str, str]:
        day = validation.parse_day(iso)
        return {} if day is None else {"day": str(day.day), "month": str(day.month),
                                       "year": str(day.year)}

    if kind == "tenancy":
        return {**data, "rent": pounds(data["rent_pence"]), "start_on": parts(data["start_on"])}
    if kind == "apa":
        return {**data, "identified_on": parts(data["status_dates"].get("identified")),
                "review_on": parts(data.get("review_on"))}
    if kind == "money_plan":
        return {**{k: "\n".join(f"{line['label']}: {pounds(line['pence'])}" for line in data[k])
                   for k in ("income", "outgoings", "priority_debts")},
                "agreed_actions": "\n".join(data["agreed_actions"]),
                "reviewed_on": parts(data["reviewed_on"])}
    opened = data.get("account_opened") or {}
    return {"account_type": opened.get("type", ""), "opened_on": parts(opened.get("on")),
            "online_account_set_up": parts(data.get("online_account_set_up")),
            "claim_managed_online": "yes" if data.get("claim_managed_online") else ""}


def _refusal(reasons: list[str], category: str) -> list[str]:
    u = user()
    names = {"org": u.org_name, "category": category_name(category),
             "purpose": purpose_name(u.purpose or "").lower()}
    return [explain(r, **names).sentence for r in reasons] or [explain("", **names).sentence]


def _render_form(subject_id: uuid.UUID, kind: str, values: dict[str, Any],
                 errors: forms.Errors, status: int = 200, record_id: uuid.UUID | None = None,
                 version: str = "", refused: list[str] | None = None) -> tuple[str, int]:
    return page("records/form.html", status, subject_id=subject_id, kind=kind,
                kind_name=KIND_NAMES[kind], values=values, errors=errors, record_id=record_id,
                version=version, refused=refused or [], landlord_types=LANDLORD_TYPES,
                frequencies=RENT_FREQUENCIES, payers=RENT_PAYERS, triggers=APA_TRIGGERS,
                apa_types=APA_TYPES, account_types=ACCOUNT_TYPES)


@bp.route("/claimants/<uuid:subject_id>/records")
def record_list(subject_id: uuid.UUID) -> tuple[str, int]:
    view = run("case_plans:read", support_records.list_records, subject_id)
    permissions = run("case_plans:read", support_records.record_permissions, subject_id)
    u = user()
    withheld = [explain_withheld(w["category"], w["reasons"], u.org_name, u.purpose or "")
                for w in view.withheld]
    may_write = "case_plans:write" in u.principal.scopes
    addable = [k for k in RECORD_KINDS if may_write and k in permissions.writable]
    not_offered = [(k, _refusal(r, RECORD_CATEGORIES[k]))
                   for k, r in permissions.refused.items()]
    return page("records/list.html", subject_id=subject_id, items=view.items,
                withheld=withheld, addable=addable, not_offered=not_offered,
                kind_names=KIND_NAMES)


@bp.route("/claimants/<uuid:subject_id>/records/new/<kind>", methods=["GET", "POST"])
def add_record(subject_id: uuid.UUID, kind: str) -> BaseResponse | tuple[str, int]:
    if kind not in RECORD_KINDS:
        abort(404)
    if request.method == "GET":
        permissions = run("case_plans:read", support_records.record_permissions, subject_id)
        refused = permissions.refused.get(kind)
        return _render_form(subject_id, kind, {k: {} for k in DATES[kind]}, {},
                            refused=_refusal(refused, RECORD_CATEGORIES[kind])
                            if refused is not None else None)
    values, data, errors = _data(kind, request.form)
    if errors:
        return _render_form(subject_id, kind, values, errors, 422)
    try:
        view = run("case_plans:write", support_records.create_record, subject_id, kind, data)
    except ValidationError as exc:
        return _render_form(subject_id, kind, values,
                            forms.domain_errors(exc.extra["errors"], FIELDS), 422)
    except ForbiddenError as exc:
        return _render_form(subject_id, kind, values, {}, 403,
                            refused=_refusal(list(exc.extra.get("reasons", [])),
                                             RECORD_CATEGORIES[kind]))
    flash(f"{KIND_NAMES[kind]} recorded")
    return redirect(url_for("web.record_page", subject_id=subject_id,
                            record_id=view.record["id"]))


@bp.route("/claimants/<uuid:subject_id>/records/<uuid:record_id>")
def record_page(subject_id: uuid.UUID, record_id: uuid.UUID) -> tuple[str, int]:
    view = run("case_plans:read", support_records.read_record, subject_id, record_id)
    return _render_record(subject_id, view, {}, {})


def _render_record(subject_id: uuid.UUID, view: support_records.RecordView,
                   month_values: dict[str, Any], errors: forms.Errors,
                   status: int = 200, refused: list[str] | None = None) -> tuple[str, int]:
    record = view.record
    u = user()
    may_change = ("case_plans:write" in u.principal.scopes
                  and record["created_org"] == u.principal.org)
    data = record["data"]
    steps = []
    if record["kind"] == "apa":
        dates = data["status_dates"]
        steps = [{"status": s, "on": dates.get(s)} for s in APA_STATUSES if s != "ended"
                 or s in dates]
    return page("records/record.html", status, subject_id=subject_id, record=record,
                data=data, kind_name=KIND_NAMES[record["kind"]], version=view.etag,
                snapshots=view.snapshots, outcomes=view.outcomes, outcome_names=OUTCOME_NAMES,
                steps=steps, next_status=validation.next_apa_status(data.get("status", "")),
                may_change=may_change, month_values=month_values, errors=errors,
                payers=RENT_PAYERS, refused=refused or [], pounds=pounds,
                status_names=STATUS_NAMES)


@bp.route("/claimants/<uuid:subject_id>/records/<uuid:record_id>/edit",
          methods=["GET", "POST"])
def edit_record(subject_id: uuid.UUID, record_id: uuid.UUID) -> BaseResponse | tuple[str, int]:
    view = run("case_plans:read", support_records.read_record, subject_id, record_id)
    kind = view.record["kind"]
    if request.method == "GET":
        return _render_form(subject_id, kind, _form_values(kind, view.record["data"]), {},
                            record_id=record_id, version=view.etag)
    values, data, errors = _data(kind, request.form, new=False)
    version = forms.text(request.form, "version")
    if kind == "apa":  # the status moves on its own page; the form changes the rest
        data = {k: v for k, v in data.items() if k not in ("status", "status_dates")}
    if errors:
        return _render_form(subject_id, kind, values, errors, 422, record_id, version)
    try:
        run("case_plans:write", support_records.update_record, subject_id, record_id,
            version, data)
    except ValidationError as exc:
        return _render_form(subject_id, kind, values,
                            forms.domain_errors(exc.extra["errors"], FIELDS), 422, record_id,
                            version)
    except ForbiddenError as exc:
        return _render_form(subject_id, kind, values, {}, 403, record_id, version,
                            _refusal(list(exc.extra.get("reasons", [])),
                                     RECORD_CATEGORIES[kind]))
    except (PreconditionFailedError, ConflictError):
        return _render_form(subject_id, kind, values, {}, 409, record_id, view.etag, [STALE])
    flash(f"{KIND_NAMES[kind]} updated")
    return redirect(url_for("web.record_page", subject_id=subject_id, record_id=record_id))


@bp.route("/claimants/<uuid:subject_id>/records/<uuid:record_id>/status", methods=["POST"])
def move_apa(subject_id: uuid.UUID, record_id: uuid.UUID) -> BaseResponse | tuple[str, int]:
    status = forms.text(request.form, "status")
    if status not in APA_STATUSES:
        abort(400)
    try:
        run("case_plans:write", support_records.update_record, subject_id, record_id,
            forms.text(request.form, "version"), {"status": status})
    except (ValidationError, PreconditionFailedError, ConflictError, ForbiddenError) as exc:
        view = run("case_plans:read", support_records.read_record, subject_id, record_id)
        message = STALE if isinstance(exc, (PreconditionFailedError, ConflictError)) else (
            "; ".join(m for ms in exc.extra.get("errors", {}).values() for m in ms)
            or "Your organisation cannot change this record.")
        return _render_record(subject_id, view, {}, {}, 409, [message])
    flash(f"APA status: {STATUS_NAMES[status]}")
    return redirect(url_for("web.record_page", subject_id=subject_id, record_id=record_id))


@bp.route("/claimants/<uuid:subject_id>/records/<uuid:record_id>/months", methods=["POST"])
def add_month(subject_id: uuid.UUID, record_id: uuid.UUID) -> BaseResponse | tuple[str, int]:
    form = request.form
    values = {k: forms.text(form, k) for k in ("month", "rent_due", "rent_paid", "arrears",
                                               "paid_by")}
    figures, errors = _month_figures(values)
    if figures is not None:
        try:
            run("case_plans:write", support_records.add_snapshot, subject_id, record_id,
                figures)
        except ConflictError:
            errors["month"] = "This month is already recorded"
        except ValidationError as exc:  # the domain's rules (the tenancy's months): as the API
            errors = forms.domain_errors(exc.extra["errors"], MONTH_FIELDS)
        except ForbiddenError as exc:
            view = run("case_plans:read", support_records.read_record, subject_id, record_id)
            return _render_record(subject_id, view, values, {}, 403, _refusal(
                list(exc.extra.get("reasons", [])), "housing_tenancy"))
        else:
            flash(f"Rent for {values['month']} recorded")
            return redirect(url_for("web.record_page", subject_id=subject_id,
                                    record_id=record_id) + "#months")
    view = run("case_plans:read", support_records.read_record, subject_id, record_id)
    return _render_record(subject_id, view, values, errors, 422)


def _month_figures(values: dict[str, str]) -> tuple[SnapshotIn | None, forms.Errors]:
    """The month's figures as typed (pounds to pence), or the problems with each field."""
    errors: forms.Errors = {}
    month = rent.first_of(values["month"])
    if month is None:
        errors["month"] = "Enter the month as year and month, like 2026-06"
    amounts = {k: pence(values[k]) for k in ("rent_due", "rent_paid", "arrears")}
    for name, amount in amounts.items():
        if amount is None:
            errors[name] = "Enter an amount in pounds, like 450.00, up to £1,000,000"
    if values["paid_by"] not in RENT_PAYERS:
        errors["paid_by"] = "Select who paid the rent"
    if errors or month is None:
        return None, errors
    return SnapshotIn(month, amounts["rent_due"] or 0, amounts["rent_paid"] or 0,
                      amounts["arrears"] or 0, values["paid_by"]), errors
