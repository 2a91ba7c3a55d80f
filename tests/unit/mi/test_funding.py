"""The funding agreement's loader and what counts earn under it (caseshare/mi/funding.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from caseshare.errors import PolicyFileError
from caseshare.mi.funding import (
    build_agreement,
    earnings,
    load_agreement,
    load_agreements,
    outcome_paid_count,
)

ROOT = Path(__file__).resolve().parents[3]


def _file(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "protocol": "p1", "title": "Trial funding", "period_months": 6,
        "guaranteed_pence": 100_000,
        "activities": [
            {"code": "referral_accepted", "label": "Referral accepted", "price_pence": 2500},
            {"code": "plan_entry_completed", "service_line": "budgeting_support",
             "label": "Budgeting", "price_pence": 4000},
        ],
        "outcomes": [{"code": "apa_in_place", "label": "APA in place", "payment_pence": 10_000,
                      "threshold": 5, "target": 20}],
    }
    data.update(changes)
    return data


def _problems(data: Any, codes: frozenset[str] | None = None) -> list[str]:
    with pytest.raises(PolicyFileError) as raised:
        build_agreement("p1/funding.yaml", "p1", data, codes)
    return raised.value.problems


def test_the_shipped_agreements_load() -> None:
    agreements = load_agreements(ROOT / "partnerships")
    derby = agreements["derby-local-support"]
    assert derby.guaranteed_pence > 0 and derby.activities and derby.outcomes


def test_a_valid_file_builds_its_elements() -> None:
    agreement = build_agreement("p1/funding.yaml", "p1", _file())
    assert agreement.period_months == 6
    assert [a.key for a in agreement.activities] == [
        "referral_accepted", "plan_entry_completed:budgeting_support"]
    assert agreement.outcomes[0].threshold == 5


@pytest.mark.parametrize(("changes", "field"), [
    ({"protocol": "other"}, "protocol"),
    ({"guaranteed_pence": -1}, "guaranteed_pence"),
    ({"guaranteed_pence": 12.5}, "guaranteed_pence"),
    ({"period_months": 0}, "period_months"),
    ({"title": ""}, "title"),
    ({"activities": [{"code": "coffee", "label": "x", "price_pence": 1}]}, "activities/0/code"),
    ({"activities": [{"code": "referral_accepted", "label": "x", "price_pence": True}]},
     "activities/0/price_pence"),
    ({"activities": [{"code": "referral_accepted", "service_line": "x", "label": "x",
                      "price_pence": 1}]}, "activities/0/service_line"),
    ({"outcomes": [{"code": "apa_in_place", "label": "x", "payment_pence": 1,
                    "threshold": 9, "target": 3}]}, "outcomes/0/threshold"),
    ({"outcomes": [{"code": "apa_in_place", "label": "x", "payment_pence": 1,
                    "threshold": 0, "target": 0}]}, "outcomes/0/target"),
])
def test_each_problem_names_the_file_and_field(changes: dict[str, Any], field: str) -> None:
    problems = _problems(_file(**changes))
    assert any(p.startswith("p1/funding.yaml") and field in p for p in problems), problems


def test_a_price_given_twice_is_refused() -> None:
    twice = [{"code": "referral_accepted", "label": "x", "price_pence": 1}] * 2
    assert any("priced twice" in p for p in _problems(_file(activities=twice)))


def test_an_outcome_code_the_partnership_does_not_have_is_refused() -> None:
    assert any("outcomes/0/code" in p
               for p in _problems(_file(), frozenset({"paying_own_rent_6m"})))


def test_not_a_mapping_is_refused() -> None:
    assert _problems(["a list"]) == ["p1/funding.yaml: (top level): must be a mapping"]


def test_load_agreement_names_the_directory(tmp_path: Path) -> None:
    (tmp_path / "p1").mkdir()
    path = tmp_path / "p1" / "funding.yaml"
    path.write_text("protocol: p2\n")
    with pytest.raises(PolicyFileError) as raised:
        load_agreement(path)
    assert any(p.startswith("p1/funding.yaml: protocol") for p in raised.value.problems)
    assert load_agreements(tmp_path / "absent") == {}


@pytest.mark.parametrize(("count", "paid"), [
    (0, 0), (4, 0),  # below the threshold: nothing
    (5, 5),  # at the threshold: every outcome so far is paid
    (12, 12),
    (20, 20),  # at the target: the maximum
    (21, 20), (100, 20),  # above the target: nothing more
])
def test_outcome_payments_between_threshold_and_target(count: int, paid: int) -> None:
    agreement = build_agreement("p1/funding.yaml", "p1", _file())
    line = earnings(agreement, {}, {"apa_in_place": count}).outcomes[0]
    assert (line.count, line.paid_count, line.amount_pence) == (count, paid, paid * 10_000)
    assert line.maximum_pence == 200_000
    assert line.progress == min(count, 20) / 20


def test_activity_payments_and_the_total() -> None:
    agreement = build_agreement("p1/funding.yaml", "p1", _file())
    earned = earnings(agreement, {"referral_accepted": 3,
                                  "plan_entry_completed:budgeting_support": 2,
                                  "plan_entry_completed:online_access": 50},
                      {"apa_in_place": 6})
    assert [line.amount_pence for line in earned.activities] == [7500, 8000]
    assert earned.activity_pence == 15_500
    assert earned.outcome_pence == 60_000
    assert earned.total_pence == 100_000 + 15_500 + 60_000


@given(count=st.integers(0, 500), threshold=st.integers(0, 50), extra=st.integers(0, 50))
def test_paid_count_never_exceeds_target_nor_pays_below_threshold(
        count: int, threshold: int, extra: int) -> None:
    target = max(threshold + extra, 1)
    paid = outcome_paid_count(count, threshold, target)
    assert 0 <= paid <= target
    assert paid == 0 if count < threshold else paid == min(count, target)
