"""The referral lifecycle's pure rules: the order of steps, who records each, the outcome list
and the response standard in working days (weekends and bank holidays skipped)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from caseshare.case_plan import referral_steps as steps
from caseshare.policy.models import ProtocolSet


def test_steps_follow_the_lifecycle_and_final_statuses_allow_nothing() -> None:
    assert steps.steps_open("accepted", receiver=True, sender=False) == ["booked"]
    assert steps.steps_open("booked", receiver=True, sender=False) == [
        "booked", "attended", "did_not_attend"]
    assert steps.steps_open("did_not_attend", receiver=True, sender=False) == [
        "booked", "completed"]
    assert steps.steps_open("attended", receiver=True, sender=False) == ["completed"]
    assert steps.steps_open("open", receiver=True, sender=False) == []
    assert steps.steps_open("booked", receiver=False, sender=True) == ["withdrawn"]
    for final in steps.FINAL:
        assert steps.steps_open(final, receiver=True, sender=True) == []
    assert not steps.may_follow("attended", "accepted")  # attended before booked
    assert steps.party_for("withdrawn") == "sender" and steps.party_for("booked") == "receiver"


def test_the_outcome_list_has_english_and_welsh_for_every_code() -> None:
    found = steps.outcomes()
    assert {"advice_given", "debt_plan_agreed", "apa_requested", "tenancy_sustained",
            "treatment_started", "no_further_action"} <= set(found)
    assert all(o.en and o.cy and o.en != o.cy for o in found.values())
    assert found["advice_given"].label("cy") == "Cyngor wedi'i roi"


@pytest.mark.parametrize(("sent", "days", "due"), [
    # Monday morning, 2 working days: by the end of Wednesday (midnight UK time, GMT).
    (datetime(2026, 11, 23, 9, 30, tzinfo=UTC), 2, datetime(2026, 11, 26, 0, 0, tzinfo=UTC)),
    # Friday afternoon: Monday and Tuesday count.
    (datetime(2026, 11, 27, 16, 0, tzinfo=UTC), 2, datetime(2026, 12, 2, 0, 0, tzinfo=UTC)),
    # Christmas Eve 2026: Christmas Day, the weekend and Boxing Day's substitute are skipped.
    (datetime(2026, 12, 24, 10, 0, tzinfo=UTC), 2, datetime(2026, 12, 31, 0, 0, tzinfo=UTC)),
    # Summer time: the end of the UK day is 23:00 UTC. Sent Thursday before the May bank
    # holiday (4 May 2026): Friday, then Tuesday.
    (datetime(2026, 4, 30, 12, 0, tzinfo=UTC), 2, datetime(2026, 5, 5, 23, 0, tzinfo=UTC)),
    # Sent at 23:30 UTC on Sunday in summer is already Monday in the UK.
    (datetime(2026, 6, 7, 23, 30, tzinfo=UTC), 1, datetime(2026, 6, 9, 23, 0, tzinfo=UTC)),
])
def test_respond_by_counts_working_days_after_the_uk_day_it_was_sent(
        sent: datetime, days: int, due: datetime) -> None:
    assert steps.respond_by(sent, days) == due


def test_a_protocol_may_set_its_own_response_standard() -> None:
    from caseshare.policy.loader import load_directory
    from tests.conftest import ROOT

    loaded = load_directory(ROOT / "policies")
    first = loaded.protocols[0]
    assert loaded.response_days(first.ref) == 2  # none set: the default
    quicker = replace(first, referral_response_days=1)
    custom = replace(ProtocolSet.build((quicker, *loaded.protocols[1:])),
                     referral_response_days=5)
    assert custom.response_days(first.ref) == 1
    assert custom.response_days(loaded.protocols[1].ref) == 5


def test_the_protocol_file_key_is_read(tmp_path: Path) -> None:
    from caseshare.policy.loader import load_files
    from tests.conftest import ROOT

    text = (ROOT / "policies/recovery-jcp.v1.yaml").read_text()
    assert "\nversion: 1\n" in text
    path = tmp_path / "quick.yaml"
    path.write_text(text.replace("\nversion: 1\n", "\nversion: 1\nreferral_response_days: 3\n"))
    loaded = load_files([path])
    assert loaded.response_days(loaded.protocols[0].ref) == 3
