"""The controlled list of reasons a case closes (the issue's list; `other` needs a note)."""

from __future__ import annotations

CLOSURE_REASONS: tuple[str, ...] = (
    "goals_met", "moved_away", "no_longer_engaging", "transferred", "deceased", "other",
)
NOTE_REQUIRED = frozenset({"other"})
