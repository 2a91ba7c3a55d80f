"""The claimant's domain scores over time as plain geometry, drawn by the history page as inline
SVG (no JavaScript; SVG presentation attributes are not styles, so the CSP allows them).

The SVG is decoration for sighted users: the table under it carries the same numbers, so the
SVG is aria-hidden and the table is what assistive technology reads. Each domain's line has its
own colour and its own dash pattern, with a legend, so colour is never the only difference.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from caseshare.web.ig_charts import Line, Text, nice_ceiling

WIDTH, HEIGHT = 480, 260
LEFT, RIGHT, TOP, BOTTOM = 40, 12, 12, 40
# GOV.UK colours, each with its own dash pattern (solid, dashed, dotted, ...).
STYLES = (("#1d70b8", ""), ("#d4351c", "8 4"), ("#00703c", "2 3"), ("#4c2c92", "10 3 2 3"),
          ("#f47738", "4 4"))


@dataclass(frozen=True)
class Series:
    label: str
    colour: str
    dash: str
    points: list[tuple[float, float]]

    @property
    def path(self) -> str:
        return " ".join(f"{x:.1f},{y:.1f}" for x, y in self.points)


@dataclass(frozen=True)
class ScoreChart:
    width: int
    height: int
    series: list[Series]
    texts: list[Text]
    lines: list[Line]


def score_chart(when: list[date], domains: list[tuple[str, list[float | None]]]) -> ScoreChart:
    """One line per domain across the assessments (oldest first); a score the viewer may not
    see (None) has no point (nothing is made up for it)."""
    top_value = nice_ceiling(int(max((s for _d, scores in domains for s in scores
                                      if s is not None), default=0) + 0.999))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(when) - 1, 1)

    def x(i: int) -> float:
        return LEFT + (i * step if len(when) > 1 else plot_w / 2)

    def y(value: float) -> float:
        return TOP + plot_h - plot_h * value / top_value

    lines, texts = [], []
    for tick in sorted({0, top_value // 2, top_value}):
        lines.append(Line(LEFT, y(tick), WIDTH - RIGHT, y(tick)))
        texts.append(Text(LEFT - 6, y(tick) + 4, str(tick), "end"))
    for i, day in enumerate(when):
        texts.append(Text(x(i), HEIGHT - BOTTOM + 18, f"{day.day} {day:%b}"))
        if i == 0 or day.year != when[i - 1].year:
            texts.append(Text(x(i), HEIGHT - BOTTOM + 34, str(day.year)))
    series = [Series(label, *STYLES[n % len(STYLES)],
                     [(x(i), y(s)) for i, s in enumerate(scores) if s is not None])
              for n, (label, scores) in enumerate(domains)]
    return ScoreChart(WIDTH, HEIGHT, series, texts, lines)
