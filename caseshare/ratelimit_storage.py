"""In-process rate-limit counters without a thread per hit.

limits' own MemoryStorage (behind `memory://`) starts a `threading.Timer` on a hit whenever the
previous timer has finished, which at a few hundred requests a second is nearly every hit: about
12 % of an audited read (docs/performance.md). This storage keeps the same fixed-window counters
(flask-limiter's default strategy) and expires them lazily instead: a counter past its expiry
counts as absent, and a sweep every `SWEEP_SECONDS` drops the expired ones so memory stays
bounded by the callers seen in one window.

It holds one process's counters only, like `memory://`: production uses Redis
(`CASESHARE_RATELIMIT_STORAGE_URI=redis://...`), and production mode refuses `memory://`.
"""

from __future__ import annotations

import threading
import time

from limits.storage import Storage

SCHEME = "caseshare-memory"
SWEEP_SECONDS = 30.0


class FixedWindowMemoryStorage(Storage):
    """Counters with an expiry, for the fixed-window strategy only (`memory://` in create_app)."""

    STORAGE_SCHEME = [SCHEME]  # noqa: RUF012 (limits reads it as a class attribute)

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False,
                 **options: float | str | bool) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._counters: dict[str, tuple[int, float]] = {}  # key -> (count, expires at)
        self._lock = threading.Lock()
        self._next_sweep = time.time() + SWEEP_SECONDS

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return ValueError

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        with self._lock:
            if now >= self._next_sweep:
                self._sweep(now)
            count, expires = self._counters.get(key, (0, 0.0))
            if expires <= now:  # a new window starts with this hit
                count, expires = 0, now + expiry
            count += amount
            self._counters[key] = (count, expires)
            return count

    def get(self, key: str) -> int:
        count, expires = self._counters.get(key, (0, 0.0))
        return count if expires > time.time() else 0

    def get_expiry(self, key: str) -> float:
        now = time.time()
        _count, expires = self._counters.get(key, (0, 0.0))
        return expires if expires > now else now

    def check(self) -> bool:
        return True

    def reset(self) -> int | None:
        with self._lock:
            cleared = len(self._counters)
            self._counters.clear()
            return cleared

    def clear(self, key: str) -> None:
        with self._lock:
            self._counters.pop(key, None)

    def _sweep(self, now: float) -> None:
        self._counters = {k: v for k, v in self._counters.items() if v[1] > now}
        self._next_sweep = now + SWEEP_SECONDS


def storage_uri(configured: str) -> str:
    """The storage flask-limiter is given: `memory://` (one process) means this storage; any
    other URI (redis://, the production option) is passed through unchanged."""
    return f"{SCHEME}://" if configured.startswith("memory://") else configured
