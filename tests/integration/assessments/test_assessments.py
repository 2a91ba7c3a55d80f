"""Completed assessments on both engines: sealed item by item, read under the decision,
proposals checked against protocol and consent, accepted once through the plan and referral
use cases, history with what changed."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from caseshare.access import assessments
from caseshare.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
from caseshare.runtime import Runtime
from tests.audit_helpers import events
from tests.conftest import ADVISER, COACH, HOUSING, Clock, Demo
from tests.integration.assessments.helpers import FORM, HIGH_NEED, LOW_NEED, run, triage_consent


@pytest.fixture
def kerry(rt: Runtime, demo: Demo) -> Demo:
    """Kerry agreed that Jobcentre Plus and Citizens Advice share her triage (health
    explicitly) for triage and budgeting support; Derby Housing is not named."""
    triage_consent(rt, COACH, demo.kerry, ["jcp-derby", "ca-derby"],
                   ["triage", "budgeting_support", "case_management"])
    return demo


def record(rt: Runtime, email: str, subject: object, answers: dict[str, object],
           language: str = "en") -> assessments.AssessmentView:
    return run(rt, email, "triage", assessments.record_assessment, subject, FORM[0], FORM[1],
               language, answers)


def test_recorded_assessment_is_scored_with_checked_proposals(rt: Runtime, kerry: Demo) -> None:
    view = record(rt, COACH, kerry.kerry, HIGH_NEED)
    assert view.scores == {"financial_capability": 9, "digital_capability": 8, "housing": 6,
                           "employment": 3, "health_wellbeing": 3}
    assert view.level == "intensive" and view.flags == ["drug_alcohol_dependency"]
    assert view.explanations["housing"] == ["priority_debts", "rent_arrears_weeks"]
    assert view.review_on == rt.now().date() + timedelta(days=28)
    by_id = {p.id: p for p in view.proposals}
    assert set(by_id) == {"budgeting", "digital", "housing_costs", "complex_needs"}
    assert by_id["budgeting"].allowed and by_id["budgeting"].to_org == "ca-derby"
    assert by_id["digital"].allowed and by_id["complex_needs"].allowed
    refused = by_id["housing_costs"]
    assert not refused.allowed and refused.reasons == ("recipient_not_in_consent",)
    assert refused.next_step.startswith(
        "Ask the claimant to add Derby City Council Housing Options for help to keep their home")
    created = events(rt, type="assessments:assessment:create", decision="allow")
    assert len(created) == 1 and created[0].details["assessment_id"] == str(view.id)
    # The event names codes and ids only: no flag, level or answer.
    assert "drug" not in str(created[0].details) and "intensive" not in str(created[0].details)


def test_no_answer_or_finding_is_stored_in_plaintext(rt: Runtime, kerry: Demo,
                                                     engine: str) -> None:
    record(rt, COACH, kerry.kerry, {**HIGH_NEED, "manage_money": "struggle"})
    with rt.session_factory() as s:
        raw = " ".join(str(row) for table in ("assessments", "assessment_items",
                                              "audit_events")
                       for row in s.execute(text(f"SELECT * FROM {table}")))  # noqa: S608
    for secret in ("drug_alcohol", "struggle", "not_ready", "intensive"):
        assert secret not in raw
    if engine == "sqlite":
        path = Path(str(rt.engine.url.database))
        blob = b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
        assert b"drug_alcohol" not in blob and b"struggle" not in blob


def test_an_organisation_reads_only_the_answers_it_may(rt: Runtime, kerry: Demo) -> None:
    record(rt, COACH, kerry.kerry, HIGH_NEED)
    [seen] = run(rt, ADVISER, "triage", assessments.list_assessments, kerry.kerry)
    # Citizens Advice's triage grant does not read employment.
    assert "work" not in seen.answers and seen.answers["health_affects"] == ["drug_alcohol"]
    assert seen.withheld == [{"category": "employment", "reasons": ["role_not_granted"]}]
    assert "employment" not in seen.scores and seen.scores["financial_capability"] == 9
    # The level rests on every domain's score, so it is withheld with employment's.
    assert seen.level is None and seen.review_on is None
    assert seen.flags == ["drug_alcohol_dependency"]
    denied = events(rt, type="assessments:assessment:list", decision="deny")
    assert denied and denied[-1].categories == ["employment"]
    # The author reads it all.
    [own] = run(rt, COACH, "triage", assessments.list_assessments, kerry.kerry)
    assert own.answers["work"] == "not_ready" and own.level == "intensive" and not own.withheld


def test_without_explicit_consent_health_answers_and_flags_are_withheld(
        rt: Runtime, demo: Demo) -> None:
    triage_consent(rt, COACH, demo.kerry, ["jcp-derby", "ca-derby"], ["triage"],
                   ["identity", "contact", "finances", "housing_tenancy", "digital_capability"])
    record(rt, COACH, demo.kerry, HIGH_NEED)
    [seen] = run(rt, ADVISER, "triage", assessments.list_assessments, demo.kerry)
    assert "health_affects" not in seen.answers and seen.flags == []
    assert "health_wellbeing" not in seen.scores
    assert {w["category"] for w in seen.withheld} == {"employment", "health_wellbeing"}
    # The complex needs proposal rests on the health score: not shown to Citizens Advice.
    assert "complex_needs" not in {p.id for p in seen.proposals}


def test_writing_a_category_the_caller_may_not_is_refused_with_reasons(
        rt: Runtime, demo: Demo) -> None:
    triage_consent(rt, COACH, demo.lee, ["jcp-derby", "derby-housing"], ["triage"])
    with pytest.raises(ForbiddenError) as refused:
        record(rt, HOUSING, demo.lee, HIGH_NEED)  # the housing officer writes no employment
    assert refused.value.extra["reasons"] == ["role_not_granted"]
    [event] = events(rt, type="assessments:assessment:create")
    assert event.decision == "deny" and "employment" in event.categories


def test_unknown_form_version_and_question_are_422s_naming_them(rt: Runtime,
                                                                 kerry: Demo) -> None:
    for form_id, version, lang, field in (("nope", 1, "en", "form_id"),
                                          (FORM[0], 9, "en", "form_version"),
                                          (FORM[0], 1, "fr", "language")):
        with pytest.raises(ValidationError) as bad:
            run(rt, COACH, "triage", assessments.record_assessment, kerry.kerry, form_id,
                version, lang, HIGH_NEED)
        assert field in bad.value.extra["errors"]
    with pytest.raises(ValidationError) as bad:
        record(rt, COACH, kerry.kerry, {**HIGH_NEED, "shoe_size": 9, "work": "astronaut"})
    assert set(bad.value.extra["errors"]) == {"answers.shoe_size", "answers.work"}


def test_accepting_creates_the_entry_and_referral_once(rt: Runtime, kerry: Demo) -> None:
    view = record(rt, COACH, kerry.kerry, HIGH_NEED)
    action = run(rt, COACH, "triage", assessments.accept_proposal, kerry.kerry, view.id,
                 "digital")
    assert action.kind == "entry" and action.item["category"] == "digital_capability"
    assert action.item["title"] == "Book an assisted digital session"
    assert action.item["service"] == "assisted_digital"
    assert action.item["due_on"] == rt.now().date() + timedelta(days=14)
    assert events(rt, type="case_plan:entry:create", decision="allow")
    referral = run(rt, COACH, "triage", assessments.accept_proposal, kerry.kerry, view.id,
                   "budgeting")
    assert referral.kind == "referral" and referral.item["to_org"] == "ca-derby"
    assert referral.item["purpose"] == "budgeting_support"
    assert referral.item["contact_name"] == "Citizens Advice Derby"  # no person named yet
    assert events(rt, type="referral:referral:create", decision="allow")
    accepted = events(rt, type="assessments:proposal:accept", decision="allow")
    assert [e.details["proposal_id"] for e in accepted] == ["digital", "budgeting"]
    with pytest.raises(ConflictError) as twice:
        run(rt, COACH, "triage", assessments.accept_proposal, kerry.kerry, view.id, "digital")
    [refused] = events(rt, type="assessments:proposal:accept", decision="deny")
    assert refused.reasons == ["already_accepted"] and refused.details["proposal_id"] == "digital"
    assert twice.value.extra["audit_id"] == refused.event_uuid
    [listed] = run(rt, COACH, "triage", assessments.list_assessments, kerry.kerry)
    assert {p.id for p in listed.proposals if p.accepted} == {"digital", "budgeting"}


def test_a_refused_proposal_is_403_with_reasons_and_audited(rt: Runtime, kerry: Demo) -> None:
    view = record(rt, COACH, kerry.kerry, HIGH_NEED)
    with pytest.raises(ForbiddenError) as refused:
        run(rt, COACH, "triage", assessments.accept_proposal, kerry.kerry, view.id,
            "housing_costs")
    assert refused.value.extra["reasons"] == ["recipient_not_in_consent"]
    [event] = events(rt, type="assessments:proposal:accept")
    assert event.decision == "deny" and event.reasons == ["recipient_not_in_consent"]


def test_reassessment_shows_what_changed(rt: Runtime, kerry: Demo, clock: Clock) -> None:
    first = record(rt, COACH, kerry.kerry, HIGH_NEED)
    clock.advance(days=28)
    second = record(rt, COACH, kerry.kerry, LOW_NEED, language="cy")
    newest, oldest = run(rt, COACH, "triage", assessments.list_assessments, kerry.kerry)
    assert (newest.id, oldest.id) == (second.id, first.id)
    assert newest.previous_id == first.id and oldest.previous_id is None
    assert newest.changes["financial_capability"] == 2 - 9
    assert newest.changes["health_wellbeing"] == -3
    assert newest.level == "light_touch" and newest.language == "cy"


def test_one_assessment_is_opened_and_audited_alone(rt: Runtime, kerry: Demo,
                                                    clock: Clock) -> None:
    """Reading one assessment names only it in the audit (and the one it is compared with);
    the claimant's other assessments are not opened. One that is not there is a 404, audited."""
    first = record(rt, COACH, kerry.kerry, HIGH_NEED)
    clock.advance(days=28)
    second = record(rt, COACH, kerry.kerry, LOW_NEED)
    clock.advance(days=28)
    record(rt, COACH, kerry.kerry, HIGH_NEED)
    seen = run(rt, COACH, "triage", assessments.get_assessment, kerry.kerry, second.id)
    assert seen.id == second.id and seen.previous_id == first.id
    assert seen.changes["financial_capability"] == 2 - 9
    read = events(rt, type="assessments:assessment:list")
    assert [e.details["assessments"] for e in read] == [[str(second.id)]]
    assert read[0].details["compared_with"] == str(first.id)
    with pytest.raises(NotFoundError):
        run(rt, COACH, "triage", assessments.get_assessment, kerry.kerry, uuid.uuid4())
    [absent] = events(rt, type="assessments:assessment:list", decision="deny")
    assert absent.reasons == ["no_such_assessment"]


def test_review_and_due_dates_are_uk_dates(rt: Runtime, demo: Demo, clock: Clock) -> None:
    """A triage at 23:30 UTC on a summer day is made at 00:30 the next day in the UK: the
    review and due dates count from that day."""
    clock.now = datetime(2027, 6, 15, 23, 30, tzinfo=UTC)
    triage_consent(rt, COACH, demo.kerry, ["jcp-derby", "ca-derby"],
                   ["triage", "budgeting_support", "case_management"])
    view = record(rt, COACH, demo.kerry, HIGH_NEED)
    assert view.review_on == date(2027, 6, 16) + timedelta(days=28)
    action = run(rt, COACH, "triage", assessments.accept_proposal, demo.kerry, view.id,
                 "digital")
    assert action.item["due_on"] == date(2027, 6, 16) + timedelta(days=14)
