"""Consent is not made cheaply: explicit consent is the form's own statement, each method has
evidence rules that refuse placeholders, consent never starts before it is recorded, and a
recipient the claimant withdrew from recently is re-granted only on a signature, with the lead
organisation and its IG officers told."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from caseshare.consent.models import Consent
from caseshare.notifications.models import Notification
from caseshare.runtime import Runtime
from tests.audit_helpers import events
from tests.builders import CONSENTS, TREATMENT, assert_problem, consent_body, consent_state
from tests.conftest import ADVISER, COACH, Clock, Demo

WELSH = ("Rwy'n cytuno'n benodol y caiff gwybodaeth am fy nhriniaeth cyffuriau neu alcohol ei "
         "rhannu â'r sefydliadau a ddewisais, am y rhesymau a ddewisais.")
SPECIAL = {"recipients": ["recovery-partnership"], "purposes": ["recovery_support"],
           "categories": ["identity", "substance_misuse"]}


def _refused(client: FlaskClient, auth: Any, demo: Demo, rt: Runtime, field: str,
             body: dict[str, Any]) -> Any:
    before = consent_state(rt)
    r = client.post(CONSENTS.format(demo.lee), headers=auth(COACH), json=body)
    assert_problem(r, 422, field)
    assert consent_state(rt) == before  # nothing written
    assert not [e for e in events(rt, type="consent:record:create")
                if e.request_id == r.headers["X-Request-ID"]]
    return r


@pytest.mark.parametrize("statement", [
    ".", "I agree", "I explicitly agree that my treatment information may be shared.", WELSH])
def test_explicit_consent_must_be_the_forms_own_statement(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime, statement: str
) -> None:
    _refused(client, auth, demo, rt, "explicit_statement",
             consent_body(**SPECIAL, explicit_statement=statement))


def test_the_forms_statement_is_accepted_and_recorded_as_confirmed(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    form = client.get("/api/v1/consent-forms/derby-multi-agency/1?lang=cy", headers=auth(COACH))
    assert form.json["explicit_statement"] == WELSH
    # Line breaks and spacing as the form file folds them do not matter; the words do.
    r = client.post(CONSENTS.format(demo.lee), headers=auth(COACH), json=consent_body(
        **SPECIAL, explicit_statement=TREATMENT.replace(" may be ", "\nmay  be ")))
    assert r.status_code == 201, r.json
    assert r.json["explicit"] is True
    with rt.session_factory() as s:
        row = s.get(Consent, r.json["id"] and __import__("uuid").UUID(r.json["id"]))
        assert row is not None and row.explicit_confirmed and row.explicit_statement_sha256
    [event] = [e for e in events(rt, type="consent:record:create")
               if e.request_id == r.headers["X-Request-ID"]]
    assert event.decision == "allow"
    assert event.details["explicit_statement_sha256"] == row.explicit_statement_sha256
    # In Welsh, the Welsh words.
    cy = client.post(CONSENTS.format(demo.lee), headers=auth(COACH), json=consent_body(
        **SPECIAL, language="cy", explicit_statement=WELSH))
    assert cy.status_code == 201, cy.json


@pytest.mark.parametrize(("method", "evidence"), [
    ("e_signature", "x"), ("e_signature", "n/a"), ("e_signature", "-"), ("e_signature", "."),
    ("e_signature", "XXXX"), ("e_signature", "1111"), ("e_signature", "ab"),
    ("e_signature", "----"), ("e_signature", "DOCUMENT"), ("wet_signature", "TBC"),
    ("wet_signature", None), ("e_signature", None), ("interpreter", None),
    ("interpreter", "x"), ("verbal_phone", "x"), ("verbal_phone", "CALL-55421"),
    ("verbal_in_person", "none"), ("online", "?"),
])
def test_each_method_refuses_missing_or_placeholder_evidence(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime, method: str, evidence: str | None
) -> None:
    body = consent_body(method=method, evidence_ref=evidence)
    if evidence is None:
        del body["evidence_ref"]
    _refused(client, auth, demo, rt, "evidence_ref", body)


@pytest.mark.parametrize(("method", "evidence"), [
    ("e_signature", "DOC-77"), ("wet_signature", "SCAN-2026-11-0077"),
    ("interpreter", "INT-REG-4410"), ("verbal_phone", "CALL-55421 at 14:05"),
    ("verbal_in_person", "NOTE-2026-118"), ("online", "WEB-99812"),
])
def test_real_evidence_is_accepted(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime, method: str, evidence: str
) -> None:
    r = client.post(CONSENTS.format(demo.lee), headers=auth(COACH),
                    json=consent_body(method=method, evidence_ref=evidence))
    assert r.status_code == 201, r.json
    assert r.json["verified"] is True
    assert len([e for e in events(rt, type="consent:record:create")
                if e.request_id == r.headers["X-Request-ID"]]) == 1


def test_valid_from_is_never_before_the_moment_of_recording(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime, clock: Clock
) -> None:
    _refused(client, auth, demo, rt, "valid_from",
             consent_body(valid_from=(clock.now - timedelta(minutes=5)).isoformat()))
    r = client.post(CONSENTS.format(demo.lee), headers=auth(COACH),
                    json=consent_body(valid_from=clock.now.isoformat()))
    assert r.status_code == 201, r.json


def _withdraw_ca_from_kerry(client: FlaskClient, auth: Any, demo: Demo) -> None:
    kerry = client.get(CONSENTS.format(demo.kerry), headers=auth(COACH)).json["items"][0]
    r = client.post(f"/api/v1/consents/{kerry['id']}/withdrawal?purpose=case_management",
                    headers=auth(COACH),
                    json={"channel": "phone", "scope": {"recipients": ["ca-derby"]}})
    assert r.status_code == 200, r.json


def _regrant(**changes: Any) -> dict[str, Any]:
    return consent_body(recipients=["ca-derby"], purposes=["budgeting_support"],
                        categories=["finances"], **changes)


def test_regranting_a_recently_withdrawn_recipient_needs_a_signature(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime, clock: Clock
) -> None:
    _withdraw_ca_from_kerry(client, auth, demo)
    clock.advance(days=2)
    before = consent_state(rt)
    for method, evidence in (("verbal_phone", "CALL-88121 at 10:02"),
                             ("interpreter", "INT-REG-4410"), ("online", "WEB-99812")):
        r = client.post(CONSENTS.format(demo.kerry), headers=auth(ADVISER),
                        json=_regrant(method=method, evidence_ref=evidence))
        assert_problem(r, 422, "method")
    assert consent_state(rt) == before

    r = client.post(CONSENTS.format(demo.kerry), headers=auth(ADVISER),
                    json=_regrant(method="wet_signature", evidence_ref="SCAN-2026-12-0101"))
    assert r.status_code == 201, r.json
    with rt.session_factory() as s:
        notes = s.scalars(select(Notification).where(
            Notification.type == "consent_regranted_after_withdrawal")).all()
    assert {(n.org_id, n.role) for n in notes} == {("jcp-derby", None),
                                                    ("jcp-derby", "ig_officer")}
    assert {str(n.consent_id) for n in notes} == {r.json["id"]}
    assert all(n.subject_id == demo.kerry and n.details["recipients"] == ["ca-derby"]
               for n in notes)
    [event] = [e for e in events(rt, type="consent:record:create")
               if e.request_id == r.headers["X-Request-ID"]]
    assert event.details["regranted_after_withdrawal"] == ["ca-derby"]
    assert sorted(event.details["notified"]) == ["jcp-derby:ig_officer", "jcp-derby:org"]


def test_after_the_cooling_period_any_method_will_do_and_no_one_is_notified(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime, clock: Clock
) -> None:
    _withdraw_ca_from_kerry(client, auth, demo)
    clock.advance(days=31)  # the shipped protocols keep the default of 30 days
    assert rt.protocols.consent_cooling_days("ca-derby") == 30
    r = client.post(CONSENTS.format(demo.kerry), headers=auth(ADVISER),
                    json=_regrant(method="verbal_phone", evidence_ref="CALL-88121 at 10:02",
                                  expires_at=(clock.now + timedelta(days=60)).isoformat()))
    assert r.status_code == 201, r.json
    with rt.session_factory() as s:
        assert not s.scalars(select(Notification).where(
            Notification.type == "consent_regranted_after_withdrawal")).all()
