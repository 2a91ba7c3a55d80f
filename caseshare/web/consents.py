"""Record consent from a form in consent_forms/ (English or Welsh, nothing pre-ticked) through a
check-your-answers page, renew or replace one (the claimant chooses again; the new consent
supersedes the old), and withdraw consent, whole or in part, with a confirmation page."""

from __future__ import annotations

import uuid
from typing import Any

from flask import flash, redirect, request, url_for
from flask import session as cookie
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response as BaseResponse

from caseshare.access import consents
from caseshare.consent import rules
from caseshare.consent.forms import ConsentForm
from caseshare.consent.views import ConsentView
from caseshare.errors import ConflictError, NotFoundError, ValidationError
from caseshare.schemas.consents import CHANNELS, GIVEN_BY_TYPES, METHODS
from caseshare.web import forms
from caseshare.web.blueprint import bp, page, require, run, runtime, user
from caseshare.web.filters import uk_date
from caseshare.web.option_names import option_names

LANGUAGES = ("en", "cy")
# Where the use case's field names land on the page (for the error summary links).
CONSENT_FIELDS = {
    "recipients": "recipients", "purposes": "purposes", "categories": "categories",
    "excluded_categories": "categories", "explicit_statement": "explicit",
    "given_by.type": "given_by_type", "given_by.authority_ref": "authority_ref",
    "given_by.name": "given_by_name", "method": "method", "evidence_ref": "evidence_ref",
    "expires_at": "expires_at-day", "valid_from": "expires_at-day", "language": "recipients",
    "form_version": "recipients", "supersedes": "recipients",
    # A child's own consent refused under their jurisdiction's rules (consent/jurisdictions.py):
    # the page records no competence assessment, so the answer is who gives consent.
    "competence": "given_by_type", "competence.competent": "given_by_type",
}
# The consent choices between the form and check your answers wait in the session cookie.
CONSENT_DRAFT = "consent_draft"
DRAFT_FIELDS = ("recipients", "purposes", "categories", "explicit", "given_by_type",
                "given_by_name", "authority_ref", "method", "evidence_ref", "expires_at-day",
                "expires_at-month", "expires_at-year")
WITHDRAW_FIELDS = {"scope.recipients": "recipients", "scope.purposes": "purposes",
                   "scope.categories": "categories", "channel": "channel", "reason": "reason"}


def current_form() -> ConsentForm:
    """The current form of the signed-in worker's partnership (one naming their organisation):
    a Derby worker never gets the Carmarthenshire form, nor the other way round."""
    form = runtime().forms.current_for(user().principal.org)
    if form is None:
        raise NotFoundError("No consent form is available.")
    return form


@bp.route("/claimants/<uuid:subject_id>/consents/new", methods=["GET", "POST"])
def record_consent(subject_id: uuid.UUID) -> BaseResponse | tuple[str, int]:
    """The consent form (nothing pre-ticked, also when renewing). A form without errors is
    kept in the session and checked with the user on the next page before it is recorded."""
    form = current_form()
    lang = _lang(form, request.values.get("lang"))
    renews = _renewing(subject_id, request.values.get("renews"))
    if request.method == "GET":
        require("consents:write")  # purpose and role checked before the form is shown
        draft = _draft(subject_id) if request.args.get("change") else None
        values = _read_consent(form, _submitted(draft))[0] if draft else {}
        return _consent_page(form, lang, subject_id, values, {}, renews=renews)
    values, errors = _read_consent(form, request.form)
    if not errors:
        # The rules that do not depend on the claimant, checked before the summary is shown.
        errors = forms.domain_errors(_form_rule_errors(form, _consent_data(form, lang, values)),
                                     CONSENT_FIELDS)
    if errors:
        return _consent_page(form, lang, subject_id, values, errors, 422, renews=renews)
    cookie[CONSENT_DRAFT] = {"subject": str(subject_id), "lang": lang,
                             "renews": str(renews.id) if renews else None,
                             "form": {k: request.form.getlist(k) for k in DRAFT_FIELDS
                                      if request.form.getlist(k)}}
    return redirect(url_for("web.check_consent", subject_id=subject_id))


