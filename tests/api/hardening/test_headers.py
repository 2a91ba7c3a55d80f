"""Security headers, closed CORS, no caching of case data."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from tests.conftest import COACH, Demo


def test_case_data_responses_carry_security_headers_and_no_store(
    client: FlaskClient, auth: Any, demo: Demo
) -> None:
    r = client.get(f"/api/v1/subjects/{demo.lee}/case-plan?purpose=case_management",
                   headers={**auth(COACH), "Origin": "https://evil.example"})
    assert r.status_code == 200
    assert r.headers["Cache-Control"] == "no-store"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in r.headers["Content-Security-Policy"]
    assert "Access-Control-Allow-Origin" not in r.headers  # CORS closed by default
    assert "Strict-Transport-Security" not in r.headers  # plain HTTP in tests


def test_hsts_when_served_over_tls(client: FlaskClient) -> None:
    r = client.get("/healthz", base_url="https://caseshare.example")
    assert r.headers["Strict-Transport-Security"].startswith("max-age=")


def test_preflight_from_another_origin_is_not_allowed(client: FlaskClient, demo: Demo) -> None:
    r = client.options("/api/v1/consent-forms", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "GET"})
    assert "Access-Control-Allow-Origin" not in r.headers
