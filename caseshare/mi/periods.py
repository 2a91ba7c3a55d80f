"""The dates an MI or funding period may use: 2000-01-01 to 2100-12-31; and MI periods are
whole calendar months.

Anything outside is a typing slip, and the arithmetic on periods (the day after the last, the
default six months back) must never leave the calendar Python can hold: a year 1 or 9999 date
was a 500. The API schemas, the pages and the use cases all apply this one rule.
"""

from __future__ import annotations

import calendar
from datetime import date

from caseshare.errors import ValidationError

EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)
MESSAGE = "Enter a date between 2000-01-01 and 2100-12-31"


def in_range(value: date) -> bool:
    return EARLIEST <= value <= LATEST


def check(**dates: date | None) -> None:
    """A 422 naming every field whose date is outside the range (None: not given)."""
    wrong = {name: [MESSAGE + "."] for name, value in dates.items()
             if value is not None and not in_range(value)}
    if wrong:
        raise ValidationError(wrong)


def whole_months(first: date, last: date) -> tuple[date, date]:
    """The period widened to whole calendar months: from the first day of `first`'s month to
    the last day of `last`'s. MI tables are published for whole months only, so two tables can
    differ by whole months at the least, never by a day or a week whose few claimants the
    difference of two rounded tables would come close to."""
    end = calendar.monthrange(last.year, last.month)[1]
    return first.replace(day=1), last.replace(day=end)
