"""Every consent rule through the API, on both engines: status, the field named in the
problem, and no partial state left behind."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient

from caseshare.runtime import Runtime
from tests.audit_helpers import events
from tests.builders import (
    CONSENTS,
    PLAN,
    TREATMENT,
    assert_problem,
    consent_body,
    consent_state,
    register,
)
from tests.conftest import COACH, Demo

HW = {"type": "lpa_health_welfare", "name": "J. Marsh", "authority_ref": "LPA-7000-3333-4444"}
ASSESSED = {"assessed_by": "Dr R. Patel", "assessed_on": "2026-11-20"}
COMPETENT = {"competent": True, "assessed_by": "S. Okafor", "assessed_on": "2026-11-23"}


@pytest.mark.parametrize(("changes", "field"), [
    ({"recipients": ["jcp-derby", "local-charities"]}, "recipients"),  # not a named party
    ({"recipients": []}, "recipients"),
    ({"recipients": ["jcp-derby", "jcp-derby"]}, "recipients"),
    ({"purposes": ["marketing"]}, "purposes"),
    ({"categories": ["identity", "health_mental"]}, "categories"),
    ({"excluded_categories": ["contact"]}, "excluded_categories"),
    ({"categories": ["substance_misuse"], "recipients": ["jcp-derby"]}, "explicit_statement"),
    ({"categories": ["substance_misuse"], "explicit_statement": TREATMENT,
      "method": "verbal_phone", "evidence_ref": None}, "evidence_ref"),
    ({"given_by": {"type": "dwp_appointee", "authority_ref": "BF56-1"},
      "categories": ["identity", "substance_misuse"], "explicit_statement": TREATMENT},
     "given_by.type"),
    ({"given_by": {"type": "dwp_appointee"}}, "given_by.authority_ref"),
    ({"given_by": {"type": "lpa_property_financial", "authority_ref": "LPA-1"},
      "categories": ["finances", "employment"]}, "given_by.type"),
    ({"given_by": HW}, "capacity"),
    ({"given_by": HW, "capacity": {"lacks_capacity": False, **ASSESSED}},
     "capacity.lacks_capacity"),
    ({"capacity": {"lacks_capacity": True, **ASSESSED}}, "capacity.lacks_capacity"),
    ({"capacity": {"lacks_capacity": True}}, "capacity.assessed_by"),
    ({"given_by": {"type": "parental_responsibility", "authority_ref": "mother"}},
     "given_by.type"),
    ({"expires_at": "2027-11-24T09:30:00Z"}, "expires_at"),  # 366 days: beyond the maximum
    ({"expires_at": None}, "expires_at"),
    ({"expiry_rule": "assessment_period_end"}, "expires_at"),  # 90 days is not the next period
    ({"valid_from": "2026-11-01T00:00:00Z"}, "valid_from"),
    ({"form_version": 9}, "form_version"),
    ({"language": "fr"}, "language"),
    ({"decision": "maybe"}, "decision"),
    ({"supersedes": "00000000-0000-4000-8000-000000000000"}, "supersedes"),
])
def test_a_consent_breaking_a_rule_is_422_naming_the_field_and_writes_nothing(
    changes: dict[str, Any], field: str, client: FlaskClient, auth: Any, demo: Demo,
    rt: Runtime,
) -> None:
    before = consent_state(rt)
    body = consent_body(**changes)
    body = {k: v for k, v in body.items() if v is not None}
    r = client.post(CONSENTS.format(demo.kerry), json=body, headers=auth(COACH))
    assert_problem(r, 422, field)
    assert consent_state(rt) == before
    assert not [e for e in events(rt, type="consent:record:create")
                if e.request_id == r.headers["X-Request-ID"]]


@pytest.mark.parametrize("missing", ["recipients", "purposes", "categories", "expires_at",
                                     "method", "given_by"])
def test_nothing_is_chosen_by_default(missing: str, client: FlaskClient, auth: Any,
                                      demo: Demo, rt: Runtime) -> None:
    before = consent_state(rt)
    body = consent_body()
    del body[missing]
    r = client.post(CONSENTS.format(demo.kerry), json=body, headers=auth(COACH))
    assert_problem(r, 422, missing)
    assert consent_state(rt) == before


def test_a_valid_consent_is_recorded_with_the_pinned_text_hash_and_audited(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    r = client.post(CONSENTS.format(demo.kerry), json=consent_body(), headers=auth(COACH))
    assert r.status_code == 201, r.json
    assert r.json["status"] == "active" and r.json["decision"] == "granted"
    assert r.json["recipients"] == ["jcp-derby"] and r.json["expiry_rule"] == "fixed_date"
    form = rt.forms.get("derby-multi-agency", 1)
    assert form is not None and r.json["text_hash"] == form.text_hash("en")
    created = events(rt, type="consent:record:create", consent_id=uuid.UUID(r.json["id"]))
    assert len(created) == 1 and created[0].decision == "allow"
    assert created[0].details["text_hash"] == r.json["text_hash"]


def test_appointee_consent_for_benefit_matters_is_recorded(
    client: FlaskClient, auth: Any, demo: Demo
) -> None:
    appointee = {"type": "dwp_appointee", "name": "R. Dunn", "authority_ref": "BF56-1234"}
    r = client.post(CONSENTS.format(demo.kerry), headers=auth(COACH), json=consent_body(
        given_by=appointee, categories=["identity", "finances", "benefit_claim"]))
    assert r.status_code == 201, r.json
    assert r.json["given_by"] == appointee


def test_health_and_welfare_attorney_where_claimant_lacks_capacity_is_recorded(
    client: FlaskClient, auth: Any, demo: Demo
) -> None:
    r = client.post(CONSENTS.format(demo.lee), headers=auth(COACH), json=consent_body(
        given_by=HW, capacity={"lacks_capacity": True, **ASSESSED},
        categories=["identity", "substance_misuse"], explicit_statement=TREATMENT))
    assert r.status_code == 201, r.json
    assert r.json["capacity"] == {"lacks_capacity": True, **ASSESSED}


def test_unverified_verbal_consent_is_recorded_as_unverified(
    client: FlaskClient, auth: Any, demo: Demo
) -> None:
    body = consent_body(method="verbal_phone")
    del body["evidence_ref"]
    r = client.post(CONSENTS.format(demo.kerry), headers=auth(COACH), json=body)
    assert r.status_code == 201, r.json
    assert r.json["status"] == "unverified" and r.json["verified"] is False


@pytest.mark.parametrize(("born", "jurisdiction", "competence", "status", "field"), [
    ("2011-05-01", "england", None, 422, "competence"),
    ("2011-05-01", "england", {**COMPETENT, "competent": False}, 422, "competence.competent"),
    ("2011-05-01", "england", COMPETENT, 201, None),
    ("2013-05-01", "scotland", None, 201, None),  # 13: presumed competent in Scotland
    ("2015-05-01", "scotland", None, 422, "competence"),  # 11: no presumption
])
def test_a_childs_own_consent_needs_a_recorded_competence_assessment(
    born: str, jurisdiction: str, competence: dict[str, Any] | None, status: int,
    field: str | None, client: FlaskClient, auth: Any, demo: Demo, rt: Runtime,
) -> None:
    child = register(client, auth(COACH), born=born, jurisdiction=jurisdiction, nino=None,
                     postcode=None)
    body = consent_body() | ({"competence": competence} if competence else {})
    before = consent_state(rt)
    r = client.post(CONSENTS.format(child), json=body, headers=auth(COACH))
    if status == 201:
        assert r.status_code == 201, r.json
        assert r.json["competence"]["competent"] is True
        assert r.json["competence"]["presumed"] is (competence is None)
    else:
        assert_problem(r, status, field)
        assert consent_state(rt) == before


def test_a_parent_cannot_override_a_competent_childs_refusal(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    child = register(client, auth(COACH), born="2011-05-01", nino=None, postcode=None)
    refusal = client.post(CONSENTS.format(child), headers=auth(COACH), json=consent_body(
        decision="refused", competence=COMPETENT))
    assert refusal.status_code == 201, refusal.json
    assert refusal.json["status"] == "refused"

    before = consent_state(rt)
    parent = {"type": "parental_responsibility", "name": "P. Test", "authority_ref": "mother"}
    r = client.post(CONSENTS.format(child), headers=auth(COACH),
                    json=consent_body(given_by=parent))
    assert_problem(r, 409, "given_by.type")
    assert consent_state(rt) == before

    # Without a refusal on record a parent may consent for a child.
    other = register(client, auth(COACH), born="2016-05-01", nino=None, postcode=None)
    ok = client.post(CONSENTS.format(other), headers=auth(COACH),
                     json=consent_body(given_by=parent))
    assert ok.status_code == 201, ok.json


def test_a_refusal_is_neutral_and_blocks_nothing_else(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    # Lee refuses sharing treatment details with Citizens Advice; the existing consent still
    # lets the work coach read the treatment entry.
    r = client.post(CONSENTS.format(demo.lee), headers=auth(COACH), json=consent_body(
        decision="refused", recipients=["ca-derby"], categories=["substance_misuse"]))
    assert r.status_code == 201, r.json
    assert r.json["status"] == "refused"
    plan = client.get(PLAN.format(demo.lee, "case_management"), headers=auth(COACH))
    assert "substance_misuse" in {e["category"] for e in plan.json["entries"]}
    allow = [e for e in events(rt, type="case_plan:plan:read", decision="allow")
             if e.request_id == plan.headers["X-Request-ID"]]
    assert allow and str(allow[0].consent_id) != r.json["id"]
    # A refusal grants nothing to withdraw.
    w = client.post(f"/api/v1/consents/{r.json['id']}/withdrawal?purpose=case_management",
                    json={"channel": "phone"}, headers=auth(COACH))
    assert_problem(w, 409, None)


def test_a_new_version_supersedes_the_old_one_once(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    listed = client.get(CONSENTS.format(demo.kerry), headers=auth(COACH)).json["items"]
    old = listed[0]["id"]
    r = client.post(CONSENTS.format(demo.kerry), headers=auth(COACH),
                    json=consent_body(supersedes=old))
    assert r.status_code == 201 and r.json["supersedes"] == old
    statuses = {i["id"]: i["status"] for i in
                client.get(CONSENTS.format(demo.kerry), headers=auth(COACH)).json["items"]}
    assert statuses[old] == "superseded" and statuses[r.json["id"]] == "active"
    before = consent_state(rt)
    again = client.post(CONSENTS.format(demo.kerry), headers=auth(COACH),
                        json=consent_body(supersedes=old))
    assert_problem(again, 409, "supersedes")
    assert consent_state(rt) == before
