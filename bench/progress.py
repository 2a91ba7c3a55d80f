"""A small progress bar on stderr (no dependency): rate, elapsed time and time left."""

from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, label: str, total: int, width: int = 30) -> None:
        self.label, self.total, self.width = label, max(total, 1), width
        self.done = 0
        self.started = time.perf_counter()
        self._last = 0.0
        self._drawn_done = -1
        self._tty = sys.stderr.isatty()

    def advance(self, n: int) -> None:
        self.done += n
        now = time.perf_counter()
        # Redraw at most 5 times a second on a terminal, every 10 s in a log file.
        if now - self._last >= (0.2 if self._tty else 10.0) or self.done >= self.total:
            self._last = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        if self.done == self._drawn_done:
            return
        self._drawn_done = self.done
        elapsed = now - self.started
        frac = min(self.done / self.total, 1.0)
        rate = self.done / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.done) / rate if rate > 0 else 0.0
        bar = "#" * int(frac * self.width)
        line = (f"{self.label:<14} [{bar:<{self.width}}] {frac:6.1%} {self.done:>9,}/"
                f"{self.total:,} {rate:>9,.0f}/s {elapsed:6.1f}s eta {eta:5.1f}s")
        sys.stderr.write(("\r" if self._tty else "") + line + ("" if self._tty else "\n"))
        sys.stderr.flush()

    def close(self) -> float:
        elapsed = time.perf_counter() - self.started
        self._draw(time.perf_counter())
        if self._tty:
            sys.stderr.write("\n")
        return elapsed
