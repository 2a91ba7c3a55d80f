"""The case API: GET/PATCH /subjects/{id}/case (lead worker, review date, history), POST
/closure (200, again 409, 403 without a write grant, 422 naming the field) and POST /reopening;
a closed case refuses plan writes (case_closed), each step audited with codes and ids only."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient

from caseshare.identity import service as identity
from caseshare.runtime import Runtime
from tests.audit_helpers import events
from tests.builders import PLAN, assert_problem, consent, register
from tests.conftest import ADVISER, COACH, HOUSING, IG, Clock

CM = "case_management"


def _url(subject: str, what: str, purpose: str = CM) -> str:
    return f"/api/v1/subjects/{subject}/{what}?purpose={purpose}"


def _staff_id(rt: Runtime, email: str) -> str:
    with rt.session_factory() as s:
        return str(identity.get_staff_by_email(s, email).id)


def test_lead_worker_and_review_date_are_set_with_history_and_audited(
    client: FlaskClient, auth: Any, rt: Runtime, clock: Clock
) -> None:
    coach = auth(COACH)
    subject = register(client, coach)
    r = client.get(_url(subject, "case"), headers=coach)
    assert r.status_code == 200, r.json
    assert r.json["status"] == "open" and r.json["lead_worker_id"] is None
    assert r.json["lead_org"] == "jcp-derby" and r.json["lead_worker_history"] == []
    sam = _staff_id(rt, COACH)
    review = (clock.now + timedelta(days=30)).date().isoformat()
    r = client.patch(_url(subject, "case"), headers=coach,
                     json={"lead_worker_id": sam, "review_on": review})
    assert r.status_code == 200, r.json
    assert r.json["lead_worker_id"] == sam and r.json["lead_worker_name"] == "Sam Okafor"
    assert r.json["review_on"] == review
    assert [h["lead_worker_id"] for h in r.json["lead_worker_history"]] == [sam]
    change = events(rt, type="cases:lead_worker:change", subject_id=uuid.UUID(subject))
    assert len(change) == 1 and change[0].details["lead_worker_id"] == sam
    assert events(rt, type="cases:review_date:set",
                  subject_id=uuid.UUID(subject))[0].details["review_on"] == review
    # Clearing the lead worker is a change too; the same value again appends nothing.
    clock.advance(minutes=5)
    client.patch(_url(subject, "case"), headers=coach, json={"lead_worker_id": None})
    r = client.patch(_url(subject, "case"), headers=coach, json={"lead_worker_id": None})
    assert [h["lead_worker_id"] for h in r.json["lead_worker_history"]] == [sam, None]
    # Nothing changed: the answer still shows the case, audited as a read.
    assert any(e.details.get("unchanged") for e in events(rt, type="cases:case:read"))


def test_a_lead_worker_outside_the_lead_organisation_or_a_past_review_date_is_a_422(
    client: FlaskClient, auth: Any, rt: Runtime, clock: Clock
) -> None:
    coach = auth(COACH)
    subject = register(client, coach)
    assert_problem(client.patch(_url(subject, "case"), headers=coach,
                                json={"lead_worker_id": _staff_id(rt, HOUSING)}),
                   422, "lead_worker_id")
    assert_problem(client.patch(_url(subject, "case"), headers=coach,
                                json={"lead_worker_id": str(uuid.uuid4())}), 422, "lead_worker_id")
    past = (clock.now - timedelta(days=1)).date().isoformat()
    assert_problem(client.patch(_url(subject, "case"), headers=coach, json={"review_on": past}),
                   422, "review_on")
    assert_problem(client.patch(_url(subject, "case"), headers=coach, json={"colour": "red"}),
                   422, "colour")


def test_close_answers_the_contract_then_409_and_the_plan_is_read_only_until_reopened(
    client: FlaskClient, auth: Any, rt: Runtime, clock: Clock
) -> None:
    coach = auth(COACH)
    subject = register(client, coach)
    consent(client, coach, subject, clock.now)
    assert client.post(PLAN.format(subject, CM), headers=coach, json={}).status_code == 201
    r = client.post(_url(subject, "closure"), headers=coach, json={"reason": "goals_met"})
    assert r.status_code == 200, r.json
    assert r.json["status"] == "closed" and r.json["reason"] == "goals_met"
    assert r.json["closed_at"].endswith("Z")
    closed = events(rt, type="cases:case:close")
    assert len(closed) == 1 and closed[0].details["reason"] == "goals_met"
    assert_problem(client.post(_url(subject, "closure"), headers=coach,
                               json={"reason": "moved_away"}), 409)
    entry = {"category": "employment", "kind": "action", "title": "Apply for two jobs"}
    r = client.post(f"/api/v1/subjects/{subject}/case-plan/entries?purpose={CM}",
                    headers=coach, json=entry)
    assert_problem(r, 403, reason="case_closed")
    assert events(rt, type="access:write:deny")[-1].reasons == ["case_closed"]
    assert_problem(client.patch(_url(subject, "case"), headers=coach,
                                json={"review_on": None}), 403, reason="case_closed")
    r = client.post(_url(subject, "reopening"), headers=coach)
    assert r.status_code == 200, r.json
    assert r.json["status"] == "open" and r.json["closed_at"] is None
    assert events(rt, type="cases:case:reopen")[0].details["closure_reason"] == "goals_met"
    r = client.post(f"/api/v1/subjects/{subject}/case-plan/entries?purpose={CM}",
                    headers=coach, json=entry)
    assert r.status_code == 201, r.json
    assert_problem(client.post(_url(subject, "reopening"), headers=coach), 409)


def test_closure_needs_a_known_reason_and_a_note_for_other(
    client: FlaskClient, auth: Any, rt: Runtime
) -> None:
    coach = auth(COACH)
    subject = register(client, coach)
    assert_problem(client.post(_url(subject, "closure"), headers=coach, json={}), 422, "reason")
    assert_problem(client.post(_url(subject, "closure"), headers=coach,
                               json={"reason": "bored"}), 422, "reason")
    assert_problem(client.post(_url(subject, "closure"), headers=coach,
                               json={"reason": "other"}), 422, "note")
    assert_problem(client.post(_url(subject, "closure"), headers=coach,
                               json={"reason": "other", "note": "x" * 501}), 422, "note")
    words = "Claimant asked for the case to end"
    r = client.post(_url(subject, "closure"), headers=coach, json={"reason": "other",
                                                                    "note": words})
    assert r.status_code == 200, r.json
    # The note is sealed: the audit event says only that there is one.
    assert events(rt, type="cases:case:close")[0].details["note"] is True
    assert all(words not in str(e.details) for e in events(rt))


def test_only_a_case_member_with_a_write_grant_closes(
    client: FlaskClient, auth: Any, rt: Runtime, clock: Clock
) -> None:
    coach = auth(COACH)
    subject = register(client, coach)
    consent(client, coach, subject, clock.now)  # names housing: related, not a case member
    body = assert_problem(client.post(_url(subject, "closure", "tenancy_sustainment"),
                                      headers=auth(HOUSING), json={"reason": "goals_met"}), 403)
    assert body["reasons"]
    refused = events(rt, type="cases:case:close")
    assert len(refused) == 1 and refused[0].decision == "deny"
    # No relationship at all: the claimant does not exist for the caller.
    assert_problem(client.post(_url(subject, "closure", "triage"), headers=auth(ADVISER),
                               json={"reason": "goals_met"}), 404)
    # An IG officer under `audit` reads no claimant data and changes no case.
    assert_problem(client.post(_url(subject, "closure", "audit"), headers=auth(IG),
                               json={"reason": "goals_met"}), 403)
    assert client.get(_url(subject, "case"), headers=coach).json["status"] == "open"


def test_the_caseload_shows_the_lead_worker_and_the_review_date(
    client: FlaskClient, auth: Any, rt: Runtime, clock: Clock
) -> None:
    coach = auth(COACH)
    subject = register(client, coach)
    review = (clock.now + timedelta(days=10)).date()
    assert client.patch(_url(subject, "case"), headers=coach, json={
        "lead_worker_id": _staff_id(rt, COACH), "review_on": review.isoformat()}).status_code == 200
    rows = {i["subject_id"]: i for i in client.get(
        f"/api/v1/caseload?purpose={CM}", headers=coach).json["items"]}
    assert rows[subject]["lead_worker"] == "Sam Okafor"
    assert rows[subject]["next_review_on"] == review.isoformat()
