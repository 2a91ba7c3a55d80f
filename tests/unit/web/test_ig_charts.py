"""Chart geometry for the IG dashboard: round axis tops, bar heights in proportion, a label
for every day, nothing drawn for a zero."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from caseshare.audit.stats import DayCount
from caseshare.web import ig_charts


@pytest.mark.parametrize(("value", "top"), [(0, 1), (1, 1), (2, 2), (3, 5), (7, 10),
                                            (11, 20), (199, 200), (201, 500), (5000, 5000)])
def test_nice_ceiling(value: int, top: int) -> None:
    assert ig_charts.nice_ceiling(value) == top


def test_volume_bars_are_in_proportion_and_stacked() -> None:
    first = date(2026, 11, 10)
    days = [DayCount(first + timedelta(days=i), allowed=i, denied=1 if i == 3 else 0)
            for i in range(14)]
    chart = ig_charts.volume_chart(days)
    allowed = [r for r in chart.rects if r.fill == ig_charts.ALLOWED]
    denied = [r for r in chart.rects if r.fill == ig_charts.DENIED]
    assert len(allowed) == 13 and len(denied) == 1  # day 0 has nothing to draw
    tallest = max(allowed, key=lambda r: r.height)
    assert tallest.title == "23 Nov: 13 allowed"
    three = next(r for r in allowed if r.title == "13 Nov: 3 allowed")
    assert tallest.height / three.height == pytest.approx(13 / 3)
    assert denied[0].y + denied[0].height == pytest.approx(three.y)  # sits on top
    bottom = max(t.y for t in chart.texts if t.anchor == "middle")
    month_row = [t.text for t in chart.texts if t.y == bottom]
    day_row = [t.text for t in chart.texts if t.anchor == "middle" and t.y != bottom]
    assert day_row == [str(d.day.day) for d in days] and month_row == ["Nov"]

def test_denials_rows_with_counts() -> None:
    chart = ig_charts.denials_chart([("Derby Jobcentre Plus", 4), ("Citizens Advice Derby", 0)])
    assert [r.title for r in chart.rects] == ["Derby Jobcentre Plus: 4 denied"]
    texts = [t.text for t in chart.texts]
    assert texts == ["Derby Jobcentre Plus", "4", "Citizens Advice Derby", "0"]
    assert chart.rects[0].width == pytest.approx((ig_charts.WIDTH - 60) * 4 / 5)  # axis top 5
