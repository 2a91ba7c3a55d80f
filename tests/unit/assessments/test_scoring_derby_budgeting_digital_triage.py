"""Decision table of the Lewisham-style budgeting and digital triage (derby-budgeting-digital-
triage v1): answers -> scores, support level, flags, explanations and needs."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.assessments.scoring_table import Row, check, shipped

FORM = "derby-budgeting-digital-triage"
BASE: dict[str, Any] = {"manage_money": "well", "bank_account": "yes", "get_online": "home",
                        "online_forms": "yes", "housing_situation": "social_rent",
                        "work": "working"}


def row(name: str, changes: dict[str, Any], **expected: Any) -> Row:
    return Row(name, {**BASE, **changes}, **expected)


ROWS = [
    row("no needs", {}, scores={}, level="self_serve", review_days=91),
    row("money and rent trouble",
        {"manage_money": "struggle", "bank_account": "no",
         "priority_debts": ["rent", "council_tax"], "housing_situation": "private_rent",
         "rent_arrears_weeks": 3, "work": "looking"},
        scores={"financial_capability": 11, "housing": 4, "employment": 1},
        level="intensive", review_days=28,
        explanations={"financial_capability": ("manage_money", "bank_account", "priority_debts"),
                      "housing": ("priority_debts", "rent_arrears_weeks"),
                      "employment": ("work",)},
        needs=("budgeting", "housing_costs")),
    row("one domain high enough for intensive support on its own",
        {"get_online": "never", "online_forms": "no"},
        scores={"digital_capability": 8}, level="intensive", review_days=28,
        explanations={"digital_capability": ("get_online", "online_forms")}, needs=("digital",)),
    row("light touch: a little of everything, no need over its threshold",
        {"manage_money": "sometimes", "get_online": "phone_only", "online_forms": "with_help",
         "housing_situation": "family_friends", "rent_arrears_weeks": 0, "work": "looking"},
        scores={"financial_capability": 2, "digital_capability": 3, "housing": 2,
                "employment": 1},
        level="light_touch", review_days=56,
        explanations={"financial_capability": ("manage_money",),
                      "digital_capability": ("get_online", "online_forms"),
                      "housing": ("housing_situation",), "employment": ("work",)}),
    row("harder to help: flags in file order, homelessness from housing",
        {"housing_situation": "no_fixed_address",
         "health_affects": ["care_leaver", "drug_alcohol", "mental_health"]},
        scores={"housing": 6, "health_wellbeing": 7}, level="intensive", review_days=28,
        flags=("mental_health", "drug_alcohol_dependency", "care_leaver", "homelessness"),
        explanations={"housing": ("housing_situation",),
                      "health_wellbeing": ("health_affects",)},
        needs=("housing_costs", "complex_needs")),
    row("arrears bands: 4 weeks is the middle band", {"rent_arrears_weeks": 4},
        scores={"housing": 2}, level="self_serve", review_days=91,
        explanations={"housing": ("rent_arrears_weeks",)}),
    row("arrears bands: over 4 weeks is the top band and a need",
        {"rent_arrears_weeks": 4.5}, scores={"housing": 4}, level="self_serve", review_days=91,
        explanations={"housing": ("rent_arrears_weeks",)}, needs=("housing_costs",)),
    row("a total of 5 is light touch", {"bank_account": "no", "online_forms": "with_help"},
        scores={"financial_capability": 3, "digital_capability": 2}, level="light_touch",
        review_days=56, explanations={"financial_capability": ("bank_account",),
                                      "digital_capability": ("online_forms",)}),
]


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_decision_table(row: Row) -> None:
    check(shipped(FORM), row)
