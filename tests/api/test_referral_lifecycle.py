"""The referral lifecycle after accept (booked, attended, did not attend, completed, withdrawn):
GET /referrals/{id} and POST /referrals/{id}/events, the timeline both sides see, every refusal
(404, 422, 403, 409), the sender told of each step, and the overdue flag and notice."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from flask.testing import FlaskClient

from caseshare.jobs.worker import Worker
from caseshare.runtime import Runtime
from tests.audit_helpers import events
from tests.builders import assert_problem, consent, refer, register
from tests.conftest import ADVISER, COACH, HOUSING, KEY_WORKER, Clock

RECOVERY = ("recovery-partnership", "recovery_support")
KW, CM = "recovery_support", "case_management"


def _referred(client: FlaskClient, auth: Any, clock: Clock, *, accept: bool = True) -> tuple[
        str, str, str]:
    coach = auth(COACH)
    subject = register(client, coach)
    consent_id = consent(client, coach, subject, clock.now)
    r = refer(client, coach, subject, *RECOVERY, clock.now)
    assert r.status_code == 201, r.json
    rid = str(r.json["id"])
    if accept:
        a = client.post(f"/api/v1/referrals/{rid}/accept?purpose={KW}", headers=auth(KEY_WORKER))
        assert a.status_code == 200, a.json
    return subject, consent_id, rid


def _step(client: FlaskClient, headers: dict[str, str], rid: str, purpose: str = KW,
          **body: Any) -> Any:
    return client.post(f"/api/v1/referrals/{rid}/events?purpose={purpose}", headers=headers,
                       json=body)


def _book(client: FlaskClient, auth: Any, rid: str, clock: Clock, **extra: Any) -> Any:
    return _step(client, auth(KEY_WORKER), rid, type="booked",
                 appointment_at=(clock.now + timedelta(days=3)).isoformat(),
                 location="Bridge Street Hub, room 3", **extra)


def _updates(client: FlaskClient, headers: dict[str, str], purpose: str) -> list[dict[str, Any]]:
    r = client.get(f"/api/v1/notifications?purpose={purpose}", headers=headers)
    assert r.status_code == 200, r.json
    return [n for n in r.json["items"] if n["type"] == "referral_updated"]


def test_booked_attended_completed_is_a_timeline_both_sides_read_and_the_sender_hears_each(
    client: FlaskClient, auth: Any, rt: Runtime, clock: Clock
) -> None:
    subject, _consent_id, rid = _referred(client, auth, clock)
    key_worker, coach = auth(KEY_WORKER), auth(COACH)

    booked = _book(client, auth, rid, clock, note="Bring a letter from the GP")
    assert booked.status_code == 200, booked.json
    assert booked.json["status"] == "booked"
    assert booked.json["location"] == "Bridge Street Hub, room 3"
    assert booked.json["appointment_at"] == "2026-11-26T09:30:00Z"
    assert booked.json["next_steps"] == ["booked", "attended", "did_not_attend"]
    clock.advance(days=3)
    key_worker, coach = auth(KEY_WORKER), auth(COACH)  # tokens from the new day
    attended = _step(client, key_worker, rid, type="attended")
    assert attended.status_code == 200 and attended.json["status"] == "attended"
    done = _step(client, key_worker, rid, type="completed", outcome="treatment_started",
                 note="Started a community detox programme")
    assert done.status_code == 200, done.json
    assert done.json["status"] == "completed" and done.json["outcome"] == "treatment_started"
    assert done.json["next_steps"] == []

    for headers, purpose in ((coach, CM), (key_worker, KW)):
        r = client.get(f"/api/v1/referrals/{rid}?purpose={purpose}", headers=headers)
        assert r.status_code == 200, r.json
        timeline = r.json["timeline"]
        assert [t["type"] for t in timeline] == ["created", "accepted", "booked", "attended",
                                                 "completed"]
        assert [t["actor_org"] for t in timeline] == ["jcp-derby"] + ["recovery-partnership"] * 4
        assert timeline[2]["note"] == "Bring a letter from the GP"
        assert timeline[2]["location"] == "Bridge Street Hub, room 3"
        assert timeline[4]["outcome"] == "treatment_started"
        assert timeline[4]["note"] == "Started a community detox programme"
        assert r.json["status"] == "completed"

    # The sender heard of every step, with codes and ids only.
    statuses = sorted(n["details"]["status"] for n in _updates(client, coach, CM))
    assert statuses == ["accepted", "attended", "booked", "completed"]
    assert all(set(n["details"]) == {"referral_id", "status", "to_org"}
               for n in _updates(client, coach, CM))
    assert _updates(client, key_worker, KW) == []

    # Each step is audited, without its words.
    sid = uuid.UUID(subject)
    for type in ("book", "attend", "complete"):
        [event] = events(rt, type=f"referral:referral:{type}", subject_id=sid)
        assert event.decision == "allow" and event.org == "recovery-partnership"
        assert "Bridge Street" not in str(event.details) and "detox" not in str(event.details)
    [complete] = events(rt, type="referral:referral:complete", subject_id=sid)
    assert complete.details["outcome"] == "treatment_started"

    # An organisation that is neither party: 404, audited.
    other = client.get(f"/api/v1/referrals/{rid}?purpose=tenancy_sustainment",
                       headers=auth(HOUSING))
    assert_problem(other, 404)
    denied = [e for e in events(rt, type="referral:referral:read") if e.decision == "deny"]
    assert denied and denied[-1].org == "derby-housing"


def test_did_not_attend_then_rebook_then_close_with_an_outcome(
    client: FlaskClient, auth: Any, clock: Clock
) -> None:
    _subject, _consent_id, rid = _referred(client, auth, clock)
    key_worker = auth(KEY_WORKER)
    assert _book(client, auth, rid, clock).status_code == 200
    missed = _step(client, key_worker, rid, type="did_not_attend", note="No answer by phone")
    assert missed.status_code == 200 and missed.json["status"] == "did_not_attend"
    assert missed.json["next_steps"] == ["booked", "completed"]
    rebooked = _book(client, auth, rid, clock)
    assert rebooked.status_code == 200 and rebooked.json["status"] == "booked"
    assert _step(client, key_worker, rid, type="did_not_attend").status_code == 200
    closed = _step(client, key_worker, rid, type="completed", outcome="did_not_engage")
    assert closed.status_code == 200 and closed.json["status"] == "completed"
    assert [t["type"] for t in closed.json["timeline"]] == [
        "created", "accepted", "booked", "did_not_attend", "booked", "did_not_attend",
        "completed"]


def test_out_of_order_steps_are_409(client: FlaskClient, auth: Any, clock: Clock) -> None:
    _subject, _consent_id, rid = _referred(client, auth, clock, accept=False)
    key_worker = auth(KEY_WORKER)
    assert_problem(_book(client, auth, rid, clock), 409)  # not accepted yet
    client.post(f"/api/v1/referrals/{rid}/accept?purpose={KW}", headers=key_worker)
    assert_problem(_step(client, key_worker, rid, type="attended"), 409)  # before booked
    assert_problem(_step(client, key_worker, rid, type="completed", outcome="advice_given"), 409)
    assert _book(client, auth, rid, clock).status_code == 200
    assert _step(client, key_worker, rid, type="attended").status_code == 200
    assert _step(client, key_worker, rid, type="completed",
                 outcome="advice_given").status_code == 200
    for body in ({"type": "attended"}, {"type": "did_not_attend"}):
        assert_problem(_step(client, key_worker, rid, **body), 409)  # after completed
    assert_problem(_book(client, auth, rid, clock), 409)
    assert_problem(_step(client, auth(COACH), rid, CM, type="withdrawn"), 409)


def test_bad_steps_are_422_naming_the_field(client: FlaskClient, auth: Any,
                                            clock: Clock) -> None:
    _subject, _consent_id, rid = _referred(client, auth, clock)
    key_worker = auth(KEY_WORKER)
    at = (clock.now + timedelta(days=2)).isoformat()
    assert_problem(_step(client, key_worker, rid, type="cancelled"), 422, "type")
    assert_problem(_step(client, key_worker, rid, type="booked", location="Hub"), 422,
                   "appointment_at")
    assert_problem(_step(client, key_worker, rid, type="booked", appointment_at=at), 422,
                   "location")
    assert_problem(_step(client, key_worker, rid, type="booked", location="Hub",
                         appointment_at=(clock.now - timedelta(hours=1)).isoformat()),
                   422, "appointment_at")
    assert_problem(_step(client, key_worker, rid, type="booked", location="Hub",
                         appointment_at=at, outcome="advice_given"), 422, "outcome")
    assert _book(client, auth, rid, clock).status_code == 200
    assert _step(client, key_worker, rid, type="attended").status_code == 200
    assert_problem(_step(client, key_worker, rid, type="completed"), 422, "outcome")
    assert_problem(_step(client, key_worker, rid, type="completed", outcome="cured"), 422,
                   "outcome")
    assert_problem(_step(client, key_worker, rid, type="completed", outcome="advice_given",
                         surprise=1), 422, "surprise")


def test_each_side_records_only_its_own_steps_403(
    client: FlaskClient, auth: Any, rt: Runtime, clock: Clock
) -> None:
    subject, _consent_id, rid = _referred(client, auth, clock)
    coach, key_worker = auth(COACH), auth(KEY_WORKER)
    at = (clock.now + timedelta(days=2)).isoformat()
    r = _step(client, coach, rid, CM, type="booked", appointment_at=at, location="Hub")
    body = assert_problem(r, 403, reason="referral_step_not_yours")
    [event] = [e for e in events(rt, type="referral:referral:book",
                                 subject_id=uuid.UUID(subject)) if e.decision == "deny"]
    assert body["audit_id"] == str(event.event_uuid)
    assert_problem(_step(client, key_worker, rid, type="withdrawn"), 403,
                   reason="referral_step_not_yours")
    # Neither party: 404, whatever the step.
    assert_problem(_step(client, auth(ADVISER), rid, "budgeting_support", type="withdrawn"), 404)
    # The sender still reads it.
    assert client.get(f"/api/v1/referrals/{rid}?purpose={CM}", headers=coach).status_code == 200


def test_the_sender_withdraws_and_the_receiver_is_told(
    client: FlaskClient, auth: Any, rt: Runtime, clock: Clock
) -> None:
    subject, _consent_id, rid = _referred(client, auth, clock)
    assert _book(client, auth, rid, clock).status_code == 200
    r = _step(client, auth(COACH), rid, CM, type="withdrawn", note="Claimant moved away")
    assert r.status_code == 200, r.json
    assert r.json["status"] == "withdrawn" and r.json["timeline"][-1]["actor_org"] == "jcp-derby"
    [told] = _updates(client, auth(KEY_WORKER), KW)
    assert told["details"] == {"referral_id": rid, "status": "withdrawn",
                               "from_org": "jcp-derby"}
    [event] = events(rt, type="referral:referral:withdraw", subject_id=uuid.UUID(subject))
    assert event.org == "jcp-derby" and "moved" not in str(event.details)
    assert_problem(_step(client, auth(KEY_WORKER), rid, type="attended"), 409)


def test_a_withdrawal_suspends_an_accepted_or_booked_referral_at_once(
    client: FlaskClient, auth: Any, rt: Runtime, clock: Clock
) -> None:
    subject, consent_id, rid = _referred(client, auth, clock)
    assert _book(client, auth, rid, clock).status_code == 200
    coach = auth(COACH)
    w = client.post(f"/api/v1/consents/{consent_id}/withdrawal?purpose={CM}", headers=coach,
                    json={"channel": "in_person",
                          "scope": {"recipients": ["recovery-partnership"]}})
    assert w.status_code == 200, w.json
    # Suspended by the withdrawal itself, not at the next step: no more steps, no content.
    assert_problem(_step(client, auth(KEY_WORKER), rid, type="attended"), 409)
    [suspended] = events(rt, type="referral:referral:suspend", subject_id=uuid.UUID(subject))
    assert suspended.reasons == ["consent_withdrawn"]
    r = client.get(f"/api/v1/referrals/{rid}?purpose={CM}", headers=coach)
    assert r.json["status"] == "suspended" and r.json["message"] is None
    assert r.json["timeline"][-1]["type"] == "suspended"
    assert "suspended" in [n["details"]["status"] for n in _updates(client, coach, CM)]


def test_an_unanswered_referral_becomes_overdue_after_two_working_days_noticed_once(
    client: FlaskClient, auth: Any, rt: Runtime, clock: Clock
) -> None:
    # Sent on Monday 23 November 2026 at 09:30: due by the end of Wednesday (UK time).
    subject, _consent_id, rid = _referred(client, auth, clock, accept=False)
    coach, key_worker = auth(COACH), auth(KEY_WORKER)
    r = client.get(f"/api/v1/referrals/{rid}?purpose={KW}", headers=key_worker)
    assert r.json["respond_by"] == "2026-11-26T00:00:00Z" and r.json["overdue"] is False
    worker = Worker(session_factory=rt.session_factory, signer=rt.audit_signer, clock=clock)

    clock.now = datetime(2026, 11, 25, 23, 59, tzinfo=UTC)
    assert worker.referrals_overdue_once() == 0
    clock.now = datetime(2026, 11, 26, 0, 1, tzinfo=UTC)
    assert worker.referrals_overdue_once() == 1
    assert worker.referrals_overdue_once() == 0  # once only
    worker.run_once()
    coach, key_worker = auth(COACH), auth(KEY_WORKER)  # tokens from the new day
    notes = client.get(f"/api/v1/notifications?purpose={KW}", headers=key_worker).json["items"]
    [overdue] = [n for n in notes if n["type"] == "referral_overdue"]
    assert overdue["details"] == {"referral_id": rid} and overdue["subject_id"] == subject
    coach_notes = client.get(f"/api/v1/notifications?purpose={CM}", headers=coach).json["items"]
    assert [n for n in coach_notes if n["type"] == "referral_overdue"] == []
    [audited] = events(rt, type="referral:referral:overdue", subject_id=uuid.UUID(subject))
    assert audited.details["referral_id"] == rid

    # Both caseloads flag it; the referral lists say so.
    for headers, purpose in ((coach, CM), (key_worker, KW)):
        rows = client.get(f"/api/v1/caseload?purpose={purpose}", headers=headers).json["items"]
        [row] = [i for i in rows if i["subject_id"] == subject]
        assert row["referrals_overdue"] == 1
    [item] = client.get(f"/api/v1/referrals?purpose={KW}", headers=key_worker).json["items"]
    assert item["overdue"] is True
    # Accepting it ends the flag.
    client.post(f"/api/v1/referrals/{rid}/accept?purpose={KW}", headers=key_worker)
    rows = client.get(f"/api/v1/caseload?purpose={CM}", headers=coach).json["items"]
    assert [i["referrals_overdue"] for i in rows if i["subject_id"] == subject] == [0]


def test_a_step_under_a_purpose_that_opens_no_claimant_data_is_refused(
    client: FlaskClient, auth: Any, rt: Runtime, clock: Clock
) -> None:
    from caseshare.identity import service as identity
    from tests.conftest import issue_token

    _subject, _consent_id, rid = _referred(client, auth, clock)
    email = "alex.dual@recovery-partnership.example"
    with rt.session_factory() as s:
        identity.add_or_update_staff(s, protocols=rt.protocols, email=email, name="Alex Dual",
                                     org="recovery-partnership",
                                     roles=["key_worker", "ig_officer"], now=rt.now())
        s.commit()
    dual = {"Authorization": f"Bearer {issue_token(rt, email)}"}
    r = _step(client, dual, rid, "audit", type="booked", location="Hub",
              appointment_at=(clock.now + timedelta(days=2)).isoformat())
    assert_problem(r, 403, reason="purpose_reserved")
    assert_problem(client.get(f"/api/v1/referrals/{rid}?purpose=audit", headers=dual), 403,
                   reason="purpose_reserved")
    # Under its service purpose the same person books it.
    assert _step(client, dual, rid, KW, type="booked", location="Hub",
                 appointment_at=(clock.now + timedelta(days=2)).isoformat()).status_code == 200
