"""The referral lifecycle's rules: which step may follow which status, who records it, what it
needs, the controlled list of outcome codes, and the response standard in working days. Pure:
no session, no Flask.

    open ("sent") -> accepted | declined
    accepted -> booked;  booked -> booked (moved) | attended | did_not_attend
    did_not_attend -> booked (rebooked) | completed (closed);  attended -> completed
    open, accepted, booked, attended, did_not_attend -> withdrawn (by the sender)
    any status still in progress -> suspended (the basis is lost)

Declined, completed, withdrawn and suspended are final.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from caseshare.uk_time import UK

HERE = Path(__file__).parent

# Steps recorded through POST /referrals/{id}/events (accept and decline have their own).
STEPS = ("booked", "attended", "did_not_attend", "completed", "withdrawn")
# Who may record each step: the receiving organisation, or the sender.
BY_RECEIVER = frozenset({"booked", "attended", "did_not_attend", "completed"})
BY_SENDER = frozenset({"withdrawn"})
# The statuses each step may follow.
FOLLOWS: dict[str, frozenset[str]] = {
    "booked": frozenset({"accepted", "booked", "did_not_attend"}),
    "attended": frozenset({"booked"}),
    "did_not_attend": frozenset({"booked"}),
    "completed": frozenset({"attended", "did_not_attend"}),
    "withdrawn": frozenset({"open", "accepted", "booked", "attended", "did_not_attend"}),
}
# Statuses in which the referral is still in progress (a lost basis suspends it).
IN_PROGRESS = frozenset({"open", "accepted", "booked", "attended", "did_not_attend"})
FINAL = frozenset({"declined", "completed", "withdrawn", "suspended"})


def party_for(step: str) -> str:
    """'receiver' or 'sender': the side of the referral that records `step`."""
    return "sender" if step in BY_SENDER else "receiver"


def may_follow(step: str, status: str) -> bool:
    return status in FOLLOWS.get(step, frozenset())


def steps_open(status: str, *, receiver: bool, sender: bool) -> list[str]:
    """The steps a caller on this side (or both) may record on a referral in `status`."""
    return [s for s in STEPS if may_follow(s, status)
            and ((receiver and s in BY_RECEIVER) or (sender and s in BY_SENDER))]


@dataclass(frozen=True)
class Outcome:
    code: str
    en: str
    cy: str

    def label(self, language: str = "en") -> str:
        return self.cy if language == "cy" else self.en


@cache
def outcomes(path: Path = HERE / "referral_outcomes.yaml") -> dict[str, Outcome]:
    """The controlled list of outcome codes (read once; `create_app` reads it at start, so a
    broken file stops the service starting rather than a completion failing)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not data:
        raise ValueError(f"{path.name}: expected a mapping of outcome codes")
    found = {}
    for code, labels in data.items():
        if not isinstance(labels, dict) or not labels.get("en") or not labels.get("cy"):
            raise ValueError(f"{path.name}: {code} needs en and cy labels")
        found[str(code)] = Outcome(str(code), str(labels["en"]), str(labels["cy"]))
    return found


@cache
def bank_holidays(path: Path = HERE / "bank_holidays.yaml") -> frozenset[date]:
    """England and Wales bank holidays from the data file beside this module."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    return frozenset(d if isinstance(d, date) else date.fromisoformat(str(d)) for d in data)


def is_working_day(day: date, holidays: frozenset[date] | None = None) -> bool:
    return day.weekday() < 5 and day not in (bank_holidays() if holidays is None else holidays)


def respond_by(sent_at: datetime, days: int, holidays: frozenset[date] | None = None) -> datetime:
    """The end of the `days`-th working day after the day (UK time) the referral was sent: the
    moment it becomes overdue if still not accepted or declined. Sent on Monday with 2 days:
    due by the end of Wednesday; sent on a Friday: by the end of Tuesday."""
    day, counted = sent_at.astimezone(UK).date(), 0
    while counted < days:
        day += timedelta(days=1)
        if is_working_day(day, holidays):
            counted += 1
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=UK).astimezone(ZoneInfo("UTC"))
