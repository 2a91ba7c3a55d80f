"""The controlled list of reasons a case closes (the issue's list; `other` needs a note), and
the pure checks on what was asked for: no session, no Flask."""

from __future__ import annotations

from datetime import date

CLOSURE_REASONS: tuple[str, ...] = (
    "goals_met", "moved_away", "no_longer_engaging", "transferred", "deceased", "other",
)
NOTE_REQUIRED = frozenset({"other"})
# The note says why in a few words for the partnership; longer belongs in the plan's notes.
NOTE_MAX = 500

Errors = dict[str, list[str]]


def closure_errors(reason: str | None, note: str | None) -> Errors:
    """What is wrong with a closure request, by field (empty when it may go ahead)."""
    if reason not in CLOSURE_REASONS:
        return {"reason": ["Choose why the case is closing."]}
    words = (note or "").strip()
    if reason in NOTE_REQUIRED and not words:
        return {"note": ["Say why the case is closing."]}
    if len(words) > NOTE_MAX:
        return {"note": [f"The note must be {NOTE_MAX} characters or fewer."]}
    return {}


def review_date_errors(review_on: date | None, today: date) -> Errors:
    """A review date is today or later (a date already passed would be overdue from the
    start); None clears it."""
    if review_on is not None and review_on < today:
        return {"review_on": ["The review date must be today or in the future."]}
    return {}


def is_review_overdue(review_on: date | None, status: str, today: date) -> bool:
    """An open case whose review date has passed."""
    return status == "open" and review_on is not None and review_on < today
