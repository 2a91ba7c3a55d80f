"""The single claimant journey end to end, on both engines: the work coach creates the plan and
refers to the treatment provider with consent; the provider accepts and adds a recovery action;
the housing officer joins, sees tenancy actions but not treatment details; the claimant
withdraws consent for housing and the housing officer loses access at once."""

from __future__ import annotations

import uuid
from typing import Any

from flask.testing import FlaskClient

from caseshare.runtime import Runtime
from tests.audit_helpers import events
from tests.builders import consent, refer, register
from tests.conftest import COACH, HOUSING, KEY_WORKER, Clock

RECOVERY_TITLE = "Attend the Tuesday alcohol recovery group"


def _plan(client: FlaskClient, headers: dict[str, str], subject: str, purpose: str) -> Any:
    r = client.get(f"/api/v1/subjects/{subject}/case-plan?purpose={purpose}", headers=headers)
    assert r.status_code == 200, r.json
    return r


def _accept(client: FlaskClient, headers: dict[str, str], purpose: str) -> dict[str, Any]:
    inbox = client.get(f"/api/v1/referrals?status=open&purpose={purpose}", headers=headers)
    assert inbox.status_code == 200, inbox.json
    [item] = inbox.json["items"]
    r = client.post(f"/api/v1/referrals/{item['id']}/accept?purpose={purpose}", headers=headers)
    assert r.status_code == 200, r.json
    assert r.json["status"] == "accepted"
    return dict(r.json)


def test_single_claimant_journey(client: FlaskClient, auth: Any, rt: Runtime,
                                 clock: Clock) -> None:
    coach, key_worker, housing = auth(COACH), auth(KEY_WORKER), auth(HOUSING)

    # The work coach registers the claimant, records their consent and starts the plan.
    subject = register(client, coach)
    consent_id = consent(client, coach, subject, clock.now)
    plan = client.post(f"/api/v1/subjects/{subject}/case-plan?purpose=case_management",
                       headers=coach, json={"entries": [
                           {"kind": "goal", "category": "employment",
                            "title": "Ready for a work placement by spring"}]})
    assert plan.status_code == 201, plan.json
    assert plan.json["members"] == ["jcp-derby"]

    # Before any referral the treatment provider is not part of the case: it reads nothing.
    before = _plan(client, key_worker, subject, "recovery_support")
    assert before.json["entries"] == []
    assert {w["reasons"][0] for w in before.json["withheld"]} == {"no_case_relationship"}

    # Warm handover to the treatment provider: named contact, appointment, consent checked.
    r = refer(client, coach, subject, "recovery-partnership", "recovery_support", clock.now)
    assert r.status_code == 201, r.json
    assert r.json["status"] == "open" and r.json["contact_name"] == "Sam Okafor"
    created = events(rt, type="referral:referral:create", subject_id=uuid.UUID(subject))
    assert [e.decision for e in created] == ["allow"]
    assert str(created[0].consent_id) == consent_id
    assert created[0].details["referral_id"] == r.json["id"]

    accepted = _accept(client, key_worker, "recovery_support")
    assert accepted["message"].startswith("Jordan would like help")
    accept_events = events(rt, type="referral:referral:accept", subject_id=uuid.UUID(subject))
    assert [e.decision for e in accept_events] == ["allow"]
    assert accept_events[0].org == "recovery-partnership"

    # The provider is now a case member and adds a recovery action (special category).
    action = client.post(f"/api/v1/subjects/{subject}/case-plan/entries?purpose=case_management",
                         headers=key_worker, json={
                             "kind": "action", "category": "substance_misuse",
                             "title": RECOVERY_TITLE, "owner_name": "Dan Whitfield",
                             "detail": "Prescribing review in January.",
                             "due_on": "2026-12-15", "status": "in_progress"})
    assert action.status_code == 201, action.json
    coach_view = _plan(client, coach, subject, "case_management")
    assert RECOVERY_TITLE in {e["title"] for e in coach_view.json["entries"]}
    assert sorted(coach_view.json["members"]) == ["jcp-derby", "recovery-partnership"]

    # The housing officer joins through a second referral, then adds a tenancy action.
    r = refer(client, coach, subject, "derby-housing", "tenancy_sustainment", clock.now)
    assert r.status_code == 201, r.json
    _accept(client, housing, "tenancy_sustainment")
    tenancy = client.post(
        f"/api/v1/subjects/{subject}/case-plan/entries?purpose=tenancy_sustainment",
        headers=housing, json={"kind": "action", "category": "housing_tenancy",
                               "title": "Set up an Alternative Payment Arrangement",
                               "owner_name": "Priya Sharma"})
    assert tenancy.status_code == 201, tenancy.json

    # Housing sees tenancy and employment actions, never treatment details.
    view = _plan(client, housing, subject, "tenancy_sustainment")
    shown = {e["category"] for e in view.json["entries"]}
    assert shown == {"housing_tenancy", "employment"}
    withheld = {w["category"]: w["reasons"] for w in view.json["withheld"]}
    assert "substance_misuse" in withheld
    assert RECOVERY_TITLE not in view.get_data(as_text=True)
    assert "Prescribing" not in view.get_data(as_text=True)
    read = [e for e in events(rt, type="case_plan:plan:read", subject_id=uuid.UUID(subject))
            if e.request_id == view.headers["X-Request-ID"]]
    assert {e.decision for e in read} == {"allow", "deny"}
    assert "substance_misuse" in next(e for e in read if e.decision == "deny").categories

    # The claimant withdraws consent for housing only (a partial withdrawal).
    w = client.post(f"/api/v1/consents/{consent_id}/withdrawal?purpose=case_management",
                    headers=coach, json={"channel": "phone",
                                         "scope": {"recipients": ["derby-housing"]}})
    assert w.status_code == 200, w.json
    assert w.json["status"] == "partially_withdrawn"

    # At once: housing loses everything it did not write itself.
    after = _plan(client, housing, subject, "tenancy_sustainment")
    assert {e["title"] for e in after.json["entries"]} == {
        "Set up an Alternative Payment Arrangement"}  # its own entry, read back
    withheld = {w["category"]: w["reasons"] for w in after.json["withheld"]}
    assert withheld["employment"] == ["consent_withdrawn"]
    assert "work placement" not in after.get_data(as_text=True)
    deny = [e for e in events(rt, type="case_plan:plan:read", subject_id=uuid.UUID(subject))
            if e.request_id == after.headers["X-Request-ID"] and e.decision == "deny"]
    assert len(deny) == 1 and "consent_withdrawn" in deny[0].reasons
    identity = client.get(f"/api/v1/subjects/{subject}?purpose=tenancy_sustainment",
                          headers=housing)
    assert identity.status_code == 200
    assert "given_name" not in identity.json
    assert {w["category"]: w["reasons"] for w in identity.json["withheld"]}["identity"] == [
        "consent_withdrawn"]

    # The others are unaffected: the work coach still sees the recovery action.
    still = _plan(client, coach, subject, "case_management")
    assert RECOVERY_TITLE in {e["title"] for e in still.json["entries"]}
