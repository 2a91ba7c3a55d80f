"""NINO lookup through the keyed blind index, and erasure by crypto-shredding."""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import quote

from flask import Flask
from flask.testing import FlaskClient

from caseshare.case_plan.models import Referral
from caseshare.identity import service as identity
from caseshare.runtime import Runtime
from caseshare.subjects.models import Subject
from tests.audit_helpers import events
from tests.builders import assert_problem, consent, refer, register
from tests.conftest import COACH, IG, KEY_WORKER, Clock, Demo

JCP_IG = "morgan.ellis@jcp-derby.example"


def _find(client: FlaskClient, headers: dict[str, str], nino: str) -> list[str]:
    r = client.get(f"/api/v1/subjects?purpose=case_management&nino={quote(nino)}",
                   headers=headers)
    assert r.status_code == 200, r.json
    return [i["id"] for i in r.json["items"]]


def _all_audit_text(rt: Runtime) -> str:
    return json.dumps([{"details": e.details, "reasons": e.reasons, "categories": e.categories}
                       for e in events(rt)])


def test_nino_lookup_by_blind_index_with_normalised_input(
    client: FlaskClient, auth: Any, rt: Runtime
) -> None:
    coach = auth(COACH)
    subject = register(client, coach, nino="AB 12 34 56 C")
    for typed in ("AB123456C", "ab123456c", " ab 12 34 56 c ", "Ab12 3456C"):
        assert _find(client, coach, typed) == [subject], typed
    assert _find(client, coach, "AB123456D") == []
    # Another organisation that does not work with the claimant finds nothing.
    assert _find(client, auth(KEY_WORKER), "AB123456C") == []
    bad = client.get("/api/v1/subjects?purpose=case_management&nino=12345", headers=coach)
    assert "nino" in assert_problem(bad, 422)["errors"]

    with rt.session_factory() as s:
        row = s.get(Subject, uuid.UUID(subject))
        assert row is not None and row.nino is not None and row.nino_index is not None
        assert row.nino.startswith(b"cs1:dk1:") and b"123456" not in row.nino
        assert len(row.nino_index) == 64 and "123456" not in row.nino_index
    searches = events(rt, type="subject:search:nino")
    assert len(searches) == 6 and {e.decision for e in searches} == {"allow"}
    assert "123456" not in _all_audit_text(rt)


def _jcp_ig(rt: Runtime) -> None:
    with rt.session_factory() as s:
        identity.add_or_update_staff(s, protocols=rt.protocols, email=JCP_IG,
                                     name="Morgan Ellis", org="jcp-derby", roles=["ig_officer"],
                                     now=rt.now())
        s.commit()


