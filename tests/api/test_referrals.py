"""Referrals: the protocol-flow and consent basis, the inbox, accept, decline, suspension."""

from __future__ import annotations

import uuid
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from caseshare.case_plan.models import Referral
from caseshare.runtime import Runtime
from caseshare.subjects.service import case_orgs
from tests.audit_helpers import events
from tests.builders import assert_problem, consent, refer, register
from tests.conftest import COACH, HOUSING, KEY_WORKER, Clock

RECOVERY = ("recovery-partnership", "recovery_support")


def _setup(client: FlaskClient, auth: Any, clock: Clock, **consent_overrides: Any) -> (
    tuple[str, str]
):
    coach = auth(COACH)
    subject = register(client, coach)
    return subject, consent(client, coach, subject, clock.now, **consent_overrides)


def _deny_event(rt: Runtime, subject: str, type: str = "referral:referral:create") -> Any:
    [event] = [e for e in events(rt, type=type, subject_id=uuid.UUID(subject))
               if e.decision == "deny"]
    return event


def test_referral_without_a_flow_between_the_organisations_is_refused_and_audited(
    client: FlaskClient, auth: Any, rt: Runtime, clock: Clock
) -> None:
    subject, _ = _setup(client, auth, clock)
    coach = auth(COACH)
    # jcp-derby may send to derby-housing for tenancy_sustainment, but not for recovery_support.
    r = refer(client, coach, subject, "derby-housing", "recovery_support", clock.now)
    body = assert_problem(r, 403)
    assert body["reasons"] == ["direction_not_permitted"]
    event = _deny_event(rt, subject)
    assert body["audit_id"] == str(event.event_uuid)
    assert event.details["to_org"] == "derby-housing"
    assert "alcohol" not in str(event.details)  # the message never reaches the audit body


def test_referral_to_an_organisation_the_consent_does_not_name_is_refused(
    client: FlaskClient, auth: Any, rt: Runtime, clock: Clock
) -> None:
    subject, _ = _setup(client, auth, clock, recipients=["jcp-derby", "derby-housing"])
    r = refer(client, auth(COACH), subject, *RECOVERY, clock.now)
    assert assert_problem(r, 403)["reasons"] == ["recipient_not_in_consent"]
    assert _deny_event(rt, subject).reasons == ["recipient_not_in_consent"]


def test_referral_for_a_purpose_the_consent_does_not_cover_is_refused(
    client: FlaskClient, auth: Any, rt: Runtime, clock: Clock
) -> None:
    subject, _ = _setup(client, auth, clock, purposes=["case_management"])
    r = refer(client, auth(COACH), subject, *RECOVERY, clock.now)
    assert assert_problem(r, 403)["reasons"] == ["purpose_not_consented"]
    assert _deny_event(rt, subject).reasons == ["purpose_not_consented"]


def test_a_referrer_outside_the_case_is_refused(
    client: FlaskClient, auth: Any, rt: Runtime, clock: Clock
) -> None:
    subject, _ = _setup(client, auth, clock)
    # The treatment provider is named in the consent but is not (yet) a case member.
    r = refer(client, auth(KEY_WORKER), subject, "jcp-derby", "case_management", clock.now)
    assert assert_problem(r, 403)["reasons"] == ["no_case_relationship"]
    assert _deny_event(rt, subject).org == "recovery-partnership"


def test_bad_referral_input_names_the_field(
    client: FlaskClient, auth: Any, rt: Runtime, clock: Clock
) -> None:
    subject, _ = _setup(client, auth, clock)
    coach = auth(COACH)
    url = f"/api/v1/subjects/{subject}/referrals?purpose=case_management"
    good = {"to_org": "recovery-partnership", "purpose": "recovery_support",
            "message": "Needs help", "contact_name": "Sam Okafor"}
    cases = [
        ({"to_org": "nobody-here"}, "to_org"),
        ({"to_org": "jcp-derby"}, "to_org"),
        ({"purpose": "sightseeing"}, "purpose"),
        ({"purpose": "audit"}, "purpose"),
        ({"appointment_at": "2020-01-01T09:00:00Z"}, "appointment_at"),
        ({"appointment_at": "2026-13-01T09:00:00Z"}, "appointment_at"),
        ({"appointment_at": "2026-12-01T09:00:00"}, "appointment_at"),  # no time zone
        ({"message": "x" * 4001}, "message"),
        ({"contact_name": ""}, "contact_name"),
    ]
    for change, field in cases:
        body = assert_problem(client.post(url, headers=coach, json={**good, **change}), 422)
        assert field in body["errors"], (change, body)
    missing = assert_problem(client.post(url, headers=coach, json={"to_org": "derby-housing"}), 422)
    assert {"purpose", "message", "contact_name"} <= set(missing["errors"])
    with rt.session_factory() as s:
        assert s.scalars(select(Referral)).all() == []  # nothing half-made


