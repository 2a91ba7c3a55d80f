"""Receipts (ISO/IEC TS 27560 JSON, printable HTML in the claimant's language) and the HL7 FHIR
R4 Consent export: each audited, each needing a purpose and a case relationship."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fhir.resources.R4B.consent import Consent as FhirConsent
from flask.testing import FlaskClient

from caseshare.runtime import Runtime
from tests.audit_helpers import events
from tests.builders import CONSENTS, assert_problem, consent_body, first_consent
from tests.conftest import COACH, KEY_WORKER, Demo

RECEIPT = "/api/v1/consents/{}/receipt?purpose=case_management"
FHIR = "/api/v1/consents/{}/fhir?purpose=case_management"


def _exported(rt: Runtime, kind: str, r: Any) -> list[Any]:
    return [e for e in events(rt, type=f"consent:{kind}:export")
            if e.request_id == r.headers["X-Request-ID"]]


def test_receipt_json_follows_the_27560_structure_and_is_audited(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    consent = first_consent(client, auth, demo.lee)
    client.post(f"/api/v1/consents/{consent['id']}/withdrawal?purpose=case_management",
                headers=auth(COACH),
                json={"channel": "phone", "scope": {"recipients": ["derby-housing"]}})
    r = client.get(RECEIPT.format(consent["id"]), headers=auth(COACH))

    assert r.status_code == 200 and r.mimetype == "application/json"
    assert r.headers["Cache-Control"] == "no-store"
    body = r.json
    assert body["schema_version"].startswith("https://w3id.org/dpv/schema/iso-27560")
    assert body["record_id"] == consent["id"]
    assert body["pii_principal_id"] == str(demo.lee)
    assert body["notice"] == {"notice_id": "derby-multi-agency@1", "language": "en",
                              "title": "Consent to share information between the agencies "
                                       "supporting you", "text_sha256": consent["text_hash"]}
    assert body["consent_type"] == "explicit" and body["special_category"] is True
    assert {c["id"]: c["name"] for c in body["pii_controllers"]}["derby-housing"] == (
        "Derby City Council Housing Options")
    assert {"category": "substance_misuse", "sensitive": True} in body["pii_categories"]
    assert [e["event_type"] for e in body["events"]] == ["given", "partially_withdrawn"]
    assert body["consent_status"] == "partially_withdrawn"
    assert body["expiry"]["expires_at"] == consent["expires_at"].replace("+00:00", "Z")

    [event] = _exported(rt, "receipt", r)
    assert event.decision == "allow" and str(event.consent_id) == consent["id"]
    assert event.subject_id == demo.lee and event.purpose == "case_management"


def test_printable_receipt_is_in_the_claimants_language_without_script(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    proxy = {"type": "dwp_appointee", "name": "<script>alert(1)</script> Dunn",
             "authority_ref": "BF56-1234"}
    made = client.post(CONSENTS.format(demo.kerry), headers=auth(COACH), json=consent_body(
        language="cy", given_by=proxy, recipients=["ca-derby"], purposes=["budgeting_support"],
        categories=["finances"]))
    assert made.status_code == 201, made.json

    r = client.get(RECEIPT.format(made.json["id"]),
                   headers={**auth(COACH), "Accept": "text/html"})
    assert r.status_code == 200 and r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    assert '<html lang="cy">' in html and r.headers["Content-Language"] == "cy"
    assert "Eich derbynneb caniatâd" in html and "Citizens Advice Derby" in html
    assert made.json["text_hash"] in html
    assert "<script" not in html and "&lt;script&gt;" in html  # escaped, never run
    assert "script-src" not in r.headers["Content-Security-Policy"]
    assert "default-src 'self'" in r.headers["Content-Security-Policy"]
    assert len(_exported(rt, "receipt", r)) == 1


def test_fhir_export_is_a_valid_r4_consent_resource(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    consent = first_consent(client, auth, demo.lee)
    client.post(f"/api/v1/consents/{consent['id']}/withdrawal?purpose=case_management",
                headers=auth(COACH),
                json={"channel": "phone", "scope": {"categories": ["substance_misuse"]}})
    r = client.get(FHIR.format(consent["id"]), headers=auth(COACH))

    assert r.status_code == 200 and r.mimetype == "application/fhir+json"
    resource = FhirConsent.model_validate(r.json)  # raises on an invalid resource
    assert resource.id == consent["id"] and resource.status == "active"
    assert resource.patient.identifier.value == str(demo.lee)
    provision = resource.provision
    assert provision.type == "permit"
    assert {a.reference.identifier.value for a in provision.actor} == set(consent["recipients"])
    assert {p.code for p in provision.purpose} == set(consent["purposes"])
    assert {c.code for c in provision.class_fhir} == set(consent["categories"])
    [deny] = provision.provision
    assert deny.type == "deny" and [c.code for c in deny.class_fhir] == ["substance_misuse"]
    assert deny.period.start is not None
    assert resource.policyRule.coding[0].code == "OPTIN"
    assert consent["text_hash"] in resource.policy[0].uri
    [event] = _exported(rt, "fhir", r)
    assert str(event.consent_id) == consent["id"]


def test_fhir_export_of_a_withdrawn_consent_and_a_refusal(
    client: FlaskClient, auth: Any, demo: Demo
) -> None:
    consent = first_consent(client, auth, demo.kerry)
    client.post(f"/api/v1/consents/{consent['id']}/withdrawal?purpose=case_management",
                headers=auth(COACH), json={"channel": "phone"})
    withdrawn = FhirConsent.model_validate(
        client.get(FHIR.format(consent["id"]), headers=auth(COACH)).json)
    assert withdrawn.status == "inactive"

    refusal = client.post(CONSENTS.format(demo.kerry), headers=auth(COACH),
                          json=consent_body(decision="refused"))
    refused = FhirConsent.model_validate(
        client.get(FHIR.format(refusal.json["id"]), headers=auth(COACH)).json)
    assert refused.status == "rejected" and refused.provision.type == "deny"
    assert refused.policyRule.coding[0].code == "OPTOUT"


@pytest.mark.parametrize("url", [RECEIPT, FHIR])
def test_exports_need_a_purpose_and_a_case_relationship(
    url: str, client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    consent = first_consent(client, auth, demo.kerry)
    no_purpose = client.get(url.format(consent["id"]).split("?")[0], headers=auth(COACH))
    assert_problem(no_purpose, 422, "purpose")

    unrelated = client.get(url.format(consent["id"]).replace("case_management",
                                                             "recovery_support"),
                           headers=auth(KEY_WORKER))
    assert_problem(unrelated, 404, None)
    assert "Kerry" not in unrelated.get_data(as_text=True)
    denied = [e for e in events(rt, type="access:subject:deny", subject_id=demo.kerry)
              if e.request_id == unrelated.headers["X-Request-ID"]]
    assert denied and denied[0].reasons == ["no_case_relationship"]
    missing = client.get(url.format(uuid.uuid4()), headers=auth(COACH))
    assert_problem(missing, 404, None)
    assert not [e for e in events(rt) if e.type.endswith(":export")]
