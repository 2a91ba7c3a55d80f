"""Subject access request export: GET /subjects/{id}/sar-export?purpose=subject_access (IG
officers). A zip bundle (or one JSON document), audited with the categories disclosed and
committed before it leaves; erased claimants say so with no plaintext. Both engines."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import uuid
import zipfile
from typing import Any

from flask.testing import FlaskClient

from caseshare.identity import service as identity
from caseshare.runtime import Runtime
from tests.api.test_overrides import OVERRIDES, body, withdraw_all_consent
from tests.audit_helpers import events
from tests.conftest import ADVISER, COACH, HOUSING, IG, Demo

SAR = "/api/v1/subjects/{}/sar-export?purpose={}"
JCP_IG = "morgan.ellis@jcp-derby.example"


def jcp_ig(rt: Runtime) -> None:
    """An IG officer at Jobcentre Plus, party to both Derby protocols (and lead of Lee's case)."""
    with rt.session_factory() as s:
        identity.add_or_update_staff(s, protocols=rt.protocols, email=JCP_IG,
                                     name="Morgan Ellis", org="jcp-derby", roles=["ig_officer"],
                                     now=rt.now())
        s.commit()


def unzip(r: Any) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(r.data)) as bundle:
        return {name: bundle.read(name) for name in bundle.namelist()}


def exported(rt: Runtime, r: Any) -> Any:
    [event] = [e for e in events(rt, type="subject:sar:export")
               if e.request_id == r.headers["X-Request-ID"]]
    return event


