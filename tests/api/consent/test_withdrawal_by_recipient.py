"""Who may record which withdrawal. The organisation that recorded the consent and the lead
organisation record any withdrawal (the claimant tells them; they record it for everyone). A
named recipient sees only the recipient view, and records only the withdrawal of the part that
reaches it: no scope means everything that reaches it; a scope naming any other organisation is
refused with one answer whether or not that organisation is in the consent (403
`withdrawal_scope_not_yours`, audited, nothing written), so a recipient cannot learn who else
receives the claimant's data.

Lee's demo consent: recorded by the work coach (jcp-derby, also the lead) for jcp-derby,
recovery-partnership and derby-housing. ca-derby is not in it."""

from __future__ import annotations

import uuid
from typing import Any

from flask.testing import FlaskClient

from caseshare.runtime import Runtime
from tests.audit_helpers import events
from tests.builders import (
    CONSENTS,
    PLAN,
    assert_problem,
    consent_body,
    consent_state,
    first_consent,
)
from tests.conftest import ADVISER, COACH, HOUSING, KEY_WORKER, Demo

WITHDRAW = "/api/v1/consents/{}/withdrawal?purpose=case_management"
NOTIFICATIONS = "/api/v1/notifications?purpose={}"
# Answer fields that differ per request by design (the audit event id, the request path).
PER_REQUEST = ("audit_id", "instance", "request_id")


def _request_events(rt: Runtime, r: Any, type_: str) -> list[Any]:
    return [e for e in events(rt, type=type_) if e.request_id == r.headers["X-Request-ID"]]


def _same(r: Any) -> dict[str, Any]:
    return {k: v for k, v in r.json.items() if k not in PER_REQUEST}


def _whole(client: FlaskClient, auth: Any, consent_id: str, subject: uuid.UUID) -> dict[str, Any]:
    r = client.get(CONSENTS.format(subject), headers=auth(COACH))
    item: dict[str, Any] = next(c for c in r.json["items"] if c["id"] == consent_id)
    return item


