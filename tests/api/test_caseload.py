"""GET /api/v1/caseload: the claimants my organisation works with, what needs attention, what
each caller may see of it (names, counts), paging, sorting, filtering, purpose and audit."""

from __future__ import annotations

import uuid
from typing import Any

from flask.testing import FlaskClient

from caseshare.runtime import Runtime
from caseshare.subjects.service import add_case_member
from tests.audit_helpers import events
from tests.builders import assert_problem, consent, refer, register
from tests.conftest import ADVISER, COACH, HOUSING, KEY_WORKER, Clock, Demo

URL = "/api/v1/caseload?purpose={}"


def _caseload(client: FlaskClient, headers: dict[str, str], purpose: str = "case_management",
              **query: Any) -> dict[str, Any]:
    extra = "".join(f"&{k}={v}" for k, v in query.items())
    r = client.get(URL.format(purpose) + extra, headers=headers)
    assert r.status_code == 200, r.json
    assert r.headers["Cache-Control"] == "no-store"
    body: dict[str, Any] = r.json
    return body


def _row(body: dict[str, Any], subject: uuid.UUID | str) -> dict[str, Any]:
    [row] = [i for i in body["items"] if i["subject_id"] == str(subject)]
    return row


def test_the_caseload_counts_only_actions_the_caller_may_read_and_names_the_claimant(
    client: FlaskClient, auth: Any, demo: Demo, clock: Clock, rt: Runtime
) -> None:
    # Lee's plan: employment (JCP, due 10 Dec), treatment (key worker, due 1 Dec, in progress)
    # and tenancy (council, due 5 Dec). On 6 December two are overdue and one due this week.
    clock.advance(days=13)
    coach = _row(_caseload(client, auth(COACH)), demo.lee)
    # The demo makes the work coach Lee's lead worker, with a review 21 days after the start.
    assert coach == {**coach, "name": "Lee Marsh", "lead_org": "jcp-derby",
                     "lead_worker": "Sam Okafor", "next_review_on": "2026-12-14",
                     "overdue_actions": 2, "due_this_week": 1,
                     "referrals_in": 0, "case_member": True}
    # The council cannot read treatment entries: the key worker's overdue action is not counted.
    housing = _row(_caseload(client, auth(HOUSING), "tenancy_sustainment"), demo.lee)
    assert (housing["overdue_actions"], housing["name"]) == (1, "Lee Marsh")
    # Consent naming the organisation ends 180 days after the demo recorded it.
    assert coach["consent_expires_on"] is not None and coach["consent_expiring"] is False

    [event] = [e for e in events(rt, type="subject:caseload:list") if e.org == "jcp-derby"]
    assert event.decision == "allow" and event.purpose == "case_management"
    assert str(demo.lee) in event.details["subjects"] and str(demo.lee) in event.details["named"]
    assert event.categories == ["identity"]
    assert "Lee" not in str(event.details)  # ids and codes only


def test_name_is_withheld_where_identity_does_not_reach_the_caller(
    client: FlaskClient, auth: Any, demo: Demo, clock: Clock, rt: Runtime
) -> None:
    # A claimant whose consent names only the Jobcentre: the council joins the case (lead's
    # choice) but identity does not reach it, so the row carries no name.
    coach = auth(COACH)
    subject = register(client, coach, given_name="Robin", family_name="Quay", nino="QQ 11 22 33 A")
    consent(client, coach, subject, clock.now, recipients=["jcp-derby"])
    with rt.session_factory() as s:
        add_case_member(s, subject_id=uuid.UUID(subject), org="derby-housing", now=clock.now)
        s.commit()
    row = _row(_caseload(client, auth(HOUSING)), subject)
    assert row["name"] is None and row["case_member"] is True
    assert _row(_caseload(client, coach), subject)["name"] == "Robin Quay"


def test_an_open_referral_in_lists_the_claimant_and_filters_and_sorts(
    client: FlaskClient, auth: Any, demo: Demo, clock: Clock
) -> None:
    coach = auth(COACH)
    subject = register(client, coach, given_name="Ada", family_name="Zephyr", nino="QQ 44 55 66 B")
    consent(client, coach, subject, clock.now)
    assert refer(client, coach, subject, "derby-housing", "tenancy_sustainment",
                 clock.now).status_code == 201
    housing = auth(HOUSING)
    body = _caseload(client, housing, "tenancy_sustainment", filter="referrals")
    assert [i["subject_id"] for i in body["items"]] == [subject]
    assert body["items"][0]["referrals_in"] == 1 and body["items"][0]["case_member"] is False
    # Not yet a case member: the decision opens nothing, not even the name.
    assert body["items"][0]["name"] is None

    by_name = _caseload(client, coach, sort="name")
    names = [i["name"] for i in by_name["items"]]
    assert names.index("Lee Marsh") < names.index("Ada Zephyr")
    assert _caseload(client, coach, filter="overdue")["items"] == []


def test_paging_keeps_each_claimant_once_and_a_tampered_cursor_is_400(
    client: FlaskClient, auth: Any, demo: Demo
) -> None:
    coach = auth(COACH)
    for n in range(3):
        register(client, coach, given_name=f"P{n}", family_name="Page", nino=f"QQ 00 00 0{n} A")
    everyone = _caseload(client, coach)
    seen: list[str] = []
    body = _caseload(client, coach, limit=2)
    while True:
        assert len(body["items"]) <= 2 and body["total"] == everyone["total"]
        seen += [i["subject_id"] for i in body["items"]]
        if body["next_cursor"] is None:
            break
        body = _caseload(client, coach, limit=2, cursor=body["next_cursor"])
    assert seen == [i["subject_id"] for i in everyone["items"]] and len(set(seen)) == len(seen)

    r = client.get(URL.format("case_management") + "&cursor=bm90LWEtY3Vyc29y", headers=coach)
    assert_problem(r, 400)
    first = _caseload(client, coach, limit=2)["next_cursor"]
    r = client.get(URL.format("case_management") + f"&sort=name&cursor={first}", headers=coach)
    assert_problem(r, 400)  # a cursor for another sort order


def test_bad_parameters_and_purposes_are_refused(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    coach = auth(COACH)
    assert_problem(client.get("/api/v1/caseload", headers=coach), 422, "purpose")
    assert_problem(client.get(URL.format("case_management") + "&sort=age", headers=coach),
                   422, "sort")
    assert_problem(client.get(URL.format("case_management") + "&limit=201", headers=coach),
                   422, "limit")
    # A purpose the adviser's organisation does not hold: 403, audited.
    r = client.get(URL.format("recovery_support"), headers=auth(ADVISER))
    assert_problem(r, 403)
    assert events(rt, type="access:purpose:deny", org="ca-derby")
    assert client.get(URL.format("case_management")).status_code == 401


def test_the_key_worker_sees_his_own_treatment_action_overdue(
    client: FlaskClient, auth: Any, demo: Demo, clock: Clock
) -> None:
    clock.advance(days=3)  # 26 November: nothing overdue yet, treatment due on 1 December
    row = _row(_caseload(client, auth(KEY_WORKER), "recovery_support"), demo.lee)
    assert row["overdue_actions"] == 0 and row["due_this_week"] == 1
    clock.advance(days=7)
    row = _row(_caseload(client, auth(KEY_WORKER), "recovery_support", sort="overdue"), demo.lee)
    assert row["overdue_actions"] >= 1