def test_message_and_contact_are_sealed_at_rest(
    client: FlaskClient, auth: Any, rt: Runtime, clock: Clock
) -> None:
    subject, _ = _setup(client, auth, clock)
    r = refer(client, auth(COACH), subject, *RECOVERY, clock.now)
    assert r.status_code == 201
    with rt.session_factory() as s:
        row = s.get(Referral, uuid.UUID(r.json["id"]))
        assert row is not None
        assert row.message.startswith(b"cs1:dk1:") and b"alcohol" not in row.message
        assert row.contact_name.startswith(b"cs1:dk1:") and b"Okafor" not in row.contact_name


def test_duplicate_open_referral_is_a_conflict(
    client: FlaskClient, auth: Any, clock: Clock
) -> None:
    subject, _ = _setup(client, auth, clock)
    assert refer(client, auth(COACH), subject, *RECOVERY, clock.now).status_code == 201
    assert_problem(refer(client, auth(COACH), subject, *RECOVERY, clock.now), 409)


def test_only_the_recipient_can_accept_and_others_see_no_such_referral(
    client: FlaskClient, auth: Any, rt: Runtime, clock: Clock
) -> None:
    subject, _ = _setup(client, auth, clock)
    rid = refer(client, auth(COACH), subject, *RECOVERY, clock.now).json["id"]
    r = client.post(f"/api/v1/referrals/{rid}/accept?purpose=tenancy_sustainment",
                    headers=auth(HOUSING))
    body = assert_problem(r, 404)
    event = _deny_event(rt, subject, "referral:referral:accept")
    assert event.reasons == ["not_recipient"] and body["audit_id"] == str(event.event_uuid)
    housing_inbox = client.get("/api/v1/referrals?purpose=tenancy_sustainment",
                               headers=auth(HOUSING))
    assert housing_inbox.json["items"] == []
    with rt.session_factory() as s:
        assert case_orgs(s, uuid.UUID(subject)) == {"jcp-derby"}


def test_decline_records_a_sealed_reason_and_cannot_be_repeated(
    client: FlaskClient, auth: Any, rt: Runtime, clock: Clock
) -> None:
    subject, _ = _setup(client, auth, clock)
    rid = refer(client, auth(COACH), subject, *RECOVERY, clock.now).json["id"]
    key_worker = auth(KEY_WORKER)
    url = f"/api/v1/referrals/{rid}/decline?purpose=recovery_support"
    assert "reason" in assert_problem(client.post(url, headers=key_worker, json={}), 422)["errors"]
    r = client.post(url, headers=key_worker, json={"reason": "Already open with our Ilkeston team"})
    assert r.status_code == 200, r.json
    assert r.json["status"] == "declined"
    assert r.json["decline_reason"] == "Already open with our Ilkeston team"
    [event] = events(rt, type="referral:referral:decline", subject_id=uuid.UUID(subject))
    assert event.decision == "allow" and "Ilkeston" not in str(event.details)
    with rt.session_factory() as s:
        row = s.get(Referral, uuid.UUID(rid))
        assert row is not None and row.decline_reason is not None
        assert b"Ilkeston" not in row.decline_reason
        assert case_orgs(s, uuid.UUID(subject)) == {"jcp-derby"}
    assert_problem(client.post(url, headers=key_worker, json={"reason": "again"}), 409)
    # The referrer sees the outcome in its sent box.
    sent = client.get("/api/v1/referrals?box=sent&purpose=case_management", headers=auth(COACH))
    [mine] = sent.json["items"]
    assert mine["id"] == rid and mine["status"] == "declined"
    assert mine["decline_reason"] == "Already open with our Ilkeston team"
    assert client.get("/api/v1/referrals?box=sent&purpose=recovery_support",
                      headers=key_worker).json["items"] == []
    assert_problem(client.post(f"/api/v1/referrals/{rid}/accept?purpose=recovery_support",
                               headers=key_worker), 409)


def test_withdrawal_suspends_open_referrals_that_relied_on_it(
    client: FlaskClient, auth: Any, rt: Runtime, clock: Clock
) -> None:
    subject, consent_id = _setup(client, auth, clock)
    coach, key_worker = auth(COACH), auth(KEY_WORKER)
    rid = refer(client, coach, subject, *RECOVERY, clock.now).json["id"]
    w = client.post(f"/api/v1/consents/{consent_id}/withdrawal?purpose=case_management",
                    headers=coach, json={"channel": "in_person",
                                         "scope": {"recipients": ["recovery-partnership"]}})
    assert w.status_code == 200, w.json

    open_now = client.get("/api/v1/referrals?status=open&purpose=recovery_support",
                          headers=key_worker)
    assert open_now.status_code == 200 and open_now.json["items"] == []
    every = client.get("/api/v1/referrals?purpose=recovery_support", headers=key_worker)
    [item] = every.json["items"]
    assert item["id"] == rid and item["status"] == "suspended"
    assert item["reasons"] == ["consent_withdrawn"]
    assert item["message"] is None and item["contact_name"] is None
    assert "alcohol" not in every.get_data(as_text=True)
    [suspended] = events(rt, type="referral:referral:suspend", subject_id=uuid.UUID(subject))
    assert suspended.reasons == ["consent_withdrawn"]
    # Suspended by the withdrawal itself, in its unit of work, not later by the inbox read.
    assert suspended.request_id == w.headers["X-Request-ID"]
    assert_problem(client.post(f"/api/v1/referrals/{rid}/accept?purpose=recovery_support",
                               headers=key_worker), 409)


