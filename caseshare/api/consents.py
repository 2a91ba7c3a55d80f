from __future__ import annotations

import json
import uuid
from typing import Any

from flask import Response, request

from caseshare.access import consents
from caseshare.access import notifications as inbox
from caseshare.api.common import api_blueprint, no_store, principal, runtime, unit_of_work
from caseshare.consent import fhir, receipt
from caseshare.consent.views import ConsentView, OpenedFields, whole_view
from caseshare.errors import NotFoundError
from caseshare.retention.schedule import DEFAULT_RETENTION_DAYS
from caseshare.schemas.common import PurposeQuery
from caseshare.schemas.consents import (
    ConsentCreate,
    ConsentList,
    ConsentOut,
    ExpiringList,
    ExpiringQuery,
    FormOut,
    FormQuery,
    FormSummary,
    NotificationList,
    NotificationReadOut,
    WithdrawalCreate,
)

blp = api_blueprint("consents", __name__, "Consent forms, consent records and withdrawal")


def consent_out(view: ConsentView) -> dict[str, Any]:
    """A consent as the caller may see it (`view`: whole, or the parts naming a recipient)."""
    return {
        "id": view.id,
        "subject_id": view.subject_id,
        "view": view.audience,
        "status": view.status,
        "decision": view.decision,
        "supersedes": view.supersedes_id,
        "given_by": {k: v for k, v in (("type", view.given_by_type),
                                       ("name", view.given_by_name),
                                       ("authority_ref", view.authority_ref)) if v},
        "capacity": view.capacity,
        "competence": view.competence,
        "recipients": view.recipients,
        "purposes": view.purposes,
        "categories": view.categories,
        "excluded_categories": view.excluded_categories,
        "explicit": view.explicit,
        "form_id": view.form_id,
        "form_version": view.form_version,
        "language": view.language,
        "text_hash": view.text_hash,
        "method": view.method,
        "verified": view.verified,
        "captured_org": view.captured_org,
        "captured_at": view.captured_at,
        "valid_from": view.valid_from,
        "expires_at": view.expires_at,
        "expiry_rule": view.expiry_rule,
        "withdrawals": [{"withdrawn_at": w.withdrawn_at, "channel": w.channel, "scope": w.scope}
                        for w in view.withdrawals],
    }


@blp.route("/consent-forms", methods=["GET"])
@blp.response(200, FormSummary(many=True))
def list_forms() -> Any:
    """List the current consent forms.

    One item per partnership form at its current version, with the languages it is published in.
    Forms hold no personal data; a bearer token is still required.
    """
    principal()  # authenticated by the blueprint; forms hold no personal data
    return [{"id": f.id, "version": f.version, "languages": list(f.languages), "title": f.title}
            for f in runtime().forms.current()]


@blp.route("/consent-forms/<form_id>/<int:version>", methods=["GET"])
@blp.arguments(FormQuery, location="query", as_kwargs=True)
@blp.response(200, FormOut)
def get_form(form_id: str, version: int, lang: str) -> Any:
    """Read one consent form version in one language.

    The rendered text the claimant is shown, its hash, the options a consent recorded on it may
    choose (recipients, purposes, categories, the longest duration) and `explicit_statement`: the
    form's own words for explicit consent in that language. Unknown form, version or language: 404.
    """
    form = runtime().forms.get(form_id, version)
    if form is None or lang not in form.languages:
        raise NotFoundError("No such consent form, version or language.")
    return {"id": form.id, "version": form.version, "language": lang,
            "title": form.text[lang]["title"], "text": form.rendered(lang),
            "text_hash": form.text_hash(lang),
            "explicit_statement": form.text[lang].get("explicit_statement"),
            "options": {"recipients": list(form.recipients), "purposes": list(form.purposes),
                        "categories": list(form.categories),
                        "max_duration_days": form.max_duration_days}}


@blp.route("/subjects/<uuid:subject_id>/consents", methods=["POST"])
@blp.arguments(PurposeQuery, location="query", as_kwargs=True)
@blp.arguments(ConsentCreate)
@blp.response(201, ConsentOut)
def create_consent(body: dict[str, Any], subject_id: uuid.UUID, purpose: str) -> Any:
    """Record a claimant's consent.

    A consent may only choose recipients, purposes and categories its form offers. A consent
    covering a special or criminal category carries `explicit_statement` equal to the form's
    statement in the consent's language; anything else is a 422 naming `explicit_statement`.
    `given_by` records who gave it (the claimant, an appointee, an attorney...) and `method` how.
    """
    with unit_of_work(purpose, "consents:write") as ctx:
        return consent_out(consents.record_consent(ctx, subject_id, body)), 201, no_store()


@blp.route("/subjects/<uuid:subject_id>/consents", methods=["GET"])
@blp.arguments(PurposeQuery, location="query", as_kwargs=True)
@blp.response(200, ConsentList)
def list_consents(subject_id: uuid.UUID, purpose: str) -> Any:
    """Every consent version for the claimant, as far as the caller may see it.

    A claimant the caller's organisation has no relationship with (not a case member, no accepted
    referral, not named in a consent) is 404, IG officers included. The reserved purposes
    `audit` and `subject_access` open no claimant data (every category withheld,
    `purpose_reserved`).
    """
    with unit_of_work(purpose, "consents:read") as ctx:
        items = [consent_out(view) for view in consents.list_consents(ctx, subject_id)]
        return {"items": items, "next_cursor": None}, 200, no_store()


