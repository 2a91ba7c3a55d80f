"""Find a claimant, and the claimant overview: identity, consent at a glance, the shared plan
with each withheld category explained in plain English."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import request
from marshmallow import ValidationError as MarshmallowValidationError

from caseshare.access import case_plans, consents, referrals, subjects
from caseshare.consent.views import ConsentView
from caseshare.errors import NotFoundError
from caseshare.schemas.subjects import NINO
from caseshare.web import forms
from caseshare.web.blueprint import bp, page, run, runtime, unit_of_work, user
from caseshare.web.case_plans import plan_section
from caseshare.web.explanations import Explanation, explain
from caseshare.web.filters import category_name, purpose_name
from caseshare.web.overrides import emergency_access

EXPIRING_SOON = timedelta(days=30)
LIVE_STATUSES = frozenset({"active", "partially_withdrawn", "unverified"})


@bp.route("/", methods=["GET"])
def home() -> tuple[str, int]:
    """The home page: for now, finding a claimant (the caseload replaces it)."""
    return find()


@bp.route("/find", methods=["GET"])
def find() -> tuple[str, int]:
    """Find a claimant by National Insurance number, or by name and date of birth. Only
    claimants the caller's organisation works with are ever found (both searches join on its
    case membership), so "no results" is the same answer for everyone else."""
    args = request.args
    values: dict[str, Any] = {"nino": args.get("nino", "").strip(),
                              "family_name": forms.text(args, "family_name"),
                              "given_name": forms.text(args, "given_name"),
                              "born": forms.date_parts(args, "born")}
    by = "nino" if "nino" in args else "name" if "family_name" in args else None
    if by is None:
        return page("find.html", values=values, errors={}, results=None, by=None)
    errors = (_nino_errors(values) if by == "nino" else _name_errors(values, user_today()))
    if errors:
        return page("find.html", 422, values=values, results=None, errors=errors, by=by)
    if by == "nino":
        found = run("subjects:read", subjects.find_by_nino, values["nino"])
    else:
        found = run("subjects:read", subjects.find_by_name_and_birth_date,
                    family_name=values["family_name"], given_name=values["given_name"] or None,
                    date_of_birth=values["born_on"])
    results = []
    for subject in found:
        _s, identity, _withheld = run("subjects:read", subjects.read_subject, subject.id)
        results.append({"id": subject.id, "identity": identity})
    return page("find.html", values=values, errors={}, results=results, by=by)


def user_today() -> date:
    return runtime().now().date()


def _nino_errors(values: dict[str, Any]) -> forms.Errors:
    if valid_nino(values["nino"]):
        return {}
    return {"nino": "Enter a National Insurance number in the correct format, like QQ 12 34 56 C"}


def _name_errors(values: dict[str, Any], today: date) -> forms.Errors:
    errors: forms.Errors = {}
    if not values["family_name"]:
        errors["family_name"] = "Enter the claimant's last name"
    elif len(values["family_name"]) > 100:
        errors["family_name"] = "Last name must be 100 characters or fewer"
    if len(values["given_name"]) > 100:
        errors["given_name"] = "First name must be 100 characters or fewer"
    parts = values["born"]
    values["born_on"] = forms.parse_date(parts)
    if not any(parts.values()):
        errors["born-day"] = "Enter the claimant's date of birth"
    elif values["born_on"] is None:
        errors["born-day"] = "Date of birth must be a real date, like 14 3 1987"
    elif values["born_on"] >= today:
        errors["born-day"] = "Date of birth must be in the past"
    elif values["born_on"].year < 1900:
        errors["born-day"] = "Date of birth must be after 1900"
    return errors


def valid_nino(value: str) -> bool:
    try:
        NINO(value)
    except MarshmallowValidationError:
        return False
    return True


@dataclass(frozen=True)
class ConsentRow:
    consent: ConsentView
    status: str
    expiring_soon: bool
    withdrawn_scope: list[dict[str, list[str]]]


@dataclass(frozen=True)
class Withheld:
    category: str
    explanations: list[Explanation]


@bp.route("/claimants/<uuid:subject_id>", methods=["GET"])
def overview(subject_id: uuid.UUID) -> tuple[str, int]:
    u = user()
    _subject, identity, _withheld_identity = run("subjects:read", subjects.read_subject, subject_id)
    with unit_of_work("consents:read") as ctx:
        consent_rows = [consent_row(v, v.withdrawals, v.status, ctx.now)
                        for v in consents.list_consents(ctx, subject_id)]
    plan: dict[str, Any] | None = None
    try:
        plan_row, disclosure, _etag = run("case_plans:read", case_plans.read_case_plan, subject_id)
    except NotFoundError:
        withheld: list[Withheld] = []
    else:
        plan = {"lead_org": plan_row.lead_org_id,
                "entries": sorted(disclosure.items, key=lambda e: (e["owner_org"], str(e["id"])))}
        withheld = [explain_withheld(w["category"], w["reasons"], u.org_name, u.purpose or "")
                    for w in disclosure.withheld]
    referral_rows = (run("referrals:read", referrals.list_for_subject, subject_id)
                     if "referrals:read" in u.principal.scopes else [])
    return page("overview.html", subject_id=subject_id, identity=identity, consents=consent_rows,
                plan=plan, withheld=withheld, referrals=referral_rows,
                plan_section=plan_section(subject_id, plan), emergency=emergency_access(subject_id))


def consent_row(consent: ConsentView, withdrawals: list[Any], status: str,
                now: datetime) -> ConsentRow:
    soon = status in LIVE_STATUSES and consent.expires_at - now <= EXPIRING_SOON
    return ConsentRow(consent=consent, status=status, expiring_soon=soon,
                      withdrawn_scope=[w.scope for w in withdrawals])


def explain_withheld(category: str, reasons: list[str], org: str, purpose: str) -> Withheld:
    names = {"org": org, "category": category_name(category),
             "purpose": purpose_name(purpose).lower()}
    return Withheld(category=category,
                    explanations=[explain(r, **names) for r in reasons]
                    or [explain("", **names)])


