"""Find a claimant, register one (with a duplicate check and check your answers), and the
claimant overview: identity, consent at a glance, the shared plan with each withheld category
explained in plain English."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import redirect, request, url_for
from flask import session as cookie
from marshmallow import ValidationError as MarshmallowValidationError
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response as BaseResponse

from caseshare.access import case_plans, conferences, consents, referrals, subjects
from caseshare.consent.effective import EffectiveScope, effective_scope
from caseshare.consent.views import ConsentView
from caseshare.errors import ForbiddenError, NotFoundError
from caseshare.schemas.subjects import NINO
from caseshare.web import forms
from caseshare.web.blueprint import bp, page, require, run, runtime, unit_of_work, user
from caseshare.web.case_plans import plan_section
from caseshare.web.cases import case_summary
from caseshare.web.explanations import Explanation, explain
from caseshare.web.filters import category_name, purpose_name
from caseshare.web.overrides import emergency_access

EXPIRING_SOON = timedelta(days=30)
LIVE_STATUSES = frozenset({"active", "partially_withdrawn", "unverified"})


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
    # Who still receives what after the withdrawals (the table shows this, not `recipients`).
    scope: EffectiveScope


@dataclass(frozen=True)
class Withheld:
    category: str
    explanations: list[Explanation]


@bp.route("/claimants/<uuid:subject_id>", methods=["GET"])
def overview(subject_id: uuid.UUID) -> tuple[str, int]:
    u = user()
    _subject, identity, withheld_identity = run("subjects:read", subjects.read_subject, subject_id)
    with unit_of_work("consents:read") as ctx:
        consent_rows = [consent_row(v, v.withdrawals, v.status, ctx.now)
                        for v in consents.list_consents(ctx, subject_id)]
    unseen = identity_unseen(identity, withheld_identity, consent_rows, u.principal.org, u.org_name,
                             u.purpose or "")
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
                plan=plan, withheld=withheld, referrals=referral_rows, unseen=unseen,
                plan_section=plan_section(subject_id, plan), emergency=emergency_access(subject_id),
                conference_count=run("case_plans:read", conferences.conference_count, subject_id),
                case_summary=case_summary(subject_id))


def consent_row(consent: ConsentView, withdrawals: list[Any], status: str,
                now: datetime) -> ConsentRow:
    soon = status in LIVE_STATUSES and consent.expires_at - now <= EXPIRING_SOON
    return ConsentRow(consent=consent, status=status, expiring_soon=soon,
                      withdrawn_scope=[w.scope for w in withdrawals],
                      scope=effective_scope(consent, withdrawals))


@dataclass(frozen=True)
class IdentityUnseen:
    """Why the viewer cannot see who the claimant is: `no_longer` when a consent once reached
    the viewer's organisation and none does now (it was withdrawn or ran out)."""

    no_longer: bool
    explanation: Explanation

    @property
    def because(self) -> str:
        """The sentence as the end of "... because ..." ("The claimant ..." -> "the claimant")."""
        text = self.explanation.sentence
        return "t" + text[1:] if text.startswith("The ") else text


def identity_unseen(identity: dict[str, str], withheld: list[dict[str, Any]],
                    rows: list[ConsentRow], org: str, org_name: str,
                    purpose: str) -> IdentityUnseen | None:
    """None while the claimant's name can be shown; otherwise the plain-words reason (the
    identity category's first reason) for the page to say instead of a bare "Claimant"."""
    if identity.get("given_name") or identity.get("family_name"):
        return None
    reasons: list[str] = next((w["reasons"] for w in withheld if w["category"] == "identity"), [])
    current = [r for r in rows if r.status in LIVE_STATUSES | {"withdrawn", "expired"}]
    named = any(r.scope.of(org) is not None for r in current)
    reached = any(r.status in LIVE_STATUSES and r.scope.reaches(org) for r in current)
    explanation = explain_withheld("identity", reasons, org_name, purpose).explanations[0]
    return IdentityUnseen(no_longer=named and not reached, explanation=explanation)


def explain_withheld(category: str, reasons: list[str], org: str, purpose: str) -> Withheld:
    names = {"org": org, "category": category_name(category),
             "purpose": purpose_name(purpose).lower()}
    return Withheld(category=category,
                    explanations=[explain(r, **names) for r in reasons]
                    or [explain("", **names)])




# Register a claimant: one short form, a duplicate check, check your answers, then save. What
# was typed waits in the signed session cookie between the steps, so "Change" links and any
# error give it back.

REGISTER_DRAFT = "register_draft"
JURISDICTIONS = ("england", "wales", "scotland")
POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$")


@bp.route("/claimants/new", methods=["GET", "POST"])
def register_claimant() -> BaseResponse | tuple[str, int]:
    """The claimant's details. A valid form is checked for a claimant the caller's
    organisation already works with (by NINO through the blind index, and by name and date of
    birth); a match is shown before anything is saved."""
    if request.method == "GET":
        require("subjects:write")  # role and purpose checked before the form is shown
        draft = cookie.get(REGISTER_DRAFT) if request.args.get("change") else None
        values = _register_values(MultiDict(draft or {}))
        return page("register_claimant.html", values=values, errors={})
    values = _register_values(request.form)
    errors = _register_errors(values, user_today())
    if errors:
        return page("register_claimant.html", 422, values=values, errors=errors)
    cookie[REGISTER_DRAFT] = _register_draft(request.form)
    by_nino = (run("subjects:read", subjects.find_by_nino, values["nino"])
               if values["nino"] else [])
    if by_nino:
        return _duplicates_page(values, by_nino, "nino")
    by_name = run("subjects:read", subjects.find_by_name_and_birth_date,
                  family_name=values["family_name"], given_name=values["given_name"],
                  date_of_birth=values["born_on"])
    if by_name:
        return _duplicates_page(values, by_name, "name")
    return redirect(url_for("web.check_registration"))


