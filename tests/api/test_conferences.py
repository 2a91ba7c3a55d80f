"""Case conferences over the API: minutes under the decision, decisions as plan actions, bad
input named, refusals audited."""

from __future__ import annotations

import uuid
from typing import Any

from flask.testing import FlaskClient

from caseshare.identity import service as identity
from caseshare.runtime import Runtime
from tests.audit_helpers import events
from tests.builders import assert_problem
from tests.conftest import ADVISER, COACH, HOUSING, KEY_WORKER, Demo

RECORD = "/api/v1/subjects/{}/conferences?purpose={}"
READ = "/api/v1/conferences/{}?purpose={}"
TREATMENT = "Six weeks sober; prescribing review due; wants the group moved to evenings."
NEW_ADDRESS = "Moving to a flat on Bridge Street next month."


def _staff_id(rt: Runtime, email: str) -> str:
    with rt.session_factory() as s:
        return str(identity.get_staff_by_email(s, email).id)


def _body(rt: Runtime, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "held_on": "2026-11-20",
        "attendees": [{"org": "recovery-partnership", "staff_id": _staff_id(rt, KEY_WORKER)},
                      {"org": "jcp-derby", "staff_id": _staff_id(rt, COACH)},
                      {"org": "derby-housing"}],
        "minutes": [{"category": "substance_misuse", "text": TREATMENT},
                    {"category": "contact", "text": NEW_ADDRESS}],
        "decisions": [{"title": "Book the prescribing review", "owner_org": "recovery-partnership",
                       "due_on": "2026-12-15", "category": "substance_misuse"}],
    }
    return {**body, **changes}


def _minutes(body: dict[str, Any]) -> dict[str, str]:
    return {m["category"]: m["text"] for m in body["minutes"]}


def _withheld(body: dict[str, Any]) -> dict[str, list[str]]:
    return {w["category"]: w["reasons"] for w in body["withheld"]}