@bp.route("/claimants/<uuid:subject_id>/consents/check", methods=["GET", "POST"])
def check_consent(subject_id: uuid.UUID) -> BaseResponse | tuple[str, int]:
    """Check your answers, then record the consent (superseding the one renewed, if any). A
    refusal re-renders the form with what was chosen and the reason."""
    form, draft = current_form(), _draft(subject_id)
    if draft is None:
        return redirect(url_for("web.record_consent", subject_id=subject_id))
    lang = _lang(form, draft["lang"])
    renews = _renewing(subject_id, draft.get("renews"))
    values, errors = _read_consent(form, _submitted(draft))
    if errors:
        return _consent_page(form, lang, subject_id, values, errors, 422, renews=renews)
    data = _consent_data(form, lang, values)
    if request.method == "GET":
        require("consents:write")
        protocols = runtime().protocols
        return page("consent_check.html", form=form, lang=lang, text=form.text[lang],
                    subject_id=subject_id, values=values, renews=renews, errors={},
                    sensitive=[c for c in values["categories"] if protocols.is_sensitive(c)],
                    change=url_for("web.record_consent", subject_id=subject_id, lang=lang,
                                   renews=renews.id if renews else None, change=1))
    if renews is not None:
        data["supersedes"] = renews.id
    try:
        consent = run("consents:write", consents.record_consent, subject_id, data)
    except (ValidationError, ConflictError) as exc:
        errors = _refusal_errors(exc)
        return _consent_page(form, lang, subject_id, values, errors, exc.status, renews=renews)
    cookie.pop(CONSENT_DRAFT, None)
    flash(f"Consent recorded. It lasts until {uk_date(consent.expires_at)}. Give the claimant "
          "this receipt.")
    return redirect(url_for("web.consent_receipt", subject_id=subject_id, consent_id=consent.id,
                            lang=lang))


def _refusal_errors(exc: ValidationError | ConflictError) -> forms.Errors:
    """A refusal from the use case, on the form's fields, in plain words where it is ours."""
    found: dict[str, Any] = exc.extra.get("errors") or {"recipients": [exc.detail]}
    if "supersedes" in found:
        return {"recipients": "The consent you are renewing has already been replaced by a "
                              "newer one. Go back to the claimant's page to see it"}
    return forms.domain_errors(found, CONSENT_FIELDS)


def _lang(form: ConsentForm, asked: str | None) -> str:
    return asked if asked in form.languages else "en"


def _draft(subject_id: uuid.UUID) -> dict[str, Any] | None:
    """The consent choices waiting to be checked for this claimant (one draft at a time)."""
    draft: dict[str, Any] | None = cookie.get(CONSENT_DRAFT)
    return draft if draft and draft.get("subject") == str(subject_id) else None


def _submitted(draft: dict[str, Any] | None) -> MultiDict[str, str]:
    fields: dict[str, list[str]] = (draft or {}).get("form", {})
    return MultiDict([(k, v) for k, values in fields.items() for v in values])


def _renewing(subject_id: uuid.UUID, consent_id: str | None) -> ConsentView | None:
    """The consent being renewed or replaced (as much of it as the caller may see), if any."""
    if not consent_id:
        return None
    try:
        wanted = uuid.UUID(consent_id)
    except ValueError:
        raise NotFoundError("No such consent.") from None
    found = next((v for v in run("consents:read", consents.list_consents, subject_id)
                  if v.id == wanted), None)
    if found is None:
        raise NotFoundError("No such consent.")
    return found


def _consent_data(form: ConsentForm, lang: str, values: dict[str, Any]) -> dict[str, Any]:
    """The use case's input (the API's shape) from the page's values."""
    data: dict[str, Any] = {
        "form_id": form.id, "form_version": form.version, "language": lang,
        "given_by": {k: v for k, v in (("type", values["given_by_type"]),
                                       ("name", values["given_by_name"]),
                                       ("authority_ref", values["authority_ref"])) if v},
        "recipients": values["recipients"], "purposes": values["purposes"],
        "categories": values["categories"], "method": values["method"],
        "evidence_ref": values["evidence_ref"] or None,
        "expires_at": forms.start_of_day(values["expires_on"]),
    }
    if values["explicit"]:
        # The statement the claimant agreed to is the form's own wording, in their language.
        data["explicit_statement"] = form.text[lang]["explicit_statement"]
    return data


def _form_rule_errors(form: ConsentForm, data: dict[str, Any]) -> dict[str, Any]:
    """The consent rules that depend only on the choices, the form and the protocols (the
    use case checks them again, with those that depend on the claimant, when recording)."""
    protocols, now = runtime().protocols, runtime().now()
    return (rules.check_choices(data, form, protocols) | rules.check_evidence(data)
            | rules.check_explicit(data, form, protocols)
            | rules.check_period(data, form, protocols, now))


