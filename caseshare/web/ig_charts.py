"""Charts for the IG dashboard as plain geometry, drawn by the template as inline SVG (no
JavaScript, no inline style: SVG presentation attributes are not styles, so the CSP allows
them). Each chart has a data table beside it for screen readers and for exact figures."""

from __future__ import annotations

from dataclasses import dataclass

from caseshare.audit.stats import DayCount

ALLOWED = "#1d70b8"  # GOV.UK blue
DENIED = "#d4351c"  # GOV.UK red
INK = "#0b0c0c"
GRID = "#b1b4b6"
WIDTH = 480  # drawn at this size on a desktop; scaled down to the column on a phone


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    fill: str
    title: str


@dataclass(frozen=True)
class Text:
    x: float
    y: float
    text: str
    anchor: str = "middle"


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    rects: list[Rect]
    texts: list[Text]
    lines: list[Line]


def nice_ceiling(value: int) -> int:
    """A round axis maximum at or above value (1, 2, 5 times a power of ten)."""
    if value <= 1:
        return 1
    magnitude = 1
    while True:
        for step in (1, 2, 5):
            if step * magnitude >= value:
                return step * magnitude
        magnitude *= 10


def volume_chart(days: list[DayCount]) -> Chart:
    """Stacked columns per day: allowed (blue) below denied (red)."""
    left, right, top, bottom, height = 48, 8, 12, 40, 240
    plot_h = height - top - bottom
    top_value = nice_ceiling(max((d.total for d in days), default=0))
    slot = (WIDTH - left - right) / max(len(days), 1)
    rects, texts, lines = [], [], []
    for tick in (0, top_value // 2 if top_value >= 2 else None, top_value):
        if tick is None:
            continue
        y = top + plot_h - plot_h * tick / top_value
        lines.append(Line(left, y, WIDTH - right, y))
        texts.append(Text(left - 6, y + 4, str(tick), "end"))
    for i, day in enumerate(days):
        x = left + i * slot + slot * 0.15
        w = slot * 0.7
        base = top + plot_h
        allowed_h = plot_h * day.allowed / top_value
        denied_h = plot_h * day.denied / top_value
        label = f"{day.day.day} {day.day:%b}"
        if day.allowed:
            rects.append(Rect(x, base - allowed_h, w, allowed_h, ALLOWED,
                              f"{label}: {day.allowed} allowed"))
        if day.denied:
            rects.append(Rect(x, base - allowed_h - denied_h, w, denied_h, DENIED,
                              f"{label}: {day.denied} denied"))
        if len(days) <= 16 or i % 2 == 0:
            texts.append(Text(x + w / 2, base + 16, str(day.day.day)))
            if i == 0 or day.day.day == 1:
                texts.append(Text(x + w / 2, base + 32, f"{day.day:%b}"))
    return Chart(WIDTH, height, rects, texts, lines)


def denials_chart(rows: list[tuple[str, int]]) -> Chart:
    """One horizontal bar per organisation, its name above the bar and the count after it."""
    row_h, top = 44, 4
    height = top + row_h * max(len(rows), 1)
    top_value = nice_ceiling(max((n for _org, n in rows), default=0))
    usable = WIDTH - 60
    rects, texts = [], []
    for i, (name, count) in enumerate(rows):
        y = top + i * row_h
        texts.append(Text(0, y + 14, name, "start"))
        w = usable * count / top_value
        if count:
            rects.append(Rect(0, y + 20, w, 16, DENIED, f"{name}: {count} denied"))
        texts.append(Text(w + 6, y + 33, str(count), "start"))
    return Chart(WIDTH, height, rects, texts, [])
