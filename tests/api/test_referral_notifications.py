"""Referral notifications (`referral_received` to the receiving organisation, `referral_updated`
to the sending one on accept, decline and suspension) and the fields the referral boxes gained:
who sent it, the status history, and the claimant's name where the caller may see it."""

from __future__ import annotations

import uuid
from typing import Any

from flask.testing import FlaskClient

from caseshare.runtime import Runtime
from tests.audit_helpers import events
from tests.builders import consent, refer, register
from tests.conftest import ADVISER, COACH, HOUSING, KEY_WORKER, Clock

RECOVERY = ("recovery-partnership", "recovery_support")
NOTES = "/api/v1/notifications?purpose={}"


def _notes(client: FlaskClient, headers: dict[str, str], purpose: str,
           type: str) -> list[dict[str, Any]]:
    r = client.get(NOTES.format(purpose), headers=headers)
    assert r.status_code == 200, r.json
    return [n for n in r.json["items"] if n["type"] == type]


def _referred(client: FlaskClient, auth: Any, clock: Clock) -> tuple[str, str, str]:
    coach = auth(COACH)
    subject = register(client, coach)
    consent_id = consent(client, coach, subject, clock.now)
    r = refer(client, coach, subject, *RECOVERY, clock.now)
    assert r.status_code == 201, r.json
    return subject, consent_id, str(r.json["id"])


def test_a_new_referral_notifies_the_receiving_organisation_only(
    client: FlaskClient, auth: Any, clock: Clock
) -> None:
    subject, _consent_id, rid = _referred(client, auth, clock)
    [received] = _notes(client, auth(KEY_WORKER), "recovery_support", "referral_received")
    assert received["subject_id"] == subject and received["read"] is False
    assert received["details"] == {"referral_id": rid, "from_org": "jcp-derby",
                                   "purpose": "recovery_support"}  # codes and ids only
    assert _notes(client, auth(COACH), "case_management", "referral_received") == []
    assert _notes(client, auth(HOUSING), "tenancy_sustainment", "referral_received") == []
    assert _notes(client, auth(ADVISER), "budgeting_support", "referral_received") == []
    assert _notes(client, auth(COACH), "case_management", "referral_updated") == []


def test_accepting_notifies_the_sender_and_the_boxes_carry_sender_and_history(
    client: FlaskClient, auth: Any, rt: Runtime, clock: Clock
) -> None:
    subject, _consent_id, rid = _referred(client, auth, clock)
    key_worker = auth(KEY_WORKER)
    # Before accepting, the receiving organisation sees who the claimant is (a warm handover,
    # under the referral's basis) and who sent it.
    [item] = client.get("/api/v1/referrals?purpose=recovery_support",
                        headers=key_worker).json["items"]
    assert item["claimant_name"] == "Jordan Ashby" and item["claimant_withheld"] == []
    assert item["sent_by"] == {"name": "Sam Okafor", "email": COACH, "org": "jcp-derby"}
    assert [t["type"] for t in item["timeline"]] == ["created"]
    [read] = events(rt, type="referral:referral:read", subject_id=uuid.UUID(subject))
    assert "identity" in read.categories and read.details["claimant_named"] is True
    assert "Jordan" not in str(read.details)

    clock.advance(minutes=1)
    r = client.post(f"/api/v1/referrals/{rid}/accept?purpose=recovery_support",
                    headers=key_worker)
    assert r.status_code == 200, r.json
    created, accepted = r.json["timeline"]
    assert created["type"] == "created" and created["actor_org"] == "jcp-derby"
    assert created["actor_name"] == "Sam Okafor"
    assert accepted["type"] == "accepted" and accepted["actor_org"] == "recovery-partnership"
    assert accepted["actor_name"] == "Dan Whitfield" and accepted["at"] > created["at"]

    [updated] = _notes(client, auth(COACH), "case_management", "referral_updated")
    assert updated["details"] == {"referral_id": rid, "status": "accepted",
                                  "to_org": "recovery-partnership"}
    assert updated["subject_id"] == subject
    assert _notes(client, key_worker, "recovery_support", "referral_updated") == []
    sent = client.get("/api/v1/referrals?box=sent&purpose=case_management",
                      headers=auth(COACH)).json["items"]
    assert [t["type"] for t in sent[0]["timeline"]] == ["created", "accepted"]
    assert sent[0]["claimant_name"] == "Jordan Ashby"  # the lead sees its own claimant


def test_declining_notifies_the_sender_with_the_status_only(
    client: FlaskClient, auth: Any, clock: Clock
) -> None:
    _subject, _consent_id, rid = _referred(client, auth, clock)
    r = client.post(f"/api/v1/referrals/{rid}/decline?purpose=recovery_support",
                    headers=auth(KEY_WORKER), json={"reason": "Already open in Ilkeston"})
    assert r.status_code == 200, r.json
    assert r.json["timeline"][-1]["note"] == "Already open in Ilkeston"
    [updated] = _notes(client, auth(COACH), "case_management", "referral_updated")
    assert updated["details"] == {"referral_id": rid, "status": "declined",
                                  "to_org": "recovery-partnership"}
    # The recipient no longer works with the claimant: the name is withheld, with a reason.
    [item] = client.get("/api/v1/referrals?purpose=recovery_support",
                        headers=auth(KEY_WORKER)).json["items"]
    assert item["status"] == "declined" and item["claimant_name"] is None
    assert item["claimant_withheld"]


def test_a_withdrawal_that_suspends_the_referral_notifies_the_sender(
    client: FlaskClient, auth: Any, clock: Clock
) -> None:
    subject, consent_id, rid = _referred(client, auth, clock)
    coach = auth(COACH)
    w = client.post(f"/api/v1/consents/{consent_id}/withdrawal?purpose=case_management",
                    headers=coach, json={"channel": "in_person",
                                         "scope": {"recipients": ["recovery-partnership"]}})
    assert w.status_code == 200, w.json
    [updated] = _notes(client, coach, "case_management", "referral_updated")
    assert updated["details"] == {"referral_id": rid, "status": "suspended",
                                  "to_org": "recovery-partnership"}
    assert updated["subject_id"] == subject
    [item] = client.get("/api/v1/referrals?purpose=recovery_support",
                        headers=auth(KEY_WORKER)).json["items"]
    assert item["claimant_name"] is None and item["message"] is None
    suspended = item["timeline"][-1]
    assert suspended["type"] == "suspended" and suspended["reasons"] == ["consent_withdrawn"]
    # Reading the box again suspends nothing new and notifies no one again.
    assert len(_notes(client, coach, "case_management", "referral_updated")) == 1
