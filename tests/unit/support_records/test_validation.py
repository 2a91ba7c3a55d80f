"""Each kind's fields, the APA's forward-only statuses and the money plan's review date."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from caseshare.errors import ValidationError
from caseshare.support_records import validation

TENANCY = {"landlord_type": "council", "rent_pence": 45000, "rent_frequency": "monthly",
           "paid_by": "claimant", "start_on": "2025-04-01"}
APA = {"trigger": "rent_arrears", "type": "managed_payment", "status": "identified",
       "status_dates": {"identified": "2026-05-02"}, "review_on": "2026-11-02"}
MONEY = {"income": [{"label": "Universal Credit", "pence": 80000}],
         "outgoings": [{"label": "Rent", "pence": 45000}],
         "priority_debts": [{"label": "Council tax", "pence": 12000}],
         "agreed_actions": ["Apply for council tax support"], "reviewed_on": "2026-01-31"}
BANKING = {"account_opened": {"type": "credit_union", "on": "2026-03-04"},
           "online_account_set_up": "2026-03-10", "claim_managed_online": True}


def errors(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    with pytest.raises(ValidationError) as caught:
        validation.check(kind, data)
    found: dict[str, Any] = caught.value.extra["errors"]
    return found


@pytest.mark.parametrize(("kind", "data"), [("tenancy", TENANCY), ("apa", APA),
                                            ("money_plan", MONEY), ("banking", BANKING)])
def test_each_kind_accepts_its_fields(kind: str, data: dict[str, Any]) -> None:
    assert validation.check(kind, data) == data


def test_tenancy_problems_name_each_field() -> None:
    bad = {**TENANCY, "rent_pence": -1, "paid_by": "landlord", "start_on": "2025-02-30"}
    del bad["landlord_type"]
    assert sorted(errors("tenancy", bad)) == ["data.landlord_type", "data.paid_by",
                                              "data.rent_pence", "data.start_on"]


def test_pence_are_whole_numbers_not_floats_or_booleans() -> None:
    for value in (450.5, True, "45000", 100_000_001):
        assert "data.rent_pence" in errors("tenancy", {**TENANCY, "rent_pence": value})


def test_unknown_fields_and_kinds_are_refused() -> None:
    assert "data.landlord" in errors("tenancy", {**TENANCY, "landlord": "Ms Smith"})
    with pytest.raises(ValidationError):
        validation.check("pension", {})


def test_money_plan_lines_name_the_line_and_part() -> None:
    bad = {**MONEY, "outgoings": [{"label": "Rent", "pence": 1}, {"label": "", "pence": -5}]}
    assert sorted(errors("money_plan", bad)) == ["data.outgoings.1.label",
                                                 "data.outgoings.1.pence"]


def test_money_plan_is_reviewed_a_month_later() -> None:
    assert validation.review_on("money_plan", MONEY) == date(2026, 2, 28)
    assert validation.month_later(date(2026, 12, 15)) == date(2027, 1, 15)


def test_banking_account_needs_a_known_type_and_date() -> None:
    bad = {**BANKING, "account_opened": {"type": "building_society", "on": "yesterday"}}
    assert sorted(errors("banking", bad)) == ["data.account_opened.on",
                                              "data.account_opened.type"]
    assert "data.claim_managed_online" in errors("banking", {"claim_managed_online": "yes"})


def test_apa_status_needs_its_date() -> None:
    assert "data.status_dates.requested" in errors("apa", {**APA, "status": "requested"})


@pytest.mark.parametrize(("before", "after"), [
    ("identified", "requested"), ("identified", "in_place"), ("requested", "dwp_decision"),
    ("dwp_decision", "in_place"), ("identified", "ended"), ("in_place", "ended"),
    ("requested", "requested"),
])
def test_apa_moves_forward_or_ends(before: str, after: str) -> None:
    validation.check_apa_move(before, after)


@pytest.mark.parametrize(("before", "after"), [
    ("requested", "identified"), ("in_place", "dwp_decision"), ("ended", "in_place"),
    ("ended", "identified"),
])
def test_apa_never_moves_back_or_out_of_ended(before: str, after: str) -> None:
    with pytest.raises(ValidationError) as caught:
        validation.check_apa_move(before, after)
    assert list(caught.value.extra["errors"]) == ["data.status"]


def test_next_apa_status_walks_to_in_place() -> None:
    steps = ["identified"]
    while (following := validation.next_apa_status(steps[-1])) is not None:
        steps.append(following)
    assert steps == ["identified", "requested", "dwp_decision", "in_place"]
    assert validation.next_apa_status("ended") is None


@pytest.mark.parametrize("trigger", ["addiction", "mental_health", "domestic_abuse",
                                     "learning_difficulty", "drug_alcohol_dependency"])
def test_an_apa_trigger_names_no_special_category_condition(trigger: str) -> None:
    # The APA is shared under housing_tenancy, not a special category: a health, addiction or
    # abuse reason would reach housing readers without the claimant's explicit consent.
    assert list(errors("apa", {**APA, "trigger": trigger})) == ["data.trigger"]


def test_the_neutral_vulnerability_trigger_is_accepted() -> None:
    assert validation.check("apa", {**APA, "trigger": "vulnerability"})["trigger"] == (
        "vulnerability")


@pytest.mark.parametrize("after", ["bogus", 5, ["x"], None])
def test_a_move_to_something_not_a_status_names_the_status(after: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        validation.check_apa_move("identified", after)
    assert list(caught.value.extra["errors"]) == ["data.status"]