@bp.route("/claimants/new/check", methods=["GET", "POST"])
def check_registration() -> BaseResponse | tuple[str, int]:
    """Check your answers, then register: the caller's organisation becomes the lead."""
    draft = cookie.get(REGISTER_DRAFT)
    values = _register_values(MultiDict(draft or {}))
    if not draft or _register_errors(values, user_today()):
        return redirect(url_for("web.register_claimant", change=1 if draft else None))
    if request.method == "GET":
        require("subjects:write")
        return page("register_check.html", values=values, errors={})
    # Checked again: the same claimant may have been registered since (a second click).
    if values["nino"] and (found := run("subjects:read", subjects.find_by_nino, values["nino"])):
        return _duplicates_page(values, found, "nino")
    identity = {"given_name": values["given_name"], "family_name": values["family_name"],
                "date_of_birth": values["born_on"].isoformat(),
                "nino": values["nino"] or None, "postcode": values["postcode"] or None}
    try:
        subject, _opened = run("subjects:write", subjects.register_subject,
                               {k: v for k, v in identity.items() if v}, values["jurisdiction"])
    except ForbiddenError as exc:
        # Refused (and audited): the answers stay, with the reason and the next step.
        u = user()
        refused = [explain(r, org=u.org_name, category="identity details",
                           purpose=purpose_name(u.purpose or "").lower())
                   for r in exc.extra.get("reasons") or []]
        return page("register_check.html", 403, values=values, errors={},
                    refused=refused or [explain("", org=u.org_name, category="identity details",
                                                purpose=purpose_name(u.purpose or "").lower())])
    cookie.pop(REGISTER_DRAFT, None)
    return redirect(url_for("web.claimant_registered", subject_id=subject.id))


@bp.route("/claimants/<uuid:subject_id>/registered", methods=["GET"])
def claimant_registered(subject_id: uuid.UUID) -> tuple[str, int]:
    """The confirmation: the claimant's record exists; the next steps are consent and plan."""
    _s, identity, _withheld = run("subjects:read", subjects.read_subject, subject_id)
    return page("register_done.html", subject_id=subject_id, identity=identity,
                plan_start=f"/claimants/{subject_id}/plan/start")


def _register_values(submitted: Any) -> dict[str, Any]:
    return {"nino": re.sub(r"\s+", "", forms.text(submitted, "nino")).upper(),
            "nino_unknown": submitted.get("nino_unknown") == "yes",
            "given_name": forms.text(submitted, "given_name"),
            "family_name": forms.text(submitted, "family_name"),
            "born": forms.date_parts(submitted, "born"),
            "postcode": " ".join(forms.text(submitted, "postcode").upper().split()),
            "jurisdiction": forms.text(submitted, "jurisdiction")}


def _register_draft(submitted: Any) -> dict[str, str]:
    """What was typed, as typed (plain strings), for the session cookie."""
    names = ("nino", "nino_unknown", "given_name", "family_name", "born-day", "born-month",
             "born-year", "postcode", "jurisdiction")
    return {n: forms.text(submitted, n) for n in names if forms.text(submitted, n)}


def _register_errors(values: dict[str, Any], today: date) -> forms.Errors:
    errors: forms.Errors = {}
    if values["nino"] and values["nino_unknown"]:
        errors["nino"] = ("Enter the National Insurance number, or select that the claimant "
                          "does not know it, not both")
    elif not values["nino"] and not values["nino_unknown"]:
        errors["nino"] = ("Enter the claimant's National Insurance number, or select that they "
                          "do not know it")
    elif values["nino"] and not valid_nino(values["nino"]):
        errors |= _nino_errors(values)
    forms.check_text(errors, "given_name", values["given_name"], max_length=100,
                     too_long="First name must be 100 characters or fewer",
                     missing="Enter the claimant's first name")
    errors |= _name_errors(values, today)
    if values["postcode"] and not POSTCODE.match(values["postcode"]):
        errors["postcode"] = "Enter a real postcode, like DE1 2AB"
    if values["jurisdiction"] not in JURISDICTIONS:
        errors["jurisdiction"] = "Select where the claimant lives"
    return errors


def _duplicates_page(values: dict[str, Any], found: list[Any], by: str) -> tuple[str, int]:
    """Claimants the caller's organisation already works with that match: their names and
    links (identity read as on the find page). A NINO match is the same person, so there is no
    way on; a name and date of birth match may be someone else, so the user may continue."""
    matches = []
    for subject in found:
        _s, identity, _withheld = run("subjects:read", subjects.read_subject, subject.id)
        matches.append({"id": subject.id, "identity": identity})
    return page("register_duplicate.html", 409 if by == "nino" else 200, values=values,
                matches=matches, by=by, errors={})
