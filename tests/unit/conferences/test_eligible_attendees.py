"""Who may be named at a conference: case members and the parties of their protocols in force."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from caseshare.conferences.service import eligible_attendees
from caseshare.policy.loader import load_directory

POLICIES = Path(__file__).resolve().parents[3] / "policies"


def test_case_members_bring_the_parties_of_their_protocols_and_no_others() -> None:
    protocols = load_directory(POLICIES)
    eligible = eligible_attendees(protocols, {"recovery-partnership"}, date(2026, 11, 23))
    assert eligible == {"recovery-partnership", "jcp-derby"}
    derby = eligible_attendees(protocols, {"jcp-derby"}, date(2026, 11, 23))
    assert {"derby-housing", "ca-derby", "recovery-partnership"} <= derby
    assert "tywi-recovery" not in derby
    # A protocol no longer in force brings no one.
    assert eligible_attendees(protocols, {"recovery-partnership"},
                              date(2030, 1, 1)) == {"recovery-partnership"}
