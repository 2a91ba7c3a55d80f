"""The in-process rate-limit storage behind `memory://`: fixed windows that expire, bounded
memory, and no thread started per hit (limits' own MemoryStorage starts a Timer)."""

from __future__ import annotations

import threading

import pytest
from limits import parse
from limits.strategies import FixedWindowRateLimiter

from caseshare import ratelimit_storage
from caseshare.ratelimit_storage import FixedWindowMemoryStorage, storage_uri


class FakeTime:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def time(self) -> float:
        return self.now


@pytest.fixture
def fake_time(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    fake = FakeTime()
    monkeypatch.setattr(ratelimit_storage, "time", fake)
    return fake


def test_memory_uri_means_this_storage_and_redis_passes_through() -> None:
    assert storage_uri("memory://") == "caseshare-memory://"
    assert storage_uri("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"


def test_fixed_window_allows_the_limit_then_refuses_until_the_window_ends(
    fake_time: FakeTime
) -> None:
    limiter = FixedWindowRateLimiter(FixedWindowMemoryStorage())
    limit = parse("3 per minute")
    assert [limiter.hit(limit, "caller") for _ in range(4)] == [True, True, True, False]
    assert limiter.hit(limit, "other")  # another caller has its own window
    stats = limiter.get_window_stats(limit, "caller")
    assert stats.remaining == 0 and stats.reset_time == pytest.approx(fake_time.now + 60)
    fake_time.now += 59
    assert not limiter.hit(limit, "caller")
    fake_time.now += 1
    assert limiter.hit(limit, "caller")
    assert limiter.get_window_stats(limit, "caller").remaining == 2


def test_expired_counters_are_swept_so_memory_stays_bounded(fake_time: FakeTime) -> None:
    storage = FixedWindowMemoryStorage()
    for i in range(100):
        storage.incr(f"caller-{i}", 10)
    assert len(storage._counters) == 100
    fake_time.now += ratelimit_storage.SWEEP_SECONDS + 1
    storage.incr("late", 10)
    assert list(storage._counters) == ["late"]
    assert storage.get("caller-1") == 0


def test_no_thread_is_started_per_hit() -> None:
    storage = FixedWindowMemoryStorage()
    before = threading.active_count()
    for i in range(200):
        storage.incr(f"k{i % 7}", 60)
    assert threading.active_count() == before