def _read_consent(form: ConsentForm, submitted: Any) -> tuple[dict[str, Any], forms.Errors]:
    values: dict[str, Any] = {
        "recipients": forms.ticked(submitted, "recipients", form.recipients),
        "purposes": forms.ticked(submitted, "purposes", form.purposes),
        "categories": forms.ticked(submitted, "categories", form.categories),
        "explicit": submitted.get("explicit") == "yes",
        "given_by_type": forms.text(submitted, "given_by_type"),
        "given_by_name": forms.text(submitted, "given_by_name"),
        "authority_ref": forms.text(submitted, "authority_ref"),
        "method": forms.text(submitted, "method"),
        "evidence_ref": forms.text(submitted, "evidence_ref"),
        "expires_at": forms.date_parts(submitted, "expires_at"),
    }
    errors: forms.Errors = {}
    if not values["recipients"]:
        errors["recipients"] = "Select each organisation the claimant agrees to share with"
    if not values["purposes"]:
        errors["purposes"] = "Select each reason the claimant agrees to"
    if not values["categories"]:
        errors["categories"] = "Select each type of information the claimant agrees to share"
    if values["given_by_type"] not in GIVEN_BY_TYPES:
        errors["given_by_type"] = "Select who is giving consent"
    if values["method"] not in METHODS:
        errors["method"] = "Select how consent was given"
    values["expires_on"] = forms.parse_date(values["expires_at"])
    if values["expires_on"] is None:
        errors["expires_at-day"] = "Enter the date consent ends, like 31 3 2027"
    return values, errors


def _consent_page(form: ConsentForm, lang: str, subject_id: uuid.UUID, values: dict[str, Any],
                  errors: forms.Errors, status: int = 200, *,
                  renews: ConsentView | None = None) -> tuple[str, int]:
    protocols = runtime().protocols
    sensitive = [c for c in form.categories if protocols.is_sensitive(c)]
    options = {name: option_names(protocols, kind, codes, lang) for name, kind, codes in (
        ("recipients", "organisation", form.recipients), ("purposes", "purpose", form.purposes),
        ("categories", "category", form.categories))}
    return page("consent_new.html", status, form=form, lang=lang, text=form.text[lang],
                options=options,
                subject_id=subject_id, values=values, errors=errors, sensitive=sensitive,
                given_by_types=GIVEN_BY_TYPES, methods=METHODS, renews=renews)


@bp.route("/claimants/<uuid:subject_id>/consents/<uuid:consent_id>/withdraw",
          methods=["GET", "POST"])
def withdraw_consent(subject_id: uuid.UUID, consent_id: uuid.UUID) -> tuple[str, int]:
    rows = run("consents:read", consents.list_consents, subject_id)
    found = next((v for v in rows if v.id == consent_id), None)
    if found is None:
        raise NotFoundError("No such consent.")
    consent, status = found, found.status
    if request.method == "GET":
        return page("withdraw.html", consent=consent, status=status, subject_id=subject_id,
                    values={}, errors={}, channels=CHANNELS)
    submitted = request.form
    values: dict[str, Any] = {
        "extent": forms.text(submitted, "extent"),
        "recipients": forms.ticked(submitted, "recipients", consent.recipients),
        "purposes": forms.ticked(submitted, "purposes", consent.purposes),
        "categories": forms.ticked(submitted, "categories", consent.categories),
        "channel": forms.text(submitted, "channel"),
        "reason": forms.text(submitted, "reason"),
    }
    errors: forms.Errors = {}
    if values["extent"] not in ("all", "part"):
        errors["extent"] = "Select whether the claimant withdraws all or part of their consent"
    elif values["extent"] == "part" and not (values["recipients"] or values["purposes"]
                                             or values["categories"]):
        errors["recipients"] = "Select what the claimant withdraws consent for"
    if values["channel"] not in CHANNELS:
        errors["channel"] = "Select how the claimant told you"
    if not errors:
        data: dict[str, Any] = {"channel": values["channel"], "reason": values["reason"] or None}
        if values["extent"] == "part":
            data["scope"] = {k: values[k] for k in ("recipients", "purposes", "categories")
                             if values[k]}
        try:
            consent = run("consents:write", consents.withdraw_consent, consent_id, data)
            status = consent.status
        except ValidationError as exc:
            errors = forms.domain_errors(exc.extra["errors"], WITHDRAW_FIELDS)
        else:
            return page("withdrawn.html", consent=consent, status=status,
                        subject_id=subject_id, scope=data.get("scope"))
    return page("withdraw.html", 422, consent=consent, status=status, subject_id=subject_id,
                values=values, errors=errors, channels=CHANNELS)
