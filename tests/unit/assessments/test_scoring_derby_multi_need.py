"""Decision table of the Dundee-style multi-need assessment (derby-multi-need v1): answers ->
scores, support level, flags, explanations and needs."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.assessments.scoring_table import Row, check, shipped

FORM = "derby-multi-need"
BASE: dict[str, Any] = {
    "work_status": "working", "hours_available": 37.5, "has_cv": "yes",
    "income_covers": "always", "bank_account": "yes", "tenure": "social_rent",
    "notice_to_leave": "no", "afford_heating": "always", "prepayment_meter": "no",
    "devices": ["smartphone"], "online_confidence": "confident", "email_address": "yes",
}


def row(name: str, changes: dict[str, Any], **expected: Any) -> Row:
    return Row(name, {**BASE, **changes}, **expected)


ROWS = [
    row("no needs", {}, scores={}, level="self_serve", review_days=91),
    row("fuel poverty and money",
        {"income_covers": "mostly", "debts": ["energy", "loans"], "monthly_shortfall": 50,
         "afford_heating": "rarely", "prepayment_meter": "yes", "days_without_energy": 5},
        scores={"financial_capability": 5, "fuel_poverty": 11}, level="intensive",
        review_days=28,
        explanations={"financial_capability": ("income_covers", "debts", "monthly_shortfall"),
                      "fuel_poverty": ("debts", "afford_heating", "prepayment_meter",
                                       "days_without_energy")},
        needs=("money_advice", "warm_home")),
    row("sleeping rough and not ready for work; unscored date and text answers",
        {"work_status": "not_ready", "hours_available": 0,
         "work_barriers": ["transport", "confidence"], "has_cv": "no",
         "tenure": "rough_sleeping", "last_worked": "2024-05-01",
         "work_goal": "Warehouse work", "moved_in": "2025-01-20"},
        scores={"employment": 8, "housing": 8}, level="intensive", review_days=28,
        flags=("homelessness",),
        explanations={"employment": ("work_status", "hours_available", "work_barriers",
                                     "has_cv"), "housing": ("tenure",)},
        needs=("work_ready", "housing_support")),
    row("light touch: getting online and a learning difficulty",
        {"devices": ["none"], "online_confidence": "with_help", "email_address": "no",
         "feeling": "up_and_down", "circumstances": ["learning_difficulty"]},
        scores={"digital_capability": 6, "health_wellbeing": 3}, level="light_touch",
        review_days=56, flags=("learning_difficulty",),
        explanations={"digital_capability": ("devices", "online_confidence", "email_address"),
                      "health_wellbeing": ("feeling", "circumstances")},
        needs=("digital_skills", "complex_needs")),
    row("a notice to leave and rent arrears: housing need, light touch",
        {"notice_to_leave": "yes", "debts": ["rent"], "hours_available": 10},
        scores={"housing": 6, "financial_capability": 2, "employment": 1},
        level="light_touch", review_days=56,
        explanations={"housing": ("debts", "notice_to_leave"),
                      "financial_capability": ("debts",), "employment": ("hours_available",)},
        needs=("housing_support",)),
    row("every harder-to-help flag",
        {"tenure": "temporary", "circumstances": ["mental_health", "learning_difficulty",
                                                  "drug_alcohol", "domestic_abuse",
                                                  "care_leaver"]},
        scores={"housing": 4, "health_wellbeing": 12}, level="intensive", review_days=28,
        flags=("mental_health", "learning_difficulty", "drug_alcohol_dependency",
               "domestic_abuse", "care_leaver", "homelessness"),
        explanations={"housing": ("tenure",), "health_wellbeing": ("circumstances",)},
        needs=("housing_support", "complex_needs")),
]


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_decision_table(row: Row) -> None:
    check(shipped(FORM), row)
