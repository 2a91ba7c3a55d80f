"""Attribution shares: who contributed to an outcome (recording org, entry owners, the referral
chain up to them) and equal shares that sum to exactly 1."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from caseshare.outcomes.attribution import contributors, shares


def test_recording_org_alone_takes_the_whole_outcome() -> None:
    assert [(s.org, s.basis, s.share) for s in shares("housing", [], [])] == [
        ("housing", "recorded", Decimal(1))]


def test_entry_owners_and_the_referral_chain_up_to_them_contribute() -> None:
    # jcp referred to treatment, treatment referred to CA; CA owns a finances entry.
    # An unrelated referral from housing to a service that did not contribute earns nothing.
    found = contributors("housing", ["ca"], [("treatment", "ca"), ("jcp", "treatment"),
                                              ("housing", "elsewhere")])
    assert found == {"housing": "recorded", "ca": "entry_owner", "treatment": "referral",
                     "jcp": "referral"}


def test_three_way_split_gives_the_remainder_to_the_recording_org() -> None:
    result = {s.org: s.share for s in shares("housing", ["ca", "jcp"], [])}
    assert result == {"housing": Decimal("0.3334"), "ca": Decimal("0.3333"),
                      "jcp": Decimal("0.3333")}


@given(st.text(min_size=1, max_size=3), st.lists(st.text(min_size=1, max_size=3), max_size=8),
       st.lists(st.tuples(st.text(min_size=1, max_size=3), st.text(min_size=1, max_size=3)),
                max_size=10))
def test_shares_always_sum_to_one_once_per_org(recorded: str, owners: list[str],
                                               referrals: list[tuple[str, str]]) -> None:
    result = shares(recorded, owners, referrals)
    assert sum(s.share for s in result) == Decimal(1)
    assert len({s.org for s in result}) == len(result)
    assert all(s.share > 0 for s in result)
