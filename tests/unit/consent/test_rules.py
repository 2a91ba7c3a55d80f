"""The consent rules as pure functions: one test (or table) per rule in the issue."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from caseshare.consent import rules
from caseshare.consent.forms import ConsentForm, load_forms_directory
from caseshare.policy.loader import load_directory
from caseshare.policy.models import ProtocolSet

ROOT = Path(__file__).resolve().parents[3]
NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
ADULT = rules.SubjectSituation(jurisdiction="england", age=40)


@pytest.fixture(scope="module")
def protocols() -> ProtocolSet:
    return load_directory(ROOT / "policies")


@pytest.fixture(scope="module")
def form(protocols: ProtocolSet) -> ConsentForm:
    found = load_forms_directory(ROOT / "consent_forms", protocols).get("derby-multi-agency", 1)
    assert found is not None
    return found


@pytest.fixture(scope="module")
def waspi(protocols: ProtocolSet) -> ConsentForm:
    found = load_forms_directory(ROOT / "consent_forms", protocols).get(
        "waspi-personal-information", 1)
    assert found is not None
    return found


def body(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "language": "en", "given_by": {"type": "self"}, "decision": "granted",
        "recipients": ["jcp-derby"], "purposes": ["case_management"],
        "categories": ["identity", "contact"], "method": "e_signature",
        "evidence_ref": "DOC-1", "expires_at": NOW + timedelta(days=90),
    }
    data.update(changes)
    return data


# The derby-multi-agency form's own explicit statement (English): the only accepted wording.
STATEMENT = ("I explicitly agree that information about my drug or alcohol treatment may be "
             "shared with the organisations I have chosen, for the reasons I have chosen.")


def errors(data: dict[str, Any], form: ConsentForm, protocols: ProtocolSet,
           subject: rules.SubjectSituation = ADULT) -> dict[str, list[str]]:
    return rules.validate_consent(data, form, protocols, subject, NOW)


def test_a_valid_consent_has_no_errors(form: ConsentForm, protocols: ProtocolSet) -> None:
    assert errors(body(), form, protocols) == {}


@pytest.mark.parametrize("recipient", ["local-charities", "all-partners", "vcs"])
def test_recipient_that_is_not_a_named_protocol_party_is_rejected(
    recipient: str, form: ConsentForm, protocols: ProtocolSet
) -> None:
    found = errors(body(recipients=["jcp-derby", recipient]), form, protocols)
    assert list(found) == ["recipients"]
    assert recipient in found["recipients"][0] and "party" in found["recipients"][0]


def test_recipient_that_is_a_party_but_not_offered_on_the_form_is_rejected(
    waspi: ConsentForm, protocols: ProtocolSet
) -> None:
    found = errors(body(recipients=["recovery-partnership"]), waspi, protocols)
    assert list(found) == ["recipients"]
    assert "Not a named recipient on this form" in found["recipients"][0]


@pytest.mark.parametrize("key", ["recipients", "purposes", "categories"])
def test_an_option_chosen_twice_is_rejected(key: str, form: ConsentForm,
                                            protocols: ProtocolSet) -> None:
    data = body()
    data[key] = [*data[key], data[key][0]]
    assert list(errors(data, form, protocols)) == [key]


def test_purposes_and_categories_must_be_offered_on_the_form(
    form: ConsentForm, protocols: ProtocolSet
) -> None:
    found = errors(body(purposes=["marketing"], categories=["health_mental"]), form, protocols)
    assert set(found) == {"purposes", "categories"}


def test_included_and_excluded_at_once_is_rejected(form: ConsentForm,
                                                   protocols: ProtocolSet) -> None:
    found = errors(body(excluded_categories=["contact"]), form, protocols)
    assert list(found) == ["excluded_categories"]


def test_language_must_be_one_the_form_has(protocols: ProtocolSet, form: ConsentForm) -> None:
    english_only = dataclasses.replace(form, languages=("en",))
    assert list(errors(body(language="cy"), english_only, protocols)) == ["language"]


@pytest.mark.parametrize(("categories", "sensitive"), [
    (["substance_misuse"], True), (["identity"], False)])
def test_special_category_needs_an_explicit_statement(
    categories: list[str], sensitive: bool, form: ConsentForm, protocols: ProtocolSet
) -> None:
    data = body(recipients=["jcp-derby"], categories=categories)
    found = errors(data, form, protocols)
    assert ("explicit_statement" in found) is sensitive
    data["explicit_statement"] = STATEMENT
    assert errors(data, form, protocols) == {}


def test_criminal_category_needs_an_explicit_statement(waspi: ConsentForm,
                                                       protocols: ProtocolSet) -> None:
    found = errors(body(recipients=["derby-housing"], purposes=["tenancy_sustainment"],
                        categories=["offending"]), waspi, protocols)
    assert list(found) == ["explicit_statement"]


def test_unverified_verbal_consent_cannot_cover_special_categories(
    form: ConsentForm, protocols: ProtocolSet
) -> None:
    data = body(categories=["substance_misuse"], method="verbal_phone", evidence_ref=None,
                explicit_statement=STATEMENT)
    assert list(errors(data, form, protocols)) == ["evidence_ref"]
    # The same verbal consent without special categories is recorded, as unverified.
    plain = body(method="verbal_phone", evidence_ref=None)
    assert errors(plain, form, protocols) == {}
    assert rules.is_verified("verbal_phone", None) is False
    assert rules.is_verified("verbal_phone", "CALL-1") is True


def test_a_refusal_needs_no_explicit_statement_or_evidence(
    form: ConsentForm, protocols: ProtocolSet
) -> None:
    data = body(decision="refused", categories=["substance_misuse"], method="verbal_phone",
                evidence_ref=None)
    assert errors(data, form, protocols) == {}


APPOINTEE = {"type": "dwp_appointee", "name": "A. Appointee", "authority_ref": "BF56-1234"}


def test_appointee_is_limited_to_benefit_matters(form: ConsentForm,
                                                 protocols: ProtocolSet) -> None:
    ok = body(given_by=APPOINTEE, categories=["identity", "finances", "housing_tenancy"])
    assert errors(ok, form, protocols) == {}
    treatment = body(given_by=APPOINTEE, categories=["identity", "substance_misuse"],
                     explicit_statement=STATEMENT)
    found = errors(treatment, form, protocols)
    assert list(found) == ["given_by.type"] and "substance_misuse" in found["given_by.type"][0]


def test_a_proxy_needs_an_authority_reference(form: ConsentForm,
                                              protocols: ProtocolSet) -> None:
    found = errors(body(given_by={"type": "dwp_appointee"}), form, protocols)
    assert list(found) == ["given_by.authority_ref"]


def test_property_and_financial_attorney_only_for_financial_categories(
    form: ConsentForm, protocols: ProtocolSet
) -> None:
    lpa = {"type": "lpa_property_financial", "authority_ref": "LPA-7000-1111-2222"}
    assert errors(body(given_by=lpa, categories=["finances", "benefit_claim"]), form,
                  protocols) == {}
    found = errors(body(given_by=lpa, categories=["finances", "employment"]), form, protocols)
    assert list(found) == ["given_by.type"] and "employment" in found["given_by.type"][0]


HW = {"type": "lpa_health_welfare", "authority_ref": "LPA-7000-3333-4444"}
ASSESSED = {"assessed_by": "Dr R. Patel", "assessed_on": date(2026, 11, 20)}


@pytest.mark.parametrize(("capacity", "field"), [
    (None, "capacity"),
    ({"lacks_capacity": False, **ASSESSED}, "capacity.lacks_capacity"),
    ({"lacks_capacity": True, **ASSESSED}, None),
    ({"lacks_capacity": True, "assessed_by": "Dr R. Patel", "assessed_on": date(2026, 12, 1)},
     "capacity.assessed_on"),
])
def test_health_and_welfare_attorney_only_where_the_claimant_lacks_capacity(
    capacity: dict[str, Any] | None, field: str | None, form: ConsentForm,
    protocols: ProtocolSet,
) -> None:
    data = body(given_by=HW, categories=["identity", "substance_misuse"],
                explicit_statement=STATEMENT)
    if capacity is not None:
        data["capacity"] = capacity
    found = errors(data, form, protocols)
    assert list(found) == ([field] if field else [])


def test_claimant_who_lacks_capacity_cannot_consent_themselves(
    form: ConsentForm, protocols: ProtocolSet
) -> None:
    found = errors(body(capacity={"lacks_capacity": True, **ASSESSED}), form, protocols)
    assert list(found) == ["capacity.lacks_capacity"]


CHILD_ENGLAND = rules.SubjectSituation(jurisdiction="england", age=15)
CHILD_SCOTLAND_13 = rules.SubjectSituation(jurisdiction="scotland", age=13)
CHILD_SCOTLAND_11 = rules.SubjectSituation(jurisdiction="scotland", age=11)
COMPETENT = {"competent": True, "assessed_by": "S. Okafor", "assessed_on": date(2026, 11, 23)}


@pytest.mark.parametrize(("subject", "competence", "field"), [
    (CHILD_ENGLAND, None, "competence"),
    (CHILD_ENGLAND, {**COMPETENT, "competent": False}, "competence.competent"),
    (CHILD_ENGLAND, COMPETENT, None),
    (CHILD_SCOTLAND_13, None, None),  # presumed competent at 12 in Scotland
    (CHILD_SCOTLAND_13, {**COMPETENT, "competent": False}, "competence.competent"),
    (CHILD_SCOTLAND_11, None, "competence"),
    (rules.SubjectSituation(jurisdiction="wales", age=13), None, "competence"),
    (ADULT, None, None),
])
def test_a_childs_own_consent_needs_a_competence_assessment(
    subject: rules.SubjectSituation, competence: dict[str, Any] | None, field: str | None,
    form: ConsentForm, protocols: ProtocolSet,
) -> None:
    data = body()
    if competence is not None:
        data["competence"] = competence
    assert list(errors(data, form, protocols, subject)) == ([field] if field else [])


def test_competence_record_marks_the_scotland_presumption() -> None:
    assert rules.competence_record(body(), CHILD_SCOTLAND_13) == {
        "competent": True, "presumed": True, "basis": "DPA 2018 s.208 (Scotland, 12+)"}
    recorded = rules.competence_record(body(competence=COMPETENT), CHILD_ENGLAND)
    assert recorded == {"competent": True, "assessed_by": "S. Okafor",
                        "assessed_on": "2026-11-23", "presumed": False}
    assert rules.competence_record(body(), ADULT) is None


def test_parental_responsibility_only_for_a_child(form: ConsentForm,
                                                  protocols: ProtocolSet) -> None:
    parent = {"type": "parental_responsibility", "name": "P. Parent", "authority_ref": "mother"}
    assert errors(body(given_by=parent), form, protocols, CHILD_ENGLAND) == {}
    assert list(errors(body(given_by=parent), form, protocols)) == ["given_by.type"]


def test_parent_cannot_override_a_competent_childs_refusal() -> None:
    parent = {"type": "parental_responsibility", "authority_ref": "mother"}
    refused = dataclasses.replace(CHILD_ENGLAND, competent_child_refused=True)
    assert list(rules.conflicts(body(given_by=parent), refused)) == ["given_by.type"]
    assert rules.conflicts(body(given_by=parent), CHILD_ENGLAND) == {}
    assert rules.conflicts(body(), refused) == {}  # the child may change their own mind


@pytest.mark.parametrize(("days", "ok"), [(30, True), (365, True), (366, False)])
def test_expiry_never_beyond_the_form_maximum(days: int, ok: bool, form: ConsentForm,
                                              protocols: ProtocolSet) -> None:
    found = errors(body(expires_at=NOW + timedelta(days=days)), form, protocols)
    assert (found == {}) is ok
    if not ok:
        assert list(found) == ["expires_at"]


def test_expiry_never_beyond_the_protocols_max_consent_days(
    form: ConsentForm, protocols: ProtocolSet
) -> None:
    # A form allowing three years cannot stretch a flow that allows 365 days.
    generous = dataclasses.replace(form, max_duration_days=1095)
    found = errors(body(expires_at=NOW + timedelta(days=400)), generous, protocols)
    assert list(found) == ["expires_at"] and "protocol" in found["expires_at"][0]
    assert rules.max_flow_days(protocols, ["jcp-derby"], ["case_management"], ["identity"]) == 365


@pytest.mark.parametrize(("changes", "field"), [
    ({"expires_at": NOW}, "expires_at"),
    ({"expires_at": NOW - timedelta(days=1)}, "expires_at"),
    ({"valid_from": NOW - timedelta(days=3)}, "valid_from"),
    ({"valid_from": NOW - timedelta(seconds=1)}, "valid_from"),  # never before recording
    ({"expiry_rule": "assessment_period_end", "expires_at": NOW + timedelta(days=90)},
     "expires_at"),
])
def test_bad_periods_are_rejected(changes: dict[str, Any], field: str, form: ConsentForm,
                                  protocols: ProtocolSet) -> None:
    assert list(errors(body(**changes), form, protocols)) == [field]


def test_age_on_counts_whole_years() -> None:
    assert rules.age_on(date(2014, 11, 24), date(2026, 11, 23)) == 11
    assert rules.age_on(date(2014, 11, 23), date(2026, 11, 23)) == 12


@pytest.mark.parametrize(("method", "evidence", "ok"), [
    ("e_signature", "DOC-77", True), ("e_signature", None, False), ("e_signature", "x", False),
    ("e_signature", "n/a", False), ("e_signature", "-", False), ("e_signature", ".", False),
    ("e_signature", "aaaa-1111", True), ("e_signature", "1111", False),
    ("e_signature", "ABCD", False), ("wet_signature", " TBC ", False),
    ("interpreter", None, False), ("interpreter", "INT-4410", True),
    ("verbal_phone", None, True), ("verbal_phone", "CALL-4410", False),
    ("verbal_phone", "CALL-4410 at 09:31", True), ("verbal_phone", "CALL-4410 at 25:31", False),
    ("verbal_in_person", None, True), ("verbal_in_person", "xxxx", False),
    ("online", "WEB-1234", True),
])
def test_evidence_rules_per_method(method: str, evidence: str | None, ok: bool) -> None:
    assert (rules.evidence_problem(method, evidence) is None) is ok


def test_cooling_period_needs_a_signed_method() -> None:
    subject = rules.SubjectSituation(jurisdiction="england", age=40,
                                     recently_withdrawn=frozenset({"ca-derby"}))
    data = {"recipients": ["ca-derby", "jcp-derby"], "method": "verbal_phone"}
    assert list(rules.check_cooling(data, subject)) == ["method"]
    assert rules.check_cooling({**data, "method": "wet_signature"}, subject) == {}
    assert rules.check_cooling({**data, "recipients": ["jcp-derby"]}, subject) == {}
    assert rules.regranted_after_withdrawal({**data, "method": "e_signature"},
                                            subject) == ["ca-derby"]


def test_a_recipients_withdrawal_scope_is_narrowed_to_itself() -> None:
    from caseshare.consent.rules import others_named, recipient_scope

    assert others_named(None, "derby-housing") == []
    assert others_named({"recipients": ["derby-housing"]}, "derby-housing") == []
    assert others_named({"recipients": ["derby-housing", "x", "ca-derby"]},
                        "derby-housing") == ["ca-derby", "x"]
    assert recipient_scope(None, "derby-housing") == {"recipients": ["derby-housing"]}
    assert recipient_scope({"recipients": [], "purposes": ["triage"], "categories": []},
                           "derby-housing") == {"purposes": ["triage"],
                                                "recipients": ["derby-housing"]}
