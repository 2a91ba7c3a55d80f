"""The one date range MI and funding periods may use, applied by the use cases too."""

from __future__ import annotations

from datetime import date

import pytest

from caseshare.access.funding import default_period
from caseshare.errors import ValidationError
from caseshare.mi import periods


def test_dates_outside_2000_to_2100_are_refused_naming_the_field() -> None:
    periods.check(**{"from": date(2000, 1, 1), "to": date(2100, 12, 31), "compare_to": None})
    with pytest.raises(ValidationError) as caught:
        periods.check(**{"from": date(1, 1, 1), "to": date(9999, 12, 31)})
    assert set(caught.value.extra["errors"]) == {"from", "to"}


def test_the_default_six_months_never_start_before_2000() -> None:
    assert default_period(date(2026, 6, 1), None, date(2000, 2, 1)) == (date(2000, 1, 1),
                                                                        date(2000, 2, 1))
