"""The consent ages per jurisdiction (jurisdictions.py) and the rules that read them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from caseshare.consent import rules
from caseshare.consent.jurisdictions import JURISDICTIONS, RULES, STRICTEST, rules_for


def test_the_table_per_jurisdiction() -> None:
    assert set(RULES) == set(JURISDICTIONS) == {"england", "wales", "scotland"}
    scotland, england, wales = RULES["scotland"], RULES["england"], RULES["wales"]
    # Scotland: presumed able at 12 (DPA 2018 s.208); full capacity at 16 (ALCSA 1991 s.1).
    assert (scotland.presumed_competent_from, scotland.adult_age) == (12, 16)
    # England and Wales: Gillick competence, assessed at any age, never presumed; adult at 18.
    for rule in (england, wales):
        assert (rule.presumed_competent_from, rule.adult_age) == (None, 18)
        assert rule.competence_test == "Gillick competence"
    # Online, UK GDPR Article 8 with the UK's age of 13, everywhere.
    assert {r.online_from for r in RULES.values()} == {13}


def test_an_unknown_jurisdiction_presumes_nothing() -> None:
    assert rules_for("northern_ireland") is STRICTEST
    assert STRICTEST.presumed_competent_from is None and STRICTEST.adult_age == 18


def _situation(jurisdiction: str, age: int) -> rules.SubjectSituation:
    return rules.SubjectSituation(jurisdiction=jurisdiction, age=age)


def _body(**changes: Any) -> dict[str, Any]:
    return {"given_by": {"type": "self"}, "categories": ["identity"], "method": "e_signature",
            **changes}


NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
COMPETENT = {"competent": True, "assessed_by": "S. Okafor", "assessed_on": date(2026, 11, 23)}
PARENT = {"type": "parental_responsibility", "authority_ref": "Mother, birth certificate"}


@pytest.mark.parametrize(("jurisdiction", "age", "changes", "fields"), [
    ("scotland", 12, {}, []),  # presumed able to consent at 12
    ("scotland", 11, {}, ["competence"]),
    ("england", 12, {}, ["competence"]),  # Gillick: assessed, never presumed
    ("wales", 12, {}, ["competence"]),
    ("england", 12, {"competence": COMPETENT}, []),
    ("scotland", 12, {"method": "online"}, ["method"]),  # Article 8: 13 online
    ("england", 12, {"method": "online", "competence": COMPETENT}, ["method"]),
    ("england", 13, {"method": "online", "competence": COMPETENT}, []),
    ("scotland", 16, {"given_by": PARENT}, ["given_by.type"]),  # adult at 16 in Scotland
    ("england", 16, {"given_by": PARENT}, []),  # parental responsibility until 18
    ("scotland", 15, {"given_by": PARENT}, []),
])
def test_the_claimants_jurisdiction_decides_who_may_consent(
        jurisdiction: str, age: int, changes: dict[str, Any], fields: list[str]) -> None:
    found = rules.check_authority(_body(**changes), _situation(jurisdiction, age), NOW)
    assert sorted(found) == fields


def test_refusals_name_the_jurisdictions_rule() -> None:
    england = rules.check_authority(_body(), _situation("england", 12), NOW)
    assert "In England" in england["competence"][0] and "Gillick" in england["competence"][0]
    scotland = rules.check_authority(_body(given_by=PARENT), _situation("scotland", 17), NOW)
    assert "In Scotland" in scotland["given_by.type"][0] and "16" in scotland["given_by.type"][0]