def test_a_recipient_withdraws_the_part_that_reaches_it_and_nothing_else(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    consent = first_consent(client, auth, demo.lee)
    r = client.post(WITHDRAW.format(consent["id"]), headers=auth(HOUSING),
                    json={"channel": "phone", "reason": "Told the housing officer"})
    assert r.status_code == 200, r.json
    assert r.json["view"] == "recipient" and r.json["recipients"] == ["derby-housing"]
    assert r.json["status"] == "withdrawn"  # as it applies to derby-housing

    whole = _whole(client, auth, consent["id"], demo.lee)
    assert whole["status"] == "partially_withdrawn"  # not withdrawn for everyone
    assert whole["withdrawals"][-1]["scope"] == {"recipients": ["derby-housing"]}
    [event] = _request_events(rt, r, "consent:record:withdraw")
    assert event.decision == "allow" and event.org == "derby-housing"
    assert event.details["scope"] == {"recipients": ["derby-housing"]}
    assert event.details["full"] is False and event.details["notified"] == []

    # Housing loses what the consent gave it; the treatment provider keeps what it had.
    plan = client.get(PLAN.format(demo.lee, "tenancy_sustainment"), headers=auth(HOUSING))
    withheld = {w["category"]: w["reasons"] for w in plan.json["withheld"]}
    assert withheld["employment"] == ["consent_withdrawn"]
    kept = client.get(PLAN.format(demo.lee, "recovery_support"), headers=auth(KEY_WORKER))
    assert "substance_misuse" in {e["category"] for e in kept.json["entries"]}
    # The notification rule is unchanged: recipients whose access narrows are told, the recording
    # organisation is not; no other recipient's access narrowed, so nobody is notified.
    for who, purpose in ((HOUSING, "tenancy_sustainment"), (KEY_WORKER, "recovery_support"),
                         (COACH, "case_management")):
        assert client.get(NOTIFICATIONS.format(purpose), headers=auth(who)).json["items"] == []

    # Its part is gone: again is 409 and writes nothing.
    before = consent_state(rt)
    again = client.post(WITHDRAW.format(consent["id"]), headers=auth(HOUSING),
                        json={"channel": "phone"})
    assert_problem(again, 409, None)
    assert consent_state(rt) == before


def test_a_recipient_naming_itself_or_narrowing_within_its_view_is_recorded_for_itself(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    consent = first_consent(client, auth, demo.lee)
    r = client.post(WITHDRAW.format(consent["id"]), headers=auth(HOUSING), json={
        "channel": "in_person", "scope": {"categories": ["employment"]}})
    assert r.status_code == 200, r.json
    whole = _whole(client, auth, consent["id"], demo.lee)
    assert whole["withdrawals"][-1]["scope"] == {"categories": ["employment"],
                                                 "recipients": ["derby-housing"]}
    # Employment stays shared with everyone else.
    coach = client.get(PLAN.format(demo.lee, "case_management"), headers=auth(COACH))
    assert "employment" in {e["category"] for e in coach.json["entries"]}
    r = client.post(WITHDRAW.format(consent["id"]), headers=auth(HOUSING), json={
        "channel": "in_person", "scope": {"recipients": ["derby-housing"],
                                          "purposes": ["tenancy_sustainment"]}})
    assert r.status_code == 200, r.json
    whole = _whole(client, auth, consent["id"], demo.lee)
    assert whole["withdrawals"][-1]["scope"] == {"purposes": ["tenancy_sustainment"],
                                                 "recipients": ["derby-housing"]}
    assert whole["status"] == "partially_withdrawn"


def test_a_category_the_recipient_does_not_see_is_answered_as_one_not_in_the_consent(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    consent = first_consent(client, auth, demo.lee)
    mine = client.get(CONSENTS.format(demo.lee), headers=auth(HOUSING)).json["items"][0]
    assert "substance_misuse" not in mine["categories"]  # in the consent, hidden from housing
    before = consent_state(rt)
    hidden = client.post(WITHDRAW.format(consent["id"]), headers=auth(HOUSING), json={
        "channel": "phone", "scope": {"categories": ["substance_misuse"]}})
    absent = client.post(WITHDRAW.format(consent["id"]), headers=auth(HOUSING), json={
        "channel": "phone", "scope": {"categories": ["offending"]}})
    assert_problem(hidden, 422, "scope.categories")
    assert_problem(absent, 422, "scope.categories")
    assert hidden.json["errors"]["scope.categories"] == [
        "Not part of this consent: substance_misuse."]
    assert absent.json["errors"]["scope.categories"] == ["Not part of this consent: offending."]
    assert consent_state(rt) == before


def test_a_recipient_may_not_withdraw_another_recipients_part_and_cannot_tell_who_is_in_it(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    consent = first_consent(client, auth, demo.lee)
    before = consent_state(rt)
    answers = {}
    for name, recipients in (("in_consent", ["recovery-partnership"]),
                             ("not_in_consent", ["ca-derby"]),
                             ("no_such_org", ["nobody-at-all"]),
                             ("with_itself", ["derby-housing", "recovery-partnership"])):
        r = client.post(WITHDRAW.format(consent["id"]), headers=auth(HOUSING), json={
            "channel": "phone", "scope": {"recipients": recipients}})
        assert_problem(r, 403, None)
        assert r.json["reasons"] == ["withdrawal_scope_not_yours"]
        text = r.get_data(as_text=True)
        assert "recovery-partnership" not in text and "ca-derby" not in text
        [event] = _request_events(rt, r, "consent:record:withdraw")
        assert event.decision == "deny" and event.reasons == ["withdrawal_scope_not_yours"]
        assert event.org == "derby-housing" and str(event.consent_id) == consent["id"]
        assert event.details["requested_recipients"] == sorted(
            set(recipients) - {"derby-housing"})
        answers[name] = _same(r)
    assert answers["in_consent"] == answers["not_in_consent"] == answers["no_such_org"] \
        == answers["with_itself"]
    assert consent_state(rt) == before  # no withdrawal, no notification
    whole = _whole(client, auth, consent["id"], demo.lee)
    assert whole["status"] == "active" and whole["withdrawals"] == []
    assert "substance_misuse" in {e["category"] for e in client.get(
        PLAN.format(demo.lee, "recovery_support"), headers=auth(KEY_WORKER)).json["entries"]}


def test_recorder_and_lead_still_withdraw_any_part(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    # Recorded by Citizens Advice (a recipient too) on a claimant the work coach leads.
    made = client.post(CONSENTS.format(demo.kerry), headers=auth(ADVISER), json=consent_body(
        recipients=["jcp-derby", "ca-derby"], purposes=["budgeting_support"],
        categories=["finances"]))
    assert made.status_code == 201, made.json
    consent_id = made.json["id"]
    by_recorder = client.post(WITHDRAW.format(consent_id), headers=auth(ADVISER), json={
        "channel": "phone", "scope": {"recipients": ["jcp-derby"]}})
    assert by_recorder.status_code == 200, by_recorder.json
    assert by_recorder.json["view"] == "whole"
    assert by_recorder.json["withdrawals"][-1]["scope"] == {"recipients": ["jcp-derby"]}
    # The lead organisation (jcp-derby, whose own part is already withdrawn) records the rest.
    by_lead = client.post(WITHDRAW.format(consent_id), headers=auth(COACH), json={
        "channel": "letter", "scope": {"recipients": ["ca-derby"]}})
    assert by_lead.status_code == 200, by_lead.json
    assert by_lead.json["status"] == "withdrawn"
    for r, org in ((by_recorder, "ca-derby"), (by_lead, "jcp-derby")):
        [event] = _request_events(rt, r, "consent:record:withdraw")
        assert event.decision == "allow" and event.org == org