def test_erasure_shreds_the_key_leaves_a_tombstone_and_later_reads_say_erased(
    app: Flask, client: FlaskClient, auth: Any, rt: Runtime, clock: Clock
) -> None:
    coach = auth(COACH)
    subject = register(client, coach, nino="AB 12 34 56 C")
    consent(client, coach, subject, clock.now)
    plan = client.post(f"/api/v1/subjects/{subject}/case-plan?purpose=case_management",
                       headers=coach, json={"entries": [
                           {"kind": "goal", "category": "employment", "title": "Find work"}]})
    entry_id = plan.json["entries"][0]["id"]
    referral_id = refer(client, coach, subject, "recovery-partnership", "recovery_support",
                        clock.now).json["id"]
    _jcp_ig(rt)
    url = f"/api/v1/subjects/{subject}/erasure?purpose={{}}"
    body = {"reason": "subject_request", "reference": "SAR-2026-0041"}

    # Front-line staff cannot erase; nor can another organisation's IG officer, nor the lead
    # organisation's IG officer acting for the wrong purpose. Every refusal is audited.
    assert assert_problem(client.post(url.format("case_management"), headers=coach, json=body),
                          403)["reasons"] == ["insufficient_scope"]
    other = assert_problem(client.post(url.format("subject_access"), headers=auth(IG),
                                       json=body), 403)
    assert other["reasons"] == ["not_lead_controller"]
    wrong = assert_problem(client.post(url.format("audit"), headers=auth(JCP_IG), json=body), 403)
    assert wrong["reasons"] == ["erasure_requires_subject_access"]
    denied = [e for e in events(rt, type="subject:record:erase") if e.decision == "deny"]
    assert {str(e.event_uuid) for e in denied} == {other["audit_id"], wrong["audit_id"]}
    bad = client.post(url.format("subject_access"), headers=auth(JCP_IG),
                      json={"reason": "Jordan asked us to"})
    assert "reason" in assert_problem(bad, 422)["errors"]

    r = client.post(url.format("subject_access"), headers=auth(JCP_IG), json=body)
    assert r.status_code == 200, r.json
    assert r.json["status"] == "erased" and r.json["id"] == subject
    [erased] = [e for e in events(rt, type="subject:record:erase") if e.decision == "allow"]
    assert erased.org == "jcp-derby" and erased.details["reason"] == "subject_request"
    assert erased.details["referrals_suspended"] == [referral_id]

    # The tombstone: id and erasure time stay; the key and the blind index are gone; the
    # ciphertext that remains can never be opened.
    with rt.session_factory() as s:
        row = s.get(Subject, uuid.UUID(subject))
        assert row is not None and row.erased_at is not None
        assert row.dek_wrapped is None and row.nino_index is None
        assert row.name_dob_index is None  # no longer findable by name either
        assert row.given_name is not None and row.given_name.startswith(b"cs1:")
        referral = s.get(Referral, uuid.UUID(referral_id))
        assert referral is not None and referral.status == "suspended"
        assert referral.suspended_reasons == ["subject_erased"]

    # Every later read is a clear 410 "erased", never garbage or a 500.
    reads = [
        client.get(f"/api/v1/subjects/{subject}?purpose=case_management", headers=coach),
        client.get(f"/api/v1/subjects/{subject}/case-plan?purpose=case_management",
                   headers=coach),
        client.patch(f"/api/v1/subjects/{subject}/case-plan/entries/{entry_id}"
                     "?purpose=case_management",
                     headers={**coach, "If-Match": plan.headers["ETag"]}, json={"status": "done"}),
        client.get(f"/api/v1/subjects/{subject}/case-plan/entries/{entry_id}/history"
                   "?purpose=case_management", headers=coach),
        client.post(url.format("subject_access"), headers=auth(JCP_IG), json=body),
    ]
    for read in reads:
        problem = assert_problem(read, 410)
        assert problem["type"].endswith("/erased")
    later = [e for e in events(rt, type="access:subject:deny", subject_id=uuid.UUID(subject))]
    assert len(later) == len(reads) and all(e.reasons == ["subject_erased"] for e in later)
    assert _find(client, coach, "AB123456C") == []
    inbox = client.get("/api/v1/referrals?purpose=recovery_support", headers=auth(KEY_WORKER))
    assert inbox.status_code == 200
    [item] = inbox.json["items"]
    assert item["status"] == "suspended" and item["message"] is None

    # No personal data reached the audit log, and the log still verifies.
    text = _all_audit_text(rt)
    assert "Jordan" not in text and "Ashby" not in text and "123456" not in text
    runner = app.test_cli_runner()
    sealed = runner.invoke(args=["caseshare", "audit", "seal"])
    assert sealed.exit_code == 0, sealed.output
    verified = runner.invoke(args=["caseshare", "audit", "verify"])
    assert verified.exit_code == 0, verified.output
    assert verified.output.startswith("OK:")


def test_demo_claimant_is_found_by_the_specimen_nino_from_the_readme(
    client: FlaskClient, auth: Any, demo: Demo
) -> None:
    assert _find(client, auth(COACH), "QQ123456C") == [str(demo.lee)]
    assert _find(client, auth(COACH), "qq 65 43 21 a") == [str(demo.kerry)]
