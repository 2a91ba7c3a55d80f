"""Rate limits: per caller and per address, memory by default and Redis shared by workers.
429 is a problem+json with Retry-After."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from caseshare import create_app
from tests.builders import assert_problem
from tests.conftest import COACH, HOUSING, Clock, _database_url, issue_token
from tests.redis_server import FakeRedisServer, RedisServer


@pytest.fixture(params=["memory", "redis"])
def limited_app(request: pytest.FixtureRequest, redis_server: RedisServer | FakeRedisServer,
                templates: dict[str, Any], tmp_path: Path, clock: Clock) -> Iterator[Flask]:
    storage = redis_server.url if request.param == "redis" else "memory://"
    app = create_app({"instance_path": tmp_path / "instance",
                      "database_url": _database_url("sqlite", templates, tmp_path),
                      "clock": clock, "ratelimit_storage_uri": storage,
                      "ratelimit_default": "5 per minute", "ratelimit_sign_in": "3 per minute"})
    from caseshare.demo import seed

    rt = app.extensions["caseshare"]
    with rt.session_factory() as s:
        list(seed(s, rt))
    yield app
    app.extensions["caseshare"].engine.dispose()


def test_caller_limit_gives_429_problem_with_retry_after_and_other_callers_go_on(
    limited_app: Flask
) -> None:
    rt = limited_app.extensions["caseshare"]
    client = limited_app.test_client()
    coach = {"Authorization": f"Bearer {issue_token(rt, COACH)}"}
    statuses = [client.get("/api/v1/consent-forms", headers=coach).status_code for _ in range(6)]
    assert statuses[:5] == [200] * 5 and statuses[5] == 429
    r = client.get("/api/v1/consent-forms", headers=coach)
    assert_problem(r, 429)
    assert int(r.headers["Retry-After"]) > 0
    assert r.json["status"] == 429
    housing = {"Authorization": f"Bearer {issue_token(rt, HOUSING)}"}
    assert client.get("/api/v1/consent-forms", headers=housing).status_code == 200


def test_token_endpoint_is_limited_more_strictly(limited_app: Flask) -> None:
    client = limited_app.test_client()
    statuses = [client.post("/oauth/token", data={"grant_type": "client_credentials",
                                                  "client_id": "nobody",
                                                  "client_secret": "wrong"}).status_code
                for _ in range(4)]
    assert statuses[:3] == [401, 401, 401] and statuses[3] == 429


def test_limits_are_shared_between_two_app_instances_through_redis(
    redis_server: RedisServer | FakeRedisServer, templates: dict[str, Any], tmp_path: Path,
    clock: Clock,
) -> None:
    """Two app instances (as two gunicorn workers would be) share one caller's allowance."""
    url = _database_url("sqlite", templates, tmp_path)
    apps = [create_app({"instance_path": tmp_path / "instance", "database_url": url,
                        "clock": clock, "ratelimit_storage_uri": redis_server.url,
                        "ratelimit_default": "5 per minute"}) for _ in range(2)]
    from caseshare.demo import seed

    rt = apps[0].extensions["caseshare"]
    with rt.session_factory() as s:
        list(seed(s, rt))
    coach = {"Authorization": f"Bearer {issue_token(rt, COACH)}"}
    clients = [a.test_client() for a in apps]
    for i in range(5):
        assert clients[i % 2].get("/api/v1/consent-forms", headers=coach).status_code == 200
    assert clients[0].get("/api/v1/consent-forms", headers=coach).status_code == 429
    assert clients[1].get("/api/v1/consent-forms", headers=coach).status_code == 429
    for a in apps:
        a.extensions["caseshare"].engine.dispose()


def test_api_responses_carry_the_rate_limit_headers(limited_app: Flask) -> None:
    rt = limited_app.extensions["caseshare"]
    client = limited_app.test_client()
    coach = {"Authorization": f"Bearer {issue_token(rt, COACH)}"}
    responses = [client.get("/api/v1/consent-forms", headers=coach) for _ in range(6)]
    assert [r.headers["X-RateLimit-Limit"] for r in responses] == ["5"] * 6
    assert [r.headers["X-RateLimit-Remaining"] for r in responses] == ["4", "3", "2", "1", "0",
                                                                        "0"]
    for r in responses:
        assert int(r.headers["X-RateLimit-Reset"]) > time.time()
        assert 0 <= int(r.headers["Retry-After"]) <= 60
    assert responses[5].status_code == 429
    assert int(responses[5].headers["Retry-After"]) >= 59  # errors.py's 60 s, or the window's


def test_the_address_limit_counts_api_calls_and_web_pages_together(
    templates: dict[str, Any], tmp_path: Path, clock: Clock
) -> None:
    app = create_app({"instance_path": tmp_path / "instance",
                      "database_url": _database_url("sqlite", templates, tmp_path),
                      "clock": clock, "ratelimit_default": "100 per minute",
                      "ratelimit_per_address": "4 per minute"})
    from caseshare.demo import seed

    rt = app.extensions["caseshare"]
    with rt.session_factory() as s:
        list(seed(s, rt))
    client = app.test_client()
    coach = {"Authorization": f"Bearer {issue_token(rt, COACH)}"}
    housing = {"Authorization": f"Bearer {issue_token(rt, HOUSING)}"}
    assert client.get("/api/v1/consent-forms", headers=coach).status_code == 200
    assert client.get("/sign-in").status_code == 200
    assert client.get("/api/v1/consent-forms", headers=housing).status_code == 200
    assert client.get("/sign-in").status_code == 200
    assert client.get("/api/v1/consent-forms", headers=housing).status_code == 429
    assert client.get("/sign-in").status_code == 429
    assert client.get("/healthz").status_code == 200  # exempt
    app.extensions["caseshare"].engine.dispose()
