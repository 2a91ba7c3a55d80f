"""Export a consent as an HL7 FHIR R4 `Consent` resource, for NHS-side treatment providers.

Base provision: permit disclosure to the named recipients, for the purposes and data classes
consented, for the consent period. Excluded categories and partial withdrawals are nested deny
provisions, so a consumer applying FHIR's rules reaches the same answer as Caseshare.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from caseshare.consent.receipt import party_name
from caseshare.consent.views import ConsentView
from caseshare.policy.models import ProtocolSet

SYSTEM = "https://caseshare.example/fhir"
ORG_SYSTEM = f"{SYSTEM}/organisation"
# active: in force (perhaps narrowed); inactive: no longer in force; rejected: a refusal.
FHIR_STATUS = {"active": "active", "partially_withdrawn": "active", "unverified": "active",
               "withdrawn": "inactive", "expired": "inactive", "superseded": "inactive",
               "refused": "rejected"}
RECIPIENT_ROLE = {"coding": [{
    "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "IRCP",
    "display": "information recipient"}]}
DISCLOSE = [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentaction",
                         "code": "disclose"}]}]


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _org(code: str, protocols: ProtocolSet) -> dict[str, Any]:
    return {"identifier": {"system": ORG_SYSTEM, "value": code},
            "display": party_name(protocols, code)}


def _actors(orgs: list[str], protocols: ProtocolSet) -> list[dict[str, Any]]:
    return [{"role": RECIPIENT_ROLE, "reference": _org(o, protocols)} for o in orgs]


def _codings(system: str, codes: list[str]) -> list[dict[str, str]]:
    return [{"system": f"{SYSTEM}/{system}", "code": c} for c in codes]


def _deny(*, orgs: list[str], purposes: list[str], categories: list[str],
          start: datetime | None, protocols: ProtocolSet) -> dict[str, Any]:
    deny: dict[str, Any] = {"type": "deny"}
    if start is not None:
        deny["period"] = {"start": _iso(start)}
    if orgs:
        deny["actor"] = _actors(orgs, protocols)
    if purposes:
        deny["purpose"] = _codings("purpose", purposes)
    if categories:
        deny["class"] = _codings("data-category", categories)
    return deny


def fhir_consent(consent: ConsentView, protocols: ProtocolSet) -> dict[str, Any]:
    """The resource for what the caller may see of the consent (see consent/views.py)."""
    withdrawals, status = consent.withdrawals, consent.status
    granted = consent.decision == "granted"
    nested = [
        _deny(orgs=[], purposes=[], categories=consent.excluded_categories, start=None,
              protocols=protocols)
    ] if consent.excluded_categories else []
    nested += [
        _deny(orgs=w.scope.get("recipients", []), purposes=w.scope.get("purposes", []),
              categories=w.scope.get("categories", []), start=w.withdrawn_at,
              protocols=protocols)
        for w in withdrawals
    ]
    provision: dict[str, Any] = {
        "type": "permit" if granted else "deny",
        "period": {"start": _iso(consent.valid_from), "end": _iso(consent.expires_at)},
        "actor": _actors(consent.recipients, protocols),
        "action": DISCLOSE,
        "purpose": _codings("purpose", consent.purposes),
        "class": _codings("data-category", consent.categories),
    }
    if nested:
        provision["provision"] = nested
    performer: dict[str, Any]
    if consent.given_by_type == "self":
        performer = {"identifier": {"system": f"{SYSTEM}/subject",
                                    "value": str(consent.subject_id)}}
    else:
        performer = {"display": consent.given_by_type + (
            f" ({consent.authority_ref})" if consent.authority_ref else "")}
    verification: dict[str, Any] = {"verified": consent.verified}
    if consent.verified:
        verification["verificationDate"] = _iso(consent.captured_at)
    return {
        "resourceType": "Consent",
        "id": str(consent.id),
        "identifier": [{"system": f"{SYSTEM}/consent", "value": str(consent.id)}],
        "status": FHIR_STATUS[status],
        "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope",
                              "code": "patient-privacy"}]},
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0",
                                  "display": "Patient Consent"}]}],
        "patient": {"identifier": {"system": f"{SYSTEM}/subject",
                                   "value": str(consent.subject_id)}},
        "dateTime": _iso(consent.captured_at),
        "performer": [performer],
        "organization": [_org(consent.captured_org, protocols)],
        "policy": [{"uri": f"{SYSTEM}/consent-form/{consent.form_id}/{consent.form_version}"
                           f"?lang={consent.language}&sha256={consent.text_hash}"}],
        "policyRule": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
            "code": "OPTIN" if granted else "OPTOUT"}]},
        "verification": [verification],
        "provision": provision,
    }
