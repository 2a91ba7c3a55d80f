"""Issue 18 (g): the rate-limit tests' throwaway Redis runs on a fresh machine (fakeredis where
redis-server is not installed) and is never skipped; under CI a missing redis-server fails."""

from __future__ import annotations

from pathlib import Path

import pytest
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter

from tests.redis_server import FakeRedisServer, RedisMissingError, RedisServer, throwaway_redis


def _without_redis_server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no redis-server on it


def test_without_redis_server_a_python_redis_stands_in_and_limits_work_on_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _without_redis_server(monkeypatch, tmp_path)
    monkeypatch.delenv("CI", raising=False)
    server = throwaway_redis()
    assert isinstance(server, FakeRedisServer)
    server.start()
    try:
        storage = storage_from_string(server.url)
        assert storage.check()
        two = parse("2/minute")
        for limiter in (MovingWindowRateLimiter(storage), FixedWindowRateLimiter(storage)):
            key = type(limiter).__name__
            assert limiter.hit(two, key) and limiter.hit(two, key)
            assert not limiter.hit(two, key)
    finally:
        server.stop()


def test_under_ci_a_missing_redis_server_is_an_error_not_a_stand_in(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _without_redis_server(monkeypatch, tmp_path)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(RedisMissingError, match="redis-server is not installed"):
        throwaway_redis()


def test_an_installed_redis_server_is_preferred(monkeypatch: pytest.MonkeyPatch,
                                                tmp_path: Path) -> None:
    binary = tmp_path / "redis-server"
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("CI", "true")
    server = throwaway_redis()
    assert isinstance(server, RedisServer) and server.binary == str(binary)