@blp.route("/consents/<uuid:consent_id>/withdrawal", methods=["POST"])
@blp.arguments(PurposeQuery, location="query", as_kwargs=True)
@blp.arguments(WithdrawalCreate)
@blp.response(200, ConsentOut)
def withdraw(body: dict[str, Any], consent_id: uuid.UUID, purpose: str) -> Any:
    """Withdraw a consent, wholly or in part.

    No `scope`: the whole consent is withdrawn; a `scope` of recipients, purposes or categories
    withdraws only those. The answer is the updated consent. Again on a fully withdrawn
    consent: 409. The organisations that lose data are notified.
    """
    with unit_of_work(purpose, "consents:write") as ctx:
        return consent_out(consents.withdraw_consent(ctx, consent_id, body)), 200, no_store()


@blp.route("/consents/<uuid:consent_id>/receipt", methods=["GET"])
@blp.arguments(PurposeQuery, location="query", as_kwargs=True)
@blp.response(200, description="ISO/IEC TS 27560-structured JSON; printable HTML with "
                               "Accept: text/html")
def consent_receipt(consent_id: uuid.UUID, purpose: str) -> Any:
    """The consent receipt (ISO/IEC TS 27560 JSON, or a printable page).

    A claimant the caller's organisation has no relationship with (not a case member, no accepted
    referral, not named in a consent) is 404, IG officers included. The reserved purposes
    `audit` and `subject_access` open no claimant data (every category withheld,
    `purpose_reserved`).
    """
    with unit_of_work(purpose, "consents:read") as ctx:
        view, form = consents.export_consent(ctx, consent_id, "receipt")
        body = receipt.receipt(view, form, ctx.protocols,
                               default_retention_days=DEFAULT_RETENTION_DAYS)
        wants_html = request.accept_mimetypes.best_match(["application/json", "text/html"])
        if wants_html == "text/html":
            return Response(receipt.render_html(body), mimetype="text/html",
                            headers=no_store({"Content-Language": view.language}))
        return body, 200, no_store()


@blp.route("/consents/<uuid:consent_id>/fhir", methods=["GET"])
@blp.arguments(PurposeQuery, location="query", as_kwargs=True)
@blp.response(200, description="An HL7 FHIR R4 Consent resource")
def consent_fhir(consent_id: uuid.UUID, purpose: str) -> Any:
    """The consent as an HL7 FHIR R4 `Consent` resource.

    A claimant the caller's organisation has no relationship with (not a case member, no accepted
    referral, not named in a consent) is 404, IG officers included. The reserved purposes
    `audit` and `subject_access` open no claimant data (every category withheld,
    `purpose_reserved`).
    """
    with unit_of_work(purpose, "consents:read") as ctx:
        view, _form = consents.export_consent(ctx, consent_id, "fhir")
        resource = fhir.fhir_consent(view, ctx.protocols)
        return Response(json.dumps(resource), mimetype="application/fhir+json", headers=no_store())


@blp.route("/consents/expiring", methods=["GET"])
@blp.arguments(ExpiringQuery, location="query", as_kwargs=True)
@blp.response(200, ExpiringList)
def expiring(purpose: str, days: int) -> Any:
    """List consents that end soon.

    Consents ending within `days` (default 30) on cases the caller's organisation leads, to renew
    with the claimant before sharing stops. Sealed fields (proxy names, references) are left out:
    they are in the claimant's consent list.
    """
    with unit_of_work(purpose, "consents:read") as ctx:
        # The renewal list carries no sealed fields (proxy name, references): they are in the
        # claimant's consent list.
        items = [{**consent_out(whole_view(c, ws, status, OpenedFields())), "lead_org": lead}
                 for c, ws, status, lead in consents.expiring_consents(ctx, days)]
        return {"items": items, "next_cursor": None}, 200, no_store()


@blp.route("/notifications", methods=["GET"])
@blp.arguments(PurposeQuery, location="query", as_kwargs=True)
@blp.response(200, NotificationList)
def notifications(purpose: str) -> Any:
    """List the caller's notifications.

    In-app notifications for the caller: their organisation's (e.g. a consent naming it was
    withdrawn), their role's (e.g. an override granted, for IG officers) and their own, with
    whether each has been read.
    """
    with unit_of_work(purpose, "consents:read") as ctx:
        items = [{"id": n.id, "type": n.type, "subject_id": n.subject_id,
                  "consent_id": n.consent_id, "created_at": n.created_at, "read": n.read,
                  "details": n.details}
                 for n in inbox.list_notifications(ctx)]
        return {"items": items, "next_cursor": None}, 200, no_store()


@blp.route("/notifications/<uuid:notification_id>/read", methods=["POST"])
@blp.arguments(PurposeQuery, location="query", as_kwargs=True)
@blp.response(200, NotificationReadOut)
def notification_read(notification_id: uuid.UUID, purpose: str) -> Any:
    """Mark a notification read.

    Marks one of the caller's notifications read, for this person only: colleagues in the same
    organisation still see it unread. A notification that is not the caller's: 404.
    """
    with unit_of_work(purpose, "consents:read") as ctx:
        inbox.mark_notification_read(ctx, notification_id)
        return {"id": notification_id, "read": True}, 200, no_store()