def test_minutes_under_the_decision_each_organisation_reads_what_it_could_anyway(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    r = client.post(RECORD.format(demo.lee, "case_management"), headers=auth(KEY_WORKER),
                    json=_body(rt))
    assert r.status_code == 201, r.json
    conference = r.json["id"]
    assert _minutes(r.json) == {"substance_misuse": TREATMENT, "contact": NEW_ADDRESS}
    assert {a["org"]: a["staff_name"] for a in r.json["attendees"]} == {
        "recovery-partnership": "Dan Whitfield", "jcp-derby": "Sam Okafor", "derby-housing": None}
    created = [e for e in events(rt, type="conferences:conference:create", subject_id=demo.lee)
               if e.details["conference_id"] == conference]  # the demo seeds one of its own
    assert len(created) == 1
    assert created[0].categories == ["contact", "substance_misuse"]
    assert TREATMENT not in str(created[0].details)

    # The decision became a plan action with its owner and due date, audited as one.
    [decision] = r.json["decisions"]
    assert (decision["owner_org"], decision["due_on"]) == ("recovery-partnership", "2026-12-15")
    plan = client.get(f"/api/v1/subjects/{demo.lee}/case-plan?purpose=case_management",
                      headers=auth(COACH)).json
    action = next(e for e in plan["entries"] if e["id"] == decision["entry_id"])
    assert (action["kind"], action["title"], action["category"]) == (
        "action", "Book the prescribing review", "substance_misuse")
    assert created[0].details["entries"] == [decision["entry_id"]]
    assert [e.details["entry_id"] for e in events(rt, type="case_plan:entry:create",
                                                  request_id=created[0].request_id)] == [
        decision["entry_id"]]

    # The work coach has flows from the treatment provider for both categories.
    coach = client.get(READ.format(conference, "case_management"), headers=auth(COACH))
    assert coach.status_code == 200
    assert _minutes(coach.json) == {"substance_misuse": TREATMENT, "contact": NEW_ADDRESS}
    assert [d["entry_id"] for d in coach.json["decisions"]] == [decision["entry_id"]]

    # The housing officer's agreements bring nothing from the treatment provider: no minutes,
    # no treatment action, and substance_misuse withheld with its reason.
    housing = client.get(READ.format(conference, "tenancy_sustainment"), headers=auth(HOUSING))
    assert housing.status_code == 200
    assert housing.json["minutes"] == [] and housing.json["decisions"] == []
    assert _withheld(housing.json)["substance_misuse"] == ["category_not_in_protocol"]
    assert TREATMENT not in housing.get_data(as_text=True)
    assert len(housing.json["attendees"]) == 3

    # Each read is audited as a disclosure: what was opened, and what was withheld.
    reads = events(rt, type="conferences:conference:read", subject_id=demo.lee)
    coach_allow = [e for e in reads if e.org == "jcp-derby" and e.decision == "allow"]
    assert len(coach_allow) == 1 and len(coach_allow[0].details["minutes"]) == 2
    housing_allow = [e for e in reads if e.org == "derby-housing" and e.decision == "allow"]
    assert housing_allow[0].details["minutes"] == []
    housing_deny = [e for e in reads if e.org == "derby-housing" and e.decision == "deny"]
    assert "substance_misuse" in housing_deny[0].categories


def test_the_coach_s_minutes_reach_housing_for_tenancy_work_but_employment_not_for_case_management(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    body = _body(rt, minutes=[{"category": "employment", "text": "Starts a placement in May."},
                              {"category": "contact", "text": NEW_ADDRESS}],
                 decisions=[{"title": "Confirm placement start", "owner_org": "jcp-derby",
                             "due_on": "2027-01-10", "category": "employment"}])
    r = client.post(RECORD.format(demo.lee, "case_management"), headers=auth(COACH), json=body)
    assert r.status_code == 201, r.json
    conference = r.json["id"]

    key_worker = client.get(READ.format(conference, "case_management"), headers=auth(KEY_WORKER))
    assert set(_minutes(key_worker.json)) == {"employment", "contact"}
    tenancy = client.get(READ.format(conference, "tenancy_sustainment"), headers=auth(HOUSING))
    assert set(_minutes(tenancy.json)) == {"employment", "contact"}
    assert [d["title"] for d in tenancy.json["decisions"]] == ["Confirm placement start"]
    case = client.get(READ.format(conference, "case_management"), headers=auth(HOUSING))
    assert set(_minutes(case.json)) == {"contact"}
    assert "employment" in _withheld(case.json)
    # Citizens Advice does not work with Lee: the conference does not exist for it (audited).
    adviser = client.get(READ.format(conference, "case_management"), headers=auth(ADVISER))
    assert_problem(adviser, 404)
    assert events(rt, type="access:subject:deny", org="ca-derby", subject_id=demo.lee)


def test_list_is_newest_first_and_audited(client: FlaskClient, auth: Any, demo: Demo,
                                          rt: Runtime) -> None:
    recorded = set()
    for held_on in ("2026-11-02", "2026-11-16"):
        r = client.post(RECORD.format(demo.lee, "case_management"), headers=auth(KEY_WORKER),
                        json=_body(rt, held_on=held_on, decisions=[]))
        assert r.status_code == 201, r.json
        recorded.add(r.json["id"])
    r = client.get(RECORD.format(demo.lee, "case_management"), headers=auth(COACH))
    assert r.status_code == 200
    held = [c["held_on"] for c in r.json["items"]]
    assert held == sorted(held, reverse=True)  # the demo's own conference was held today
    assert [c["held_on"] for c in r.json["items"] if c["id"] in recorded] == [
        "2026-11-16", "2026-11-02"]
    assert r.json["next_cursor"] is None
    [allow] = [e for e in events(rt, type="conferences:conference:list", subject_id=demo.lee)
               if e.request_id == r.headers["X-Request-ID"] and e.decision == "allow"]
    assert len(allow.details["conferences"]) == len(r.json["items"])


def test_a_category_the_recorder_may_not_write_is_refused_naming_it_and_nothing_is_kept(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    body = _body(rt, minutes=[{"category": "substance_misuse", "text": TREATMENT},
                              {"category": "contact", "text": NEW_ADDRESS}], decisions=[])
    listed = client.get(RECORD.format(demo.lee, "tenancy_sustainment"), headers=auth(HOUSING))
    before = listed.json["items"]  # the demo's own conference
    r = client.post(RECORD.format(demo.lee, "tenancy_sustainment"), headers=auth(HOUSING),
                    json=body)
    problem = assert_problem(r, 403)
    assert "substance_misuse" in problem["detail"] and "contact" not in problem["detail"]
    [denied] = [e for e in events(rt, type="access:write:deny", subject_id=demo.lee)
                if e.request_id == r.headers["X-Request-ID"]]
    assert denied.categories == ["substance_misuse"]
    listed = client.get(RECORD.format(demo.lee, "tenancy_sustainment"), headers=auth(HOUSING))
    assert listed.json["items"] == before


def test_bad_input_is_422_naming_the_field(client: FlaskClient, auth: Any, demo: Demo,
                                           rt: Runtime) -> None:
    url = RECORD.format(demo.lee, "case_management")
    before = client.get(url, headers=auth(KEY_WORKER)).json["items"]  # the demo's own
    cases: list[tuple[dict[str, Any], str]] = [
        (_body(rt, held_on="2027-03-01"), "held_on"),
        (_body(rt, held_on="yesterday"), "held_on"),
        (_body(rt, attendees=[]), "attendees"),
        (_body(rt, attendees=[{"org": "tywi-recovery"}]), "attendees.0.org"),
        (_body(rt, attendees=[{"org": "jcp-derby", "staff_id": _staff_id(rt, HOUSING)}]),
         "attendees.0.staff_id"),
        (_body(rt, attendees=[{"org": "jcp-derby"}, {"org": "jcp-derby"}]), "attendees.1.org"),
        (_body(rt, minutes=[{"category": "no_such_thing", "text": "x"}]), "minutes.0.category"),
        (_body(rt, minutes=[{"category": "contact", "text": ""}]), "minutes.0.text"),
        (_body(rt, decisions=[{"title": "x", "owner_org": "ca-derby", "due_on": "2026-12-01",
                               "category": "contact"}]), "decisions.0.owner_org"),
        (_body(rt, decisions=[{"title": "x", "owner_org": "jcp-derby",
                               "category": "contact"}]), "decisions.0.due_on"),
        (_body(rt, surprise=1), "surprise"),
    ]
    for body, field in cases:
        assert_problem(client.post(url, headers=auth(KEY_WORKER), json=body), 422, field)
    assert client.get(url, headers=auth(KEY_WORKER)).json["items"] == before


def test_unknown_conference_is_404_and_audited(client: FlaskClient, auth: Any,
                                               demo: Demo, rt: Runtime) -> None:
    missing = uuid.uuid4()
    assert_problem(client.get(READ.format(missing, "case_management"), headers=auth(COACH)), 404)
    [event] = events(rt, type="conferences:conference:read", decision="deny")
    assert event.details["conference_id"] == str(missing)


def test_a_closed_case_takes_no_conference_even_without_decisions(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    from sqlalchemy import func, select

    from caseshare.conferences.models import Conference, ConferenceMinute

    closed = client.post(f"/api/v1/subjects/{demo.lee}/closure?purpose=case_management",
                         headers=auth(COACH), json={"reason": "goals_met"})
    assert closed.status_code == 200, closed.json
    with rt.session_factory() as s:
        before = (s.scalar(select(func.count()).select_from(Conference)),
                  s.scalar(select(func.count()).select_from(ConferenceMinute)))
    r = client.post(RECORD.format(demo.lee, "case_management"), headers=auth(KEY_WORKER),
                    json=_body(rt, decisions=[]))
    body = assert_problem(r, 403, reason="case_closed")
    denied = events(rt, type="access:write:deny", subject_id=demo.lee)
    assert denied[-1].reasons == ["case_closed"]
    assert body["audit_id"] == str(denied[-1].event_uuid)
    with rt.session_factory() as s:
        assert (s.scalar(select(func.count()).select_from(Conference)),
                s.scalar(select(func.count()).select_from(ConferenceMinute))) == before
