"""The dates an MI or funding period may use: 2000-01-01 to 2100-12-31.

Anything outside is a typing slip, and the arithmetic on periods (the day after the last, the
default six months back) must never leave the calendar Python can hold: a year 1 or 9999 date
was a 500. The API schemas, the pages and the use cases all apply this one rule.
"""

from __future__ import annotations

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
