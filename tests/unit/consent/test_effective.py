"""The effective scope of a consent after partial withdrawals: who still receives what."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from caseshare.consent.effective import effective_scope

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ORGS = ("jcp-derby", "derby-housing", "ca-derby")
PURPOSES = ("case_management", "tenancy_sustainment")
CATEGORIES = ("identity", "contact", "housing_tenancy", "finances")


@dataclass(frozen=True)
class C:
    recipients: list[str] = field(default_factory=lambda: list(ORGS))
    purposes: list[str] = field(default_factory=lambda: list(PURPOSES))
    categories: list[str] = field(default_factory=lambda: list(CATEGORIES))


@dataclass(frozen=True)
class W:
    withdrawn_at: datetime
    scope: dict[str, Any]


def test_no_withdrawal_everyone_receives_everything() -> None:
    scope = effective_scope(C(), [])
    assert [r.org for r in scope.receiving] == list(ORGS) and scope.stopped == ()
    [share] = scope.of("ca-derby").receives  # type: ignore[union-attr]
    assert share.purposes == PURPOSES and set(share.categories) == set(CATEGORIES)


def test_withdrawing_one_recipient_stops_it_and_says_when() -> None:
    scope = effective_scope(C(), [W(T0, {"recipients": ["derby-housing"]})])
    assert [r.org for r in scope.receiving] == ["jcp-derby", "ca-derby"]
    [housing] = scope.stopped
    assert housing.org == "derby-housing" and housing.receives == ()
    assert housing.stopped_at == T0 and not scope.reaches("derby-housing")
    [part] = housing.withdrawn
    assert part.everything and part.purposes == PURPOSES
    assert set(part.categories) == set(CATEGORIES)
    assert scope.of("jcp-derby").withdrawn == ()  # type: ignore[union-attr]


def test_a_category_for_one_purpose_leaves_it_for_the_others() -> None:
    scope = effective_scope(C(), [W(T0, {"recipients": ["ca-derby"], "purposes": [
        "tenancy_sustainment"], "categories": ["finances"]})])
    ca = scope.of("ca-derby")
    assert ca is not None and ca.receiving and ca.stopped_at is None
    lines = {s.purposes: set(s.categories) for s in ca.receives}
    assert lines == {("case_management",): set(CATEGORIES),
                     ("tenancy_sustainment",): set(CATEGORIES) - {"finances"}}
    [part] = ca.withdrawn
    assert (part.purposes, part.categories, part.everything) == (
        ("tenancy_sustainment",), ("finances",), False)


def test_a_second_withdrawal_records_only_what_was_left() -> None:
    scope = effective_scope(C(), [
        W(T0 + timedelta(days=2), {}),
        W(T0, {"categories": ["finances"]}),
    ])
    jcp = scope.of("jcp-derby")
    assert jcp is not None and not jcp.receiving
    first, second = jcp.withdrawn
    assert first.withdrawn_at == T0 and first.categories == ("finances",)
    assert not first.everything
    assert second.everything and "finances" not in second.categories
    assert jcp.stopped_at == T0 + timedelta(days=2)


def test_a_withdrawal_of_something_already_gone_adds_nothing() -> None:
    scope = effective_scope(C(), [W(T0, {"recipients": ["ca-derby"]}),
                                  W(T0 + timedelta(hours=1), {"categories": ["finances"],
                                                              "recipients": ["ca-derby"]})])
    assert len(scope.of("ca-derby").withdrawn) == 1  # type: ignore[union-attr]


scopes = st.fixed_dictionaries({}, optional={
    "recipients": st.lists(st.sampled_from(ORGS), max_size=2, unique=True),
    "purposes": st.lists(st.sampled_from(PURPOSES), max_size=1, unique=True),
    "categories": st.lists(st.sampled_from(CATEGORIES), max_size=3, unique=True),
})


@settings(max_examples=200, deadline=None)
@given(st.lists(scopes, max_size=4))
def test_exactly_what_the_decision_would_still_allow(withdrawn: list[dict[str, Any]]) -> None:
    """A recipient receives a category for a purpose exactly when no withdrawal covers that
    combination (the access decision's rule), and every withdrawn combination is in the
    part of the first withdrawal that covered it."""
    ws = [W(T0 + timedelta(minutes=i), s) for i, s in enumerate(withdrawn)]
    scope = effective_scope(C(), ws)

    def covered(w: W, org: str, p: str, c: str) -> bool:
        return all(not w.scope.get(k) or v in w.scope[k]
                   for k, v in (("recipients", org), ("purposes", p), ("categories", c)))

    for org in ORGS:
        r = scope.of(org)
        assert r is not None
        received = {(p, c) for s in r.receives for p in s.purposes for c in s.categories}
        for p in PURPOSES:
            for c in CATEGORIES:
                first = next((w for w in ws if covered(w, org, p, c)), None)
                assert ((p, c) in received) == (first is None)
                if first is not None:
                    [part] = [x for x in r.withdrawn if x.withdrawn_at == first.withdrawn_at]
                    assert p in part.purposes and c in part.categories
        assert r.receiving == bool(received)
        assert (r.stopped_at is None) == r.receiving
