"""The assessments API: forms, recording (every 422 naming the question, 403 with reasons and
an audit event), listing under the decision, accepting proposals, 404 for an unrelated
organisation."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient

from caseshare.runtime import Runtime
from tests.audit_helpers import events
from tests.builders import assert_problem, register
from tests.conftest import ADVISER, COACH, HOUSING, Demo
from tests.integration.assessments.helpers import FORM, HIGH_NEED, triage_consent

BASE = "/api/v1/subjects/{}/assessments?purpose=triage"


@pytest.fixture
def kerry(rt: Runtime, demo: Demo) -> uuid.UUID:
    triage_consent(rt, COACH, demo.kerry, ["jcp-derby", "ca-derby"],
                   ["triage", "budgeting_support", "case_management"])
    return demo.kerry


def post(client: FlaskClient, headers: dict[str, str], subject: uuid.UUID,
         answers: dict[str, Any], **body: Any) -> Any:
    return client.post(BASE.format(subject), headers=headers, json={
        "form_id": FORM[0], "form_version": FORM[1], "language": "en", "answers": answers,
        **body})


def test_forms_are_listed_and_read_in_each_language(client: FlaskClient, auth: Any) -> None:
    r = client.get("/api/v1/assessment-forms", headers=auth(COACH))
    assert r.status_code == 200
    assert {"id": FORM[0], "version": 1, "languages": ["en", "cy"],
            "title": {"en": "Budgeting and digital support triage",
                      "cy": "Brysbennu cymorth cyllidebu a digidol"}} in r.json
    r = client.get(f"/api/v1/assessment-forms/{FORM[0]}/1?lang=cy", headers=auth(COACH))
    assert r.status_code == 200 and r.json["language"] == "cy"
    health = next(q for q in r.json["questions"] if q["id"] == "health_affects")
    assert health["type"] == "multiple_choice" and health["category"] == "health_wellbeing"
    assert {"value": "mental_health", "text": "Fy iechyd meddwl"} in health["options"]
    bank = next(q for q in r.json["questions"] if q["id"] == "bank_account")
    assert [o["value"] for o in bank["options"]] == ["yes", "no"]
    assert_problem(client.get(f"/api/v1/assessment-forms/{FORM[0]}/7", headers=auth(COACH)), 404)
    assert client.get("/api/v1/assessment-forms").status_code == 401


def test_the_contract_of_a_recorded_assessment(client: FlaskClient, auth: Any,
                                               kerry: uuid.UUID) -> None:
    r = post(client, auth(COACH), kerry, HIGH_NEED)
    assert r.status_code == 201, r.json
    body = r.json
    assert {"id", "form_id", "form_version", "completed_at", "scores", "level", "flags",
            "explanations", "proposals"} <= set(body)
    assert body["completed_at"].endswith("Z") and body["scores"]["digital_capability"] == 8
    assert body["flags"] == ["drug_alcohol_dependency"] and body["level"] == "intensive"
    proposal = next(p for p in body["proposals"] if p["id"] == "housing_costs")
    assert {"id", "kind", "service_line", "to_org", "title", "allowed", "reasons",
            "next_step"} <= set(proposal)
    assert proposal["allowed"] is False and proposal["reasons"] == ["recipient_not_in_consent"]
    r = client.get(BASE.format(kerry), headers=auth(ADVISER))
    assert r.status_code == 200
    [item] = r.json["items"]
    assert "work" not in item["answers"] and item["answers"]["manage_money"] == "struggle"
    assert item["withheld"] == [{"category": "employment", "reasons": ["role_not_granted"]}]


@pytest.mark.parametrize(("answers", "field"), [
    ({**HIGH_NEED, "favourite_colour": "blue"}, "answers.favourite_colour"),   # unknown
    ({k: v for k, v in HIGH_NEED.items() if k != "work"}, "answers.work"),     # missing
    ({**HIGH_NEED, "rent_arrears_weeks": "six"}, "answers.rent_arrears_weeks"),  # wrong type
    ({**HIGH_NEED, "get_online": "carrier_pigeon"}, "answers.get_online"),     # wrong option
    ({**HIGH_NEED, "priority_debts": ["rent", "yacht"]}, "answers.priority_debts"),
])
def test_every_bad_answer_is_a_422_naming_the_question(client: FlaskClient, auth: Any,
                                                      kerry: uuid.UUID, answers: Any,
                                                      field: str) -> None:
    assert_problem(post(client, auth(COACH), kerry, answers), 422, field)


def test_bad_form_fields_are_422s_naming_them(client: FlaskClient, auth: Any,
                                              kerry: uuid.UUID) -> None:
    assert_problem(post(client, auth(COACH), kerry, HIGH_NEED, form_id="nope"), 422, "form_id")
    assert_problem(post(client, auth(COACH), kerry, HIGH_NEED, form_version=3), 422,
                   "form_version")
    assert_problem(post(client, auth(COACH), kerry, HIGH_NEED, language="fr"), 422, "language")
    assert_problem(post(client, auth(COACH), kerry, HIGH_NEED, extra=1), 422, "extra")


def test_a_category_the_caller_may_not_write_is_403_with_reasons_and_audited(
        client: FlaskClient, auth: Any, rt: Runtime, demo: Demo) -> None:
    triage_consent(rt, COACH, demo.lee, ["jcp-derby", "derby-housing"], ["triage"])
    body = assert_problem(post(client, auth(HOUSING), demo.lee, HIGH_NEED), 403,
                          reason="role_not_granted")
    [event] = events(rt, type="assessments:assessment:create")
    assert event.decision == "deny" and body["audit_id"] == str(event.event_uuid)


def test_an_unrelated_organisation_gets_404(client: FlaskClient, auth: Any, rt: Runtime,
                                            demo: Demo) -> None:
    # Citizens Advice does not work with Lee.
    assert_problem(client.get(BASE.format(demo.lee), headers=auth(ADVISER)), 404)
    assert_problem(post(client, auth(ADVISER), demo.lee, HIGH_NEED), 404)
    assert events(rt, type="access:subject:deny")


def test_accepting_proposals(client: FlaskClient, auth: Any, rt: Runtime,
                             kerry: uuid.UUID) -> None:
    created = post(client, auth(COACH), kerry, HIGH_NEED).json
    # A referral proposal names the receiver's directory service for its service line.
    budgeting = next(p for p in created["proposals"] if p["id"] == "budgeting")
    # (Citizens Advice Derby lists two budgeting services; the first by name is proposed.)
    assert budgeting["service_id"] in {"ca-derby-debt", "ca-derby-budgeting"}
    assert budgeting["service_name"]
    accept = (f"/api/v1/subjects/{kerry}/assessments/{created['id']}/proposals/{{}}/accept"
              "?purpose=triage")
    r = client.post(accept.format("complex_needs"), headers=auth(COACH))
    assert r.status_code == 201, r.json
    assert r.json["created"] == "entry" and r.json["category"] == "health_wellbeing"
    r = client.post(accept.format("budgeting"), headers=auth(COACH),
                    json={"contact_name": "Aisha Begum"})
    assert r.status_code == 201, r.json
    assert r.json["created"] == "referral" and r.json["to_org"] == "ca-derby"
    assert r.json["service_id"] == budgeting["service_id"]
    twice = assert_problem(client.post(accept.format("budgeting"), headers=auth(COACH)), 409)
    body = assert_problem(client.post(accept.format("housing_costs"), headers=auth(COACH)), 403,
                          reason="recipient_not_in_consent")
    assert "Ask the claimant to add Derby City Council Housing Options" in body["detail"]
    denied = [e for e in events(rt, type="assessments:proposal:accept") if e.decision == "deny"]
    assert [str(e.event_uuid) for e in denied] == [twice["audit_id"], body["audit_id"]]
    assert denied[0].reasons == ["already_accepted"]
    assert_problem(client.post(accept.format("no_such"), headers=auth(COACH)), 404)


def test_accepting_an_action_starts_the_plan_when_there_is_none(
        client: FlaskClient, auth: Any, rt: Runtime) -> None:
    subject = uuid.UUID(register(client, auth(COACH)))
    triage_consent(rt, COACH, subject, ["jcp-derby"], ["triage"])
    created = post(client, auth(COACH), subject, HIGH_NEED).json
    r = client.post(f"/api/v1/subjects/{subject}/assessments/{created['id']}/proposals/"
                    "digital/accept?purpose=triage", headers=auth(COACH))
    assert r.status_code == 201, r.json
    plan = client.get(f"/api/v1/subjects/{subject}/case-plan?purpose=triage",
                      headers=auth(COACH)).json
    assert [e["id"] for e in plan["entries"]] == [r.json["id"]]
    assert events(rt, type="case_plan:plan:create", decision="allow")


def test_fhir_exports_carry_only_the_answers_the_caller_may_read(
        client: FlaskClient, auth: Any, rt: Runtime, kerry: uuid.UUID) -> None:
    from fhir.resources.R4B.questionnaire import Questionnaire
    from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

    r = client.get(f"/api/v1/assessment-forms/{FORM[0]}/1/fhir?lang=cy", headers=auth(COACH))
    assert r.status_code == 200 and r.mimetype == "application/fhir+json"
    assert Questionnaire.model_validate(r.json).language == "cy"
    other = post(client, auth(COACH), kerry, HIGH_NEED)  # an earlier one, same claimant
    recorded = post(client, auth(COACH), kerry, HIGH_NEED)
    assert recorded.status_code == 201, recorded.json
    path = f"/api/v1/subjects/{kerry}/assessments/{recorded.json['id']}/fhir"
    coach = client.get(f"{path}?purpose=triage", headers=auth(COACH))
    assert coach.status_code == 200, coach.json
    # Only the exported assessment is opened and audited (not the claimant's other one).
    read = events(rt, type="assessments:assessment:list")
    assert read and all(e.details["assessments"] == [recorded.json["id"]] for e in read)
    assert other.json["id"] != recorded.json["id"]
    QuestionnaireResponse.model_validate(coach.json)
    assert "work" in {i["linkId"] for i in coach.json["item"]}
    # The adviser may not read employment: that answer is simply absent from the export.
    adviser = client.get(f"{path}?purpose=triage", headers=auth(ADVISER))
    assert adviser.status_code == 200
    linked = {i["linkId"] for i in adviser.json["item"]}
    assert "work" not in linked and "manage_money" in linked
    assert_problem(client.get(f"/api/v1/subjects/{kerry}/assessments/{uuid.uuid4()}/fhir"
                              "?purpose=triage", headers=auth(COACH)), 404)


def test_a_closed_case_takes_no_assessment(client: FlaskClient, auth: Any, rt: Runtime,
                                           kerry: uuid.UUID) -> None:
    from sqlalchemy import func, select

    from caseshare.assessments.models import Assessment

    closed = client.post(f"/api/v1/subjects/{kerry}/closure?purpose=case_management",
                         headers=auth(COACH), json={"reason": "goals_met"})
    assert closed.status_code == 200, closed.json
    body = assert_problem(post(client, auth(COACH), kerry, HIGH_NEED), 403, reason="case_closed")
    [event] = events(rt, type="assessments:assessment:create")
    assert event.decision == "deny" and event.reasons == ["case_closed"]
    assert body["audit_id"] == str(event.event_uuid)
    with rt.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Assessment)
                        .where(Assessment.subject_id == kerry)) == 0
