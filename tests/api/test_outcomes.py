"""The outcomes API: POST /subjects/{id}/outcomes records a code from the partnership's list
(201, attributed), an unknown or computed code is a 422 naming `code`, a category the caller may
not write a 403 (audited); GET lists the outcomes under the decision per category."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient

from caseshare.outcomes.attribution import attribute
from caseshare.outcomes.service import record_outcome
from caseshare.runtime import Runtime
from caseshare.subjects import service as subjects
from caseshare.subjects.service import add_case_member
from caseshare.unit_of_work import UnitOfWork
from tests.audit_helpers import events
from tests.builders import assert_problem, consent, register
from tests.conftest import COACH, HOUSING, KEY_WORKER, Clock
from tests.mi_builders import add_outcomes

CM = "case_management"


def _url(subject: str, purpose: str = CM) -> str:
    return f"/api/v1/subjects/{subject}/outcomes?purpose={purpose}"


def _claimant(client: FlaskClient, auth: Any, clock: Clock, rt: Runtime) -> str:
    """A claimant with a broad consent and the housing service in their case."""
    coach = auth(COACH)
    subject = register(client, coach)
    consent(client, coach, subject, clock.now)
    with rt.session_factory() as s:
        add_case_member(s, subject_id=uuid.UUID(subject), org="derby-housing", now=clock.now)
        s.commit()
    return subject


def test_housing_officer_records_an_apa_in_place_attributed_and_audited(
        client: FlaskClient, auth: Any, rt: Runtime, clock: Clock) -> None:
    subject = _claimant(client, auth, clock, rt)
    achieved = (clock.now - timedelta(days=3)).date().isoformat()
    r = client.post(_url(subject), headers=auth(HOUSING),
                    json={"code": "apa_in_place", "achieved_on": achieved,
                          "evidence_ref": "DWP-APA-0042"})
    assert r.status_code == 201, r.json
    assert r.json["category"] == "housing_tenancy"
    assert r.json["service_line"] == "apa_identification"  # the code's own by default
    assert r.json["evidence_ref"] == "DWP-APA-0042"
    assert {(a["org"], a["basis"]) for a in r.json["attribution"]} == {
        ("derby-housing", "recorded")}
    recorded = events(rt, type="outcomes:outcome:record", subject_id=uuid.UUID(subject))
    assert len(recorded) == 1 and recorded[0].details["code"] == "apa_in_place"
    assert "DWP-APA-0042" not in str(recorded[0].details)

    listed = client.get(_url(subject), headers=auth(HOUSING))
    assert listed.status_code == 200
    assert [o["code"] for o in listed.json["outcomes"]] == ["apa_in_place"]
    assert events(rt, type="outcomes:outcome:list", subject_id=uuid.UUID(subject))
    # The same code on the same day again is a conflict, never a second count.
    again = client.post(_url(subject), headers=auth(HOUSING),
                        json={"code": "apa_in_place", "achieved_on": achieved})
    assert_problem(again, 409)


def test_unknown_and_computed_codes_are_422_naming_code(
        client: FlaskClient, auth: Any, rt: Runtime, clock: Clock) -> None:
    subject = _claimant(client, auth, clock, rt)
    today = clock.now.date().isoformat()
    for code in ("moon_landing", "paying_own_rent_6m"):
        r = client.post(_url(subject), headers=auth(HOUSING),
                        json={"code": code, "achieved_on": today})
        assert_problem(r, 422, "code")
    future = (clock.now + timedelta(days=2)).date().isoformat()
    assert_problem(client.post(_url(subject), headers=auth(HOUSING),
                               json={"code": "apa_identified", "achieved_on": future}),
                   422, "achieved_on")
    assert not events(rt, type="outcomes:outcome:record")


def test_a_category_the_caller_may_not_write_is_403_and_audited(
        client: FlaskClient, auth: Any, rt: Runtime, clock: Clock) -> None:
    subject = _claimant(client, auth, clock, rt)
    # The work coach writes identity and contact only, not housing_tenancy.
    r = client.post(_url(subject), headers=auth(COACH),
                    json={"code": "apa_in_place", "achieved_on": clock.now.date().isoformat()})
    assert_problem(r, 403)
    denied = events(rt, type="access:write:deny", subject_id=uuid.UUID(subject))
    assert denied and "housing_tenancy" in denied[-1].categories
    assert not events(rt, type="outcomes:outcome:record")


def test_an_outcome_from_an_organisation_no_flow_brings_is_not_shown(
        client: FlaskClient, auth: Any, rt: Runtime, clock: Clock) -> None:
    """Review of issue 24, finding 3: the category alone is not enough; the recording
    organisation must be a source the decision lets the reader read it from."""
    subject = _claimant(client, auth, clock, rt)
    with rt.session_factory() as s:
        add_case_member(s, subject_id=uuid.UUID(subject), org="recovery-partnership",
                        now=clock.now)
        s.commit()
    add_outcomes(rt, uuid.UUID(subject), "apa_in_place", 1, org="recovery-partnership")
    add_outcomes(rt, uuid.UUID(subject), "apa_identified", 1, org="derby-housing")
    r = client.get(_url(subject), headers=auth(HOUSING))
    assert r.status_code == 200, r.json
    assert [(o["code"], o["recorded_org"]) for o in r.json["outcomes"]] == [
        ("apa_identified", "derby-housing")]
    listed = events(rt, type="outcomes:outcome:list", subject_id=uuid.UUID(subject))
    assert len(listed[-1].details["outcomes"]) == 1


def test_withheld_categories_do_not_depend_on_which_outcomes_exist(
        client: FlaskClient, auth: Any, rt: Runtime, clock: Clock) -> None:
    """Review of issue 24, finding 6: a reader who may not see the housing service's outcomes
    (the key worker) gets the same answer whether or not the claimant has any; before, the
    withheld list named housing_tenancy only when an outcome existed in it."""
    with_one, without = (_claimant(client, auth, clock, rt) for _ in range(2))
    for subject in (with_one, without):
        with rt.session_factory() as s:
            add_case_member(s, subject_id=uuid.UUID(subject), org="recovery-partnership",
                            now=clock.now)
            s.commit()
    add_outcomes(rt, uuid.UUID(with_one), "apa_in_place", 1)
    answers = [client.get(_url(s), headers=auth(KEY_WORKER)) for s in (with_one, without)]
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].json == answers[1].json == {"outcomes": [], "withheld": answers[1].json[
        "withheld"]}


def test_an_outcome_recorded_as_its_organisations_own_record_is_shown_to_it_alone(
        client: FlaskClient, auth: Any, rt: Runtime, clock: Clock) -> None:
    """Review of issue 24, finding 3, the own-record rule: an outcome recorded where no flow
    shared its category onward stays its organisation's, even for a reader a flow from that
    organisation now reaches (the coach reads housing data from the housing service)."""
    subject = _claimant(client, auth, clock, rt)
    with rt.session_factory() as s, UnitOfWork(s):
        key = subjects.data_key(subjects.get_subject(s, uuid.UUID(subject)), rt.keyring)
        outcome = record_outcome(
            s, key, subject_id=uuid.UUID(subject), code="apa_in_place",
            category="housing_tenancy", achieved_on=clock.now.date(), org="derby-housing",
            purpose="tenancy_sustainment", now=clock.now, staff_id=None, own_record=True)
        attribute(s, outcome)
    seen = {who: [o["code"] for o in client.get(_url(subject), headers=auth(who)).json[
        "outcomes"]] for who in (HOUSING, COACH)}
    assert seen == {HOUSING: ["apa_in_place"], COACH: []}