def test_ig_officer_downloads_a_zip_bundle_of_everything_in_their_reach_and_it_is_audited(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    read = client.get(f"/api/v1/subjects/{demo.lee}/case-plan?purpose=case_management",
                      headers=auth(COACH))
    assert read.status_code == 200

    r = client.get(SAR.format(demo.lee, "subject_access"), headers=auth(IG))
    assert r.status_code == 200, r.data[:300]
    assert r.mimetype == "application/zip" and r.headers["Cache-Control"] == "no-store"
    assert r.headers["Content-Disposition"] == (
        f'attachment; filename="sar-{demo.lee}-20261123.zip"')
    files = unzip(r)
    assert set(files) == {"README.txt", "manifest.json", "record.json", "case_plan.json",
                          "referrals.json", "consents.json", "overrides.json",
                          "disclosures.json", "disclosures.csv"}
    manifest = json.loads(files["manifest.json"])
    for name, digest in manifest["files"].items():
        assert hashlib.sha256(files[name]).hexdigest() == digest

    # The export is one committed audit event naming the IG officer and the categories opened.
    event = exported(rt, r)
    assert manifest["audit_event_id"] == str(event.event_uuid)
    assert event.subject_id == demo.lee and event.decision == "allow"
    assert event.org == "derby-housing" and event.role == "ig_officer"
    assert event.purpose == "subject_access" and event.details["format"] == "zip"
    assert event.categories == ["contact", "employment", "housing_tenancy", "identity"]
    assert "Lee" not in json.dumps(event.details)

    record = json.loads(files["record.json"])["record"]
    assert record["identity"] == {"given_name": "Lee", "family_name": "Marsh",
                                  "date_of_birth": "1987-03-14", "nino": "QQ123456C",
                                  "postcode": "DE1 2AA"}
    # Derby Housing's IG officer covers the Derby support partnership; the treatment
    # provider's records (another protocol) are not opened, and the README says to pass it on.
    assert manifest["organisations_covered"] == ["ca-derby", "derby-housing", "jcp-derby"]
    assert manifest["other_controllers"] == ["recovery-partnership"]
    assert b"recovery-partnership" in files["README.txt"]
    plan = json.loads(files["case_plan.json"])["case_plan"]
    titles = {e["title"] for e in plan["entries"]}
    assert "Agree a rent arrears repayment plan" in titles
    assert "Update CV with work coach" in titles
    assert "Attend weekly alcohol recovery group" not in titles
    assert all(e["history"] and e["history"][0]["action"] == "create" for e in plan["entries"])

    [consent] = json.loads(files["consents.json"])["consents"]
    assert consent["evidence"] == {"method": "e_signature", "evidence_ref": "DOC-2026-0412",
                                   "verified": True}
    assert consent["explicit_statement"].startswith("I explicitly agree")
    assert consent["given_by"]["type"] == "self" and consent["status"] == "active"

    disclosures = json.loads(files["disclosures.json"])["disclosures"]
    coach_read = [d for d in disclosures if d["type"] == "case_plan:plan:read"]
    assert coach_read and coach_read[0]["actor_name"] == "Sam Okafor"
    assert coach_read[0]["org"] == "jcp-derby" and coach_read[0]["purpose"] == "case_management"
    rows = list(csv.DictReader(io.StringIO(files["disclosures.csv"].decode())))
    assert [row["event_id"] for row in rows] == [d["event_id"] for d in disclosures]
    assert event.details["counts"] == {"referrals": 0, "consents": 1, "overrides": 0,
                                       "disclosures": len(disclosures), "entries": 3}


def test_every_category_proxies_withdrawals_referrals_and_overrides_as_one_json_document(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    jcp_ig(rt)
    # A referral for Kerry, and a reviewed break-glass override for Lee.
    referral = client.post(f"/api/v1/subjects/{demo.kerry}/referrals?purpose=case_management",
                           headers=auth(COACH), json={
                               "to_org": "ca-derby", "purpose": "budgeting_support",
                               "message": "Needs help with a monthly budget before payday.",
                               "contact_name": "Aisha Begum"})
    assert referral.status_code == 201, referral.json
    withdraw_all_consent(client, auth, demo.lee)
    override = client.post(OVERRIDES.format(demo.lee, "tenancy_sustainment"), json=body(),
                           headers=auth(HOUSING)).json
    note = "Welfare visit was needed; proportionate to the risk reported."
    assert client.post(f"/api/v1/overrides/{override['id']}/review?purpose=audit",
                       json={"outcome": "justified", "note": note},
                       headers=auth(IG)).status_code == 200

    r = client.get(SAR.format(demo.lee, "subject_access"),
                   headers={**auth(JCP_IG), "Accept": "application/json"})
    assert r.status_code == 200 and r.mimetype == "application/json"
    assert r.headers["Content-Disposition"].endswith('.json"')
    doc = r.json
    assert doc["status"] == "active" and doc["other_controllers"] == []
    # Party to both protocols: every category, the treatment note included.
    categories = {e["category"] for e in doc["case_plan"]["entries"]}
    assert categories == {"employment", "housing_tenancy", "substance_misuse"}
    [o] = doc["overrides"]
    assert o["justification"].startswith("Neighbour reported") and o["review_note"] == note
    assert o["status"] == "justified" and o["requested_by_name"] == "Priya Sharma"
    assert o["reviewed_by_name"] == "Grace Hughes"
    [consent] = doc["consents"]
    assert consent["status"] == "withdrawn" and consent["withdrawals"][0]["channel"] == "phone"
    # The seed's plan creation is one event (a create answers from what it wrote, with no
    # second, read event).
    assert {d["type"] for d in doc["disclosures"]} >= {"access:override:grant",
                                                       "case_plan:plan:create"}
    event = exported(rt, r)
    assert event.details["format"] == "json" and event.org == "jcp-derby"
    assert "substance_misuse" in event.categories
    assert str(event.event_uuid) == doc["audit_event_id"]

    kerry = client.get(SAR.format(demo.kerry, "subject_access"),
                       headers={**auth(JCP_IG), "Accept": "application/json"}).json
    [sent] = kerry["referrals"]
    assert sent["message"] == "Needs help with a monthly budget before payday."
    assert sent["to_org"] == "ca-derby" and sent["status"] == "open"

    rhian = next(line.split()[3] for line in demo.lines if "Rhian" in line)
    proxy = client.get(SAR.format(rhian, "subject_access"),
                       headers={**auth(JCP_IG), "Accept": "application/json"}).json
    [appointee] = proxy["consents"]
    assert appointee["given_by"] == {"type": "dwp_appointee", "name": "Gwen Price",
                                     "authority_ref": "BF56-2026-0345"}
    assert appointee["status"] == "partially_withdrawn"
    assert appointee["withdrawals"][0]["scope"] == {"recipients": ["ca-derby"]}
    assert appointee["withdrawals"][0]["reason"].startswith("Appointee now manages")


def test_an_erased_claimant_is_reported_erased_with_no_plaintext(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    jcp_ig(rt)
    erase = client.post(f"/api/v1/subjects/{demo.lee}/erasure?purpose=subject_access",
                        json={"reason": "subject_request", "reference": "SAR-2026-0041"},
                        headers=auth(JCP_IG))
    assert erase.status_code == 200, erase.json

    r = client.get(SAR.format(demo.lee, "subject_access"), headers=auth(JCP_IG))
    assert r.status_code == 200
    files = unzip(r)
    everything = b"".join(files.values())
    for secret in (b"Lee", b"Marsh", b"QQ123456C", b"DOC-2026-0412", b"alcohol",
                   b"I explicitly agree"):
        assert secret not in everything
    manifest = json.loads(files["manifest.json"])
    assert manifest["status"] == "erased" and manifest["erased_at"] == "2026-11-23T09:30:00Z"
    assert b"was erased" in files["README.txt"]
    assert json.loads(files["record.json"]) == {"record": None}
    assert json.loads(files["consents.json"]) == {"consents": None}
    assert json.loads(files["disclosures.json"])["disclosures"]  # ids and codes remain
    event = exported(rt, r)
    assert event.categories == [] and event.details["status"] == "erased"


def test_front_line_staff_are_refused_with_an_audited_403(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    for email, purpose in ((COACH, "case_management"), (ADVISER, "subject_access")):
        r = client.get(SAR.format(demo.lee, purpose), headers=auth(email))
        assert r.status_code == 403 and r.json["reasons"] == ["insufficient_scope"]
        [denied] = [e for e in events(rt) if str(e.event_uuid) == r.json["audit_id"]]
        assert denied.decision == "deny" and denied.type == "access:scope:deny"
    assert events(rt, type="subject:sar:export") == []


def test_an_ig_officer_under_the_audit_purpose_is_refused_and_audited(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    r = client.get(SAR.format(demo.lee, "audit"), headers=auth(IG))
    assert r.status_code == 403 and r.json["reasons"] == ["role_not_granted"]
    [denied] = [e for e in events(rt) if str(e.event_uuid) == r.json["audit_id"]]
    assert denied.type == "access:audit:deny" and denied.subject_id == demo.lee
    assert events(rt, type="subject:sar:export") == []


def test_an_unknown_subject_is_404_and_audited(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    missing = uuid.uuid4()
    r = client.get(SAR.format(missing, "subject_access"), headers=auth(IG))
    assert r.status_code == 404
    [denied] = [e for e in events(rt) if str(e.event_uuid) == r.json["audit_id"]]
    assert denied.subject_id == missing and denied.reasons == ["no_case_relationship"]
    assert events(rt, type="subject:sar:export") == []


def test_a_referral_under_a_protocol_the_ig_officers_organisation_is_not_party_to_stays_out(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    jcp_ig(rt)
    r = client.post(f"/api/v1/subjects/{demo.lee}/referrals?purpose=case_management",
                    headers=auth(COACH), json={
                        "to_org": "recovery-partnership", "purpose": "recovery_support",
                        "message": "Lee asks to move his group to Thursdays.",
                        "contact_name": "Dan Whitfield"})
    assert r.status_code == 201, r.json
    housing_ig = client.get(SAR.format(demo.lee, "subject_access"),
                            headers={**auth(IG), "Accept": "application/json"}).json
    assert housing_ig["referrals"] == []
    assert "Thursdays" not in json.dumps(housing_ig)
    jcp = client.get(SAR.format(demo.lee, "subject_access"),
                     headers={**auth(JCP_IG), "Accept": "application/json"}).json
    assert [x["message"] for x in jcp["referrals"]] == ["Lee asks to move his group to Thursdays."]
