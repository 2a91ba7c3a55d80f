"""Withdrawal as a first-class event: exact partial scope, 409 on repeats, notifications."""

from __future__ import annotations

import uuid
from typing import Any

from flask.testing import FlaskClient

from caseshare.runtime import Runtime
from tests.audit_helpers import events
from tests.builders import PLAN, assert_problem, consent_state, first_consent
from tests.conftest import COACH, HOUSING, KEY_WORKER, Demo

WITHDRAW = "/api/v1/consents/{}/withdrawal?purpose=case_management"
NOTIFICATIONS = "/api/v1/notifications?purpose={}"


def _withheld(body: dict[str, Any]) -> dict[str, list[str]]:
    return {w["category"]: w["reasons"] for w in body["withheld"]}


def _shown(client: FlaskClient, headers: dict[str, str], subject: uuid.UUID,
           purpose: str) -> set[str]:
    r = client.get(PLAN.format(subject, purpose), headers=headers)
    assert r.status_code == 200
    return {e["category"] for e in r.json["entries"]}


def test_withdrawing_one_recipient_removes_exactly_that_recipient(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    consent = first_consent(client, auth, demo.lee)
    assert "housing_tenancy" in _shown(client, auth(HOUSING), demo.lee, "tenancy_sustainment")

    r = client.post(WITHDRAW.format(consent["id"]), headers=auth(COACH),
                    json={"channel": "in_person", "scope": {"recipients": ["derby-housing"]}})
    assert r.status_code == 200, r.json
    assert r.json["status"] == "partially_withdrawn"
    assert r.json["withdrawals"][-1]["scope"] == {"recipients": ["derby-housing"]}

    after = client.get(PLAN.format(demo.lee, "tenancy_sustainment"), headers=auth(HOUSING))
    assert {e["category"] for e in after.json["entries"]} <= {"housing_tenancy"}  # own entry
    assert _withheld(after.json)["employment"] == ["consent_withdrawn"]
    # Everyone else keeps exactly what they had.
    assert {"substance_misuse", "housing_tenancy"} <= _shown(client, auth(COACH), demo.lee,
                                                             "case_management")
    event = events(rt, type="consent:record:withdraw", consent_id=uuid.UUID(consent["id"]))
    assert len(event) == 1 and event[0].details["channel"] == "in_person"
    assert event[0].details["full"] is False and event[0].actor is not None


def test_withdrawing_one_category_removes_exactly_that_category(
    client: FlaskClient, auth: Any, demo: Demo
) -> None:
    consent = first_consent(client, auth, demo.lee)
    r = client.post(WITHDRAW.format(consent["id"]), headers=auth(COACH),
                    json={"channel": "phone", "scope": {"categories": ["substance_misuse"]}})
    assert r.status_code == 200 and r.json["status"] == "partially_withdrawn"
    plan = client.get(PLAN.format(demo.lee, "case_management"), headers=auth(COACH))
    shown = {e["category"] for e in plan.json["entries"]}
    assert "substance_misuse" not in shown and "housing_tenancy" in shown
    assert _withheld(plan.json)["substance_misuse"] == ["consent_withdrawn"]
    assert "recovery group" not in plan.get_data(as_text=True)


def test_partial_withdrawals_covering_every_recipient_withdraw_it_all(
    client: FlaskClient, auth: Any, demo: Demo
) -> None:
    consent = first_consent(client, auth, demo.kerry)  # recipients: jcp-derby, ca-derby
    for org in consent["recipients"]:
        r = client.post(WITHDRAW.format(consent["id"]), headers=auth(COACH),
                        json={"channel": "letter", "scope": {"recipients": [org]}})
        assert r.status_code == 200
    assert r.json["status"] == "withdrawn"
    again = client.post(WITHDRAW.format(consent["id"]), headers=auth(COACH),
                        json={"channel": "letter"})
    assert_problem(again, 409, None)


def test_a_second_full_withdrawal_is_409_and_writes_nothing(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    consent = first_consent(client, auth, demo.lee)
    first = client.post(WITHDRAW.format(consent["id"]), headers=auth(COACH),
                        json={"channel": "online"})
    assert first.status_code == 200 and first.json["status"] == "withdrawn"
    before = consent_state(rt)
    for body in ({"channel": "online"}, {"channel": "online",
                                         "scope": {"categories": ["identity"]}}):
        again = client.post(WITHDRAW.format(consent["id"]), headers=auth(COACH), json=body)
        assert_problem(again, 409, None)
    assert consent_state(rt) == before


def test_a_scope_outside_the_consent_is_422_naming_the_field(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    consent = first_consent(client, auth, demo.kerry)
    before = consent_state(rt)
    for scope, field in (({"recipients": ["recovery-partnership"]}, "scope.recipients"),
                         ({"categories": ["substance_misuse"]}, "scope.categories"),
                         ({"purposes": ["recovery_support"]}, "scope.purposes"),
                         ({"everything": ["x"]}, "scope.everything")):
        r = client.post(WITHDRAW.format(consent["id"]), headers=auth(COACH),
                        json={"channel": "phone", "scope": scope})
        assert_problem(r, 422, field)
    r = client.post(WITHDRAW.format(consent["id"]), headers=auth(COACH), json={"channel": "fax"})
    assert_problem(r, 422, "channel")
    assert consent_state(rt) == before


def test_withdrawing_a_consent_of_an_unrelated_claimant_is_404(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    consent = first_consent(client, auth, demo.kerry)
    before = consent_state(rt)
    r = client.post(WITHDRAW.format(consent["id"]), headers=auth(KEY_WORKER),
                    json={"channel": "phone"})
    assert_problem(r, 404, None)
    missing = client.post(WITHDRAW.format(uuid.uuid4()), headers=auth(KEY_WORKER),
                          json={"channel": "phone"})
    assert_problem(missing, 404, None)
    assert set(r.json) == set(missing.json)
    assert consent_state(rt) == before
    denied = [e for e in events(rt, type="access:subject:deny", subject_id=demo.kerry)
              if e.request_id == r.headers["X-Request-ID"]]
    assert denied and denied[0].reasons == ["no_case_relationship"]


def test_affected_recipient_organisations_are_notified_in_app(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    consent = first_consent(client, auth, demo.lee)
    r = client.post(WITHDRAW.format(consent["id"]), headers=auth(COACH),
                    json={"channel": "phone", "scope": {"recipients": ["derby-housing"]}})
    assert r.status_code == 200

    housing = client.get(NOTIFICATIONS.format("tenancy_sustainment"), headers=auth(HOUSING))
    assert housing.status_code == 200
    [notice] = housing.json["items"]
    assert notice["type"] == "consent_withdrawn" and notice["consent_id"] == consent["id"]
    assert notice["subject_id"] == str(demo.lee)
    assert notice["details"] == {"scope": {"recipients": ["derby-housing"]}, "full": False,
                                 "channel": "phone"}
    # Not affected by this partial withdrawal: nothing for the treatment provider.
    keyworker = client.get(NOTIFICATIONS.format("recovery_support"), headers=auth(KEY_WORKER))
    assert keyworker.json["items"] == []
    listed = [e for e in events(rt, type="consent:notification:list")
              if e.request_id == housing.headers["X-Request-ID"]]
    assert len(listed) == 1 and listed[0].org == "derby-housing"

    full = client.post(WITHDRAW.format(consent["id"]), headers=auth(COACH),
                       json={"channel": "phone"})
    assert full.status_code == 200
    keyworker = client.get(NOTIFICATIONS.format("recovery_support"), headers=auth(KEY_WORKER))
    assert [n["details"]["full"] for n in keyworker.json["items"]] == [True]
    # The recorder's own organisation is not notified of its own action.
    coach = client.get(NOTIFICATIONS.format("case_management"), headers=auth(COACH))
    assert coach.json["items"] == []


def test_notifications_need_a_purpose(client: FlaskClient, auth: Any, demo: Demo) -> None:
    r = client.get("/api/v1/notifications", headers=auth(HOUSING))
    assert_problem(r, 422, "purpose")
