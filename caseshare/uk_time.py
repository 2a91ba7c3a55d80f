"""UK local time: the time zone every date a person reads is counted in (review and due
dates, working days, appointment times in reminders and on pages). Times are stored in UTC;
they become UK dates and times only where a person reads them or a rule counts UK days."""

from __future__ import annotations

from zoneinfo import ZoneInfo

UK = ZoneInfo("Europe/London")
