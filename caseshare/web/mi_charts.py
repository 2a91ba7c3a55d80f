"""The MI page's chart as plain geometry (drawn by ig/macros.html `svg_chart`, like the IG
dashboard's): one horizontal bar per published cell, its group and outcome above it and the
count after it; a suppressed cell has no bar, only the word "suppressed", so the chart never
shows more than the table beside it."""

from __future__ import annotations

from caseshare.mi.disclosure import Cell
from caseshare.web.ig_charts import ALLOWED, WIDTH, Chart, Rect, Text, nice_ceiling


def cells_chart(cells: list[Cell], label: dict[str, str]) -> Chart:
    """Bars for every cell that is published and not zero, or suppressed."""
    shown = [c for c in cells if c.suppressed or c.count]
    row_h, top = 44, 4
    height = top + row_h * max(len(shown), 1)
    top_value = nice_ceiling(max((c.count or 0 for c in shown), default=0))
    usable = WIDTH - 110
    rects, texts = [], []
    for i, cell in enumerate(shown):
        y = top + i * row_h
        name = f"{cell.group}: {label.get(cell.code, cell.code)}"
        texts.append(Text(0, y + 14, name, "start"))
        if cell.count is None:
            texts.append(Text(0, y + 33, "suppressed", "start"))
            continue
        w = usable * cell.count / top_value
        rects.append(Rect(0, y + 20, w, 16, ALLOWED, f"{name}: {cell.count}"))
        texts.append(Text(w + 6, y + 33, str(cell.count), "start"))
    return Chart(WIDTH, height, rects, texts, [])
