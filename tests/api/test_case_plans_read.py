"""The walking skeleton's done-means: an audited, consent-checked, decrypted case-plan read."""

from __future__ import annotations

import uuid
from typing import Any

from flask.testing import FlaskClient

from caseshare.runtime import Runtime
from tests.audit_helpers import events
from tests.builders import assert_problem
from tests.conftest import COACH, HOUSING, Clock, Demo, issue_token

PLAN = "/api/v1/subjects/{}/case-plan?purpose={}"


def _withheld(body: dict[str, Any]) -> dict[str, list[str]]:
    return {w["category"]: w["reasons"] for w in body["withheld"]}


def _consent_id(client: FlaskClient, auth: Any, subject: uuid.UUID) -> str:
    r = client.get(f"/api/v1/subjects/{subject}/consents?purpose=case_management",
                   headers=auth(COACH))
    assert r.status_code == 200
    return str(r.json["items"][0]["id"])


def test_work_coach_reads_plan_with_permitted_categories_decrypted_and_audited(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    r = client.get(PLAN.format(demo.lee, "case_management"), headers=auth(COACH))

    assert r.status_code == 200
    assert r.headers["Cache-Control"] == "no-store"
    assert r.headers["ETag"]
    by_category = {e["category"]: e for e in r.json["entries"]}
    assert by_category["substance_misuse"]["title"] == "Attend weekly alcohol recovery group"
    assert by_category["housing_tenancy"]["title"] == "Agree a rent arrears repayment plan"
    assert "substance_misuse" not in _withheld(r.json)

    allow = [e for e in events(rt, type="case_plan:plan:read", subject_id=demo.lee)
             if e.decision == "allow" and e.request_id == r.headers["X-Request-ID"]]
    assert len(allow) == 1
    event = allow[0]
    assert event.org == "jcp-derby" and event.role == "work_coach"
    assert event.purpose == "case_management"
    assert event.actor and uuid.UUID(event.actor)
    assert {"substance_misuse", "employment", "housing_tenancy"} <= set(event.categories)
    assert str(event.consent_id) == _consent_id(client, auth, demo.lee)
    assert event.protocol in ("recovery-jcp@1", "derby-local-support@1")
    assert event.request_id == r.headers["X-Request-ID"]
    disclosed = {str(e["id"]) for e in r.json["entries"]}
    assert set(event.details["entries"]) == disclosed


def test_housing_officer_is_refused_treatment_details_with_a_reason_and_an_audited_denial(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    url = PLAN.format(demo.lee, "case_management") + "&categories=substance_misuse"
    r = client.get(url, headers=auth(HOUSING))

    assert r.status_code == 200
    assert r.json["entries"] == []
    assert _withheld(r.json) == {"substance_misuse": ["category_not_in_protocol"]}
    assert "recovery group" not in r.get_data(as_text=True)
    deny = [e for e in events(rt, type="case_plan:plan:read", subject_id=demo.lee)
            if e.decision == "deny" and e.request_id == r.headers["X-Request-ID"]]
    assert len(deny) == 1
    assert deny[0].org == "derby-housing" and deny[0].categories == ["substance_misuse"]
    assert deny[0].reasons == ["category_not_in_protocol"]


def test_housing_officer_sees_tenancy_and_withheld_lists_every_other_category(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    r = client.get(PLAN.format(demo.lee, "tenancy_sustainment"), headers=auth(HOUSING))
    shown = {e["category"] for e in r.json["entries"]}
    assert shown == {"housing_tenancy", "employment"}  # the work-to-housing flow, consented
    # The withheld list names every category the caller cannot read, whether or not the plan
    # holds any, so it cannot reveal that this claimant is in treatment.
    withheld = set(_withheld(r.json))
    assert "substance_misuse" in withheld and "offending" in withheld
    assert withheld | shown | {"identity", "contact", "finances"} == set(rt.protocols.categories)


def test_withdrawal_takes_effect_on_the_very_next_request(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    headers = auth(COACH)
    before = client.get(PLAN.format(demo.lee, "case_management"), headers=headers)
    assert "substance_misuse" in {e["category"] for e in before.json["entries"]}

    consent_id = _consent_id(client, auth, demo.lee)
    w = client.post(f"/api/v1/consents/{consent_id}/withdrawal?purpose=case_management",
                    json={"channel": "phone", "reason": "Claimant asked by phone"},
                    headers=headers)
    assert w.status_code == 200 and w.json["status"] == "withdrawn"

    after = client.get(PLAN.format(demo.lee, "case_management"), headers=headers)
    assert after.status_code == 200
    assert "substance_misuse" not in {e["category"] for e in after.json["entries"]}
    assert _withheld(after.json)["substance_misuse"] == ["consent_withdrawn"]
    assert "recovery group" not in after.get_data(as_text=True)
    deny = [e for e in events(rt, type="case_plan:plan:read", subject_id=demo.lee)
            if e.decision == "deny" and e.request_id == after.headers["X-Request-ID"]]
    assert len(deny) == 1 and "consent_withdrawn" in deny[0].reasons
    assert "substance_misuse" in deny[0].categories

    again = client.post(f"/api/v1/consents/{consent_id}/withdrawal?purpose=case_management",
                        json={"channel": "phone"}, headers=headers)
    assert_problem(again, 409)


def test_expired_consent_is_denied_with_consent_expired(
    client: FlaskClient, demo: Demo, rt: Runtime, clock: Clock
) -> None:
    clock.advance(days=181)  # the demo consent runs for 180 days
    headers = {"Authorization": f"Bearer {issue_token(rt, COACH)}"}
    r = client.get(PLAN.format(demo.lee, "case_management"), headers=headers)

    assert r.status_code == 200
    assert _withheld(r.json)["substance_misuse"] == ["consent_expired"]
    assert "recovery group" not in r.get_data(as_text=True)
    # The work coach's own entries remain theirs to read back.
    assert {e["category"] for e in r.json["entries"]} == {"employment"}
    deny = [e for e in events(rt, type="case_plan:plan:read") if e.decision == "deny"
            and e.request_id == r.headers["X-Request-ID"]]
    assert "consent_expired" in deny[0].reasons


def test_unrelated_organisation_gets_404_and_the_probe_is_audited(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    r = client.get(PLAN.format(demo.kerry, "recovery_support"),
                   headers=auth("dan.whitfield@recovery-partnership.example"))
    assert r.status_code == 404
    missing = client.get(PLAN.format(uuid.uuid4(), "recovery_support"),
                         headers=auth("dan.whitfield@recovery-partnership.example"))
    assert missing.status_code == 404
    assert set(r.json) == set(missing.json)  # an existing and a missing id look the same
    denied = events(rt, type="access:subject:deny", subject_id=demo.kerry)
    assert denied and denied[0].reasons == ["no_case_relationship"]
    assert r.json["audit_id"] == str(denied[0].event_uuid)
