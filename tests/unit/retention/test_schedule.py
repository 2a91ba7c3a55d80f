"""retention.schedule: when each copy is due, as a decision table and as properties."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from caseshare.facts import ConsentFacts
from caseshare.retention.holdings import end_of
from caseshare.retention.schedule import (
    DEFAULT_RETENTION_DAYS,
    LEAD_CONTROLLER,
    OWN_RECORD,
    Delivery,
    SharedFlow,
    basis_of,
    consent_ended_on,
    deliveries,
    due_items,
)

SUBJECT = uuid.UUID(int=7)
CLOSED = date(2027, 1, 10)
CONSENT_END = date(2026, 12, 1)


def _flow(rule: str, src: set[str], dst: set[str], cats: set[str], days: int,
          consent: bool = True) -> SharedFlow:
    return SharedFlow(rule, frozenset(src), frozenset(dst), frozenset(cats), consent, days)


# (deliveries of one copy, case closed on, expected due date or None)
TABLE = [
    ([Delivery("b", "x", "p/f", 30)], None, None),  # open case, consent live: not due
    ([Delivery("b", "x", "p/f", 30)], CLOSED, CLOSED + timedelta(days=30)),
    ([Delivery("b", "x", "p/f", 30, CONSENT_END)], None, CONSENT_END + timedelta(days=30)),
    # consent ended before closure: the earlier end counts
    ([Delivery("b", "x", "p/f", 30, CONSENT_END)], CLOSED, CONSENT_END + timedelta(days=30)),
    # two flows brought it: the later due date
    ([Delivery("b", "x", "p/f", 30), Delivery("b", "x", "p/g", 90)], CLOSED,
     CLOSED + timedelta(days=90)),
    # one flow's basis still holds: not due while it does
    ([Delivery("b", "x", "p/f", 30, CONSENT_END), Delivery("b", "x", "p/g", 10)], None, None),
]


@pytest.mark.parametrize(("held_through", "closed", "expected"), TABLE)
def test_decision_table(held_through: list[Delivery], closed: date | None,
                        expected: date | None) -> None:
    items = due_items(SUBJECT, held_through, closed, held=False)
    assert [i.due_on for i in items] == ([] if expected is None else [expected])


def test_a_hold_marks_items_without_changing_them() -> None:
    [item] = due_items(SUBJECT, [Delivery("b", "x", "p/f", 30)], CLOSED, held=True)
    assert item.hold and item.due_on == CLOSED + timedelta(days=30) and item.rule == "p/f"


def test_deliveries_per_flow_with_the_lead_controller_keeping_longest() -> None:
    flows = [_flow("p@1/to-b", {"a"}, {"b"}, {"x", "identity"}, 30),
             _flow("p@1/to-c", {"a"}, {"c"}, {"x"}, 90),
             _flow("p@1/to-d", {"a"}, {"d"}, {"x"}, 400)]  # d is not in the case
    made = deliveries([("a", "x"), ("a", "identity"), ("b", "y")], flows,
                      members=frozenset({"a", "b", "c"}), lead_org="a")
    by_copy = {(d.org, d.category, d.rule): d.retention_days for d in made}
    assert by_copy == {
        ("a", "x", LEAD_CONTROLLER): 90, ("b", "x", "p@1/to-b"): 30, ("c", "x", "p@1/to-c"): 90,
        ("b", "identity", "p@1/to-b"): 30,
        ("a", "identity", LEAD_CONTROLLER): 90,  # the record: as long as anything is kept
        ("b", "y", OWN_RECORD): DEFAULT_RETENTION_DAYS,  # shared with no one: the default
        ("a", "y", LEAD_CONTROLLER): DEFAULT_RETENTION_DAYS,
    }


def test_consent_end_reaches_only_consent_based_flows() -> None:
    flows = [_flow("p@1/consent", {"a"}, {"b"}, {"x"}, 30),
             _flow("p@1/statute", {"a"}, {"c"}, {"x"}, 30, consent=False)]
    made = deliveries([("a", "x")], flows, members=frozenset({"a", "b", "c"}), lead_org="a",
                      consent_end=lambda _org, _category: CONSENT_END)
    ends = {d.org: d.consent_ended_on for d in made}
    assert ends == {"a": None, "b": CONSENT_END, "c": None}
    items = due_items(SUBJECT, made, None, held=False)
    assert [(i.org, i.due_on) for i in items] == [("b", CONSENT_END + timedelta(days=30))]
    assert basis_of(items[0], made, None) == "consent_ended"


Withdrawal = tuple[datetime, frozenset[str], frozenset[str], frozenset[str]]


def _consent(expires: datetime, withdrawals: tuple[Withdrawal, ...] = ()) -> ConsentFacts:
    return ConsentFacts(uuid.uuid4(), frozenset({"b"}), frozenset({"case_management"}),
                        frozenset({"x"}), frozenset(), False, True,
                        datetime(2026, 1, 1, tzinfo=UTC), expires, withdrawals)


def test_consent_ended_on() -> None:
    at = datetime(2027, 1, 1, tzinfo=UTC)
    expired = _consent(datetime(2026, 6, 1, 12, tzinfo=UTC))
    live = _consent(datetime(2027, 6, 1, tzinfo=UTC))
    withdrawn = _consent(datetime(2027, 6, 1, tzinfo=UTC), (
        (datetime(2026, 9, 1, tzinfo=UTC), frozenset({"b"}), frozenset(), frozenset()),))
    assert consent_ended_on([expired], "b", "x", at) == date(2026, 6, 1)
    assert consent_ended_on([expired, live], "b", "x", at) is None
    assert consent_ended_on([expired, withdrawn], "b", "x", at) == date(2026, 9, 1)
    assert consent_ended_on([expired], "c", "x", at) is None  # never covered c
    assert consent_ended_on([], "b", "x", at) is None


_days = st.integers(min_value=0, max_value=3000)
_delivery = st.builds(Delivery, st.sampled_from(["a", "b", "c"]), st.sampled_from(["x", "y"]),
                      st.sampled_from(["p/f", "p/g", "q/h"]), _days,
                      st.none() | st.dates(date(2025, 1, 1), date(2030, 1, 1)))
_closed = st.none() | st.dates(date(2025, 1, 1), date(2030, 1, 1))


@given(st.lists(_delivery, max_size=8), _closed, st.booleans())
def test_properties(made: list[Delivery], closed: date | None, held: bool) -> None:
    items = due_items(SUBJECT, made, closed, held)
    # one item per copy at most, sorted, all marked with the hold
    assert len({(i.org, i.category) for i in items}) == len(items)
    assert items == sorted(items, key=lambda i: (i.due_on, i.org, i.category))
    assert all(i.hold == held for i in items)
    for item in items:
        mine = [d for d in made if (d.org, d.category) == (item.org, item.category)]
        # due only when every delivery of the copy has an ended basis, never before any ends
        ends = [min(e for e in (closed, d.consent_ended_on) if e is not None) for d in mine]
        assert item.due_on == max(e + timedelta(days=d.retention_days)
                                  for e, d in zip(ends, mine, strict=True))
        assert item.rule in {d.rule for d in mine}
    # with no basis ended at all, nothing is due; the order of deliveries does not matter
    if closed is None and all(d.consent_ended_on is None for d in made):
        assert items == []
    assert due_items(SUBJECT, list(reversed(made)), closed, held) == items


@given(_days, _days, st.dates(date(2025, 1, 1), date(2030, 1, 1)))
def test_closing_later_never_makes_a_copy_due_sooner(a: int, b: int, closed: date) -> None:
    made = [Delivery("b", "x", "p/f", a), Delivery("b", "x", "p/g", b)]
    [early] = due_items(SUBJECT, made, closed, False)
    [late] = due_items(SUBJECT, made, closed + timedelta(days=5), False)
    assert late.due_on >= early.due_on


def test_days_are_uk_days_at_a_bst_edge() -> None:
    """A consent that ended at 00:30 BST on 1 June 2027 (23:30 UTC on 31 May) ended on 1 June:
    its copy is due 30 days after 1 June, not after 31 May (review finding 3)."""
    ended = datetime(2027, 5, 31, 23, 30, tzinfo=UTC)
    consent = _consent(ended)
    assert consent_ended_on([consent], "b", "x", datetime(2027, 6, 2, tzinfo=UTC)) == date(
        2027, 6, 1)


def test_end_of_a_uk_day_is_the_next_uk_midnight() -> None:
    """end_of(1 June) is 00:00 BST on 2 June, i.e. 23:00 UTC on 1 June: a case closed at 00:30
    BST on 1 June counts as closed by then, and one closed at 23:30 BST does not."""
    assert end_of(date(2027, 6, 1)) == datetime(2027, 6, 1, 23, 0, tzinfo=UTC)
    assert end_of(date(2027, 1, 10)) == datetime(2027, 1, 11, 0, 0, tzinfo=UTC)