def test_accepting_after_the_consent_expired_is_refused_and_suspends_it(
    client: FlaskClient, auth: Any, rt: Runtime, clock: Clock
) -> None:
    """Expiry has no event of its own, so the basis is re-checked when the referral is acted
    on (a withdrawal suspends at once: see the test above)."""
    subject, _consent_id = _setup(client, auth, clock)
    rid = refer(client, auth(COACH), subject, *RECOVERY, clock.now).json["id"]
    clock.advance(days=181)
    r = client.post(f"/api/v1/referrals/{rid}/accept?purpose=recovery_support",
                    headers=auth(KEY_WORKER))
    assert assert_problem(r, 403)["reasons"] == ["consent_expired"]
    assert _deny_event(rt, subject, "referral:referral:accept").reasons == ["consent_expired"]
    with rt.session_factory() as s:
        row = s.get(Referral, uuid.UUID(rid))
        assert row is not None and row.status == "suspended"
        assert case_orgs(s, uuid.UUID(subject)) == {"jcp-derby"}


def test_inbox_pages_with_an_opaque_cursor(
    client: FlaskClient, auth: Any, rt: Runtime, clock: Clock
) -> None:
    coach = auth(COACH)
    made = []
    for n, nino in enumerate(["AB 12 34 56 C", "AB 22 34 56 C", "AB 32 34 56 C"]):
        subject = register(client, coach, nino=nino)
        consent(client, coach, subject, clock.now)
        made.append(refer(client, coach, subject, *RECOVERY, clock.now).json["id"])
        clock.advance(minutes=n + 1)
    key_worker = auth(KEY_WORKER)
    seen: list[str] = []
    url = "/api/v1/referrals?status=open&purpose=recovery_support&limit=2"
    page = client.get(url, headers=key_worker).json
    seen += [i["id"] for i in page["items"]]
    assert page["next_cursor"]
    page = client.get(url + f"&cursor={page['next_cursor']}", headers=key_worker).json
    seen += [i["id"] for i in page["items"]]
    assert page["next_cursor"] is None
    assert seen == made
    reads = events(rt, type="referral:referral:read")
    assert sorted(e.details["referral_id"] for e in reads) == sorted(made)
    bad = client.get(url + "&cursor=bm90LWEtY3Vyc29y", headers=key_worker)
    assert "cursor" in assert_problem(bad, 400)["errors"]  # API.md: a tampered cursor is a 400


def test_a_closed_case_takes_no_referral_and_no_acceptance(
    client: FlaskClient, auth: Any, rt: Runtime, clock: Clock
) -> None:
    from datetime import UTC, datetime

    from caseshare.cases.models import Case

    subject, _ = _setup(client, auth, clock)
    # A referral open before the closure (as one made before closing refused them): the case
    # row is closed directly, since closing through the API closes referrals in progress.
    rid = refer(client, auth(COACH), subject, *RECOVERY, clock.now).json["id"]
    with rt.session_factory() as s:
        s.add(Case(subject_id=uuid.UUID(subject), status="closed", closure_reason="goals_met",
                   closed_at=datetime.now(UTC), version=1, updated_at=datetime.now(UTC)))
        s.commit()
    r = client.post(f"/api/v1/referrals/{rid}/accept?purpose=recovery_support",
                    headers=auth(KEY_WORKER))
    body = assert_problem(r, 403, reason="case_closed")
    event = _deny_event(rt, subject, "referral:referral:accept")
    assert event.reasons == ["case_closed"] and body["audit_id"] == str(event.event_uuid)
    with rt.session_factory() as s:
        assert "recovery-partnership" not in case_orgs(s, uuid.UUID(subject))
        assert s.get(Referral, uuid.UUID(rid)).status == "open"  # type: ignore[union-attr]
        before = len(s.scalars(select(Referral)).all())
    body = assert_problem(refer(client, auth(COACH), subject, *RECOVERY, clock.now), 403,
                          reason="case_closed")
    event = _deny_event(rt, subject)
    assert event.reasons == ["case_closed"] and body["audit_id"] == str(event.event_uuid)
    with rt.session_factory() as s:
        assert len(s.scalars(select(Referral)).all()) == before
