"""The history chart's geometry: one line per domain across the assessments, on a round axis,
with no made-up point for a score the viewer may not see."""

from __future__ import annotations

from datetime import date

from caseshare.web.assessment_charts import HEIGHT, LEFT, TOP, WIDTH, score_chart


def test_one_line_per_domain_on_a_round_axis() -> None:
    chart = score_chart([date(2026, 11, 2), date(2026, 12, 2)],
                        [("Managing money", [11.0, 2.0]), ("Getting online", [8.0, None])])
    money, online = chart.series
    assert [round(x) for x, _y in money.points] == [LEFT, WIDTH - 12]
    # The axis runs to 20 (the round ceiling of 11): 11 sits just over half way up.
    plot_h = HEIGHT - TOP - 40
    assert money.points[0][1] == TOP + plot_h - plot_h * 11 / 20
    assert len(online.points) == 1  # the withheld score has no point
    assert money.dash != online.dash and money.colour != online.colour
    assert {t.text for t in chart.texts} >= {"0", "10", "20", "2 Nov", "2 Dec", "2026"}


def test_a_single_assessment_is_one_point_in_the_middle() -> None:
    chart = score_chart([date(2026, 12, 2)], [("Work", [3.0])])
    assert chart.series[0].points == [(LEFT + (WIDTH - LEFT - 12) / 2,
                                       chart.series[0].points[0][1])]
