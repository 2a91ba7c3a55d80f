"""UK local time: the time zone every date a person reads is counted in (review and due
dates, working days, appointment times in reminders and on pages). Times are stored in UTC;
they become UK dates and times only where a person reads them or a rule counts UK days."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

UK = ZoneInfo("Europe/London")


def uk_today(now: datetime) -> date:
    """The UK calendar date at `now` (the date a worker and the claimant mean), not the UTC
    date: at 23:30 UTC in summer it is already the next day in the UK."""
    return now.astimezone(UK).date()
