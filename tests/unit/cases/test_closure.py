"""The pure closure rules: the controlled reasons, a note for `other`, review dates."""

from __future__ import annotations

from datetime import date

from caseshare.cases import closure

TODAY = date(2026, 12, 7)


def test_a_reason_from_the_list_is_needed_and_other_needs_words() -> None:
    assert closure.closure_errors("goals_met", None) == {}
    assert set(closure.closure_errors(None, None)) == {"reason"}
    assert set(closure.closure_errors("bored", "x")) == {"reason"}
    assert set(closure.closure_errors("other", "   ")) == {"note"}
    assert closure.closure_errors("other", "Asked to stop") == {}
    assert set(closure.closure_errors("moved_away", "x" * (closure.NOTE_MAX + 1))) == {"note"}


def test_a_review_date_is_today_or_later_and_overdue_only_while_open() -> None:
    assert closure.review_date_errors(TODAY, TODAY) == {}
    assert closure.review_date_errors(None, TODAY) == {}
    assert set(closure.review_date_errors(date(2026, 12, 6), TODAY)) == {"review_on"}
    assert closure.is_review_overdue(date(2026, 12, 6), "open", TODAY)
    assert not closure.is_review_overdue(TODAY, "open", TODAY)
    assert not closure.is_review_overdue(date(2026, 12, 6), "closed", TODAY)
    assert not closure.is_review_overdue(None, "open", TODAY)
