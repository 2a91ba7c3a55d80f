"""GET /audit/unusual-access?purpose=audit: the unusual access report over HTTP (IG officers),
with the default thresholds; the rules themselves are tested in
tests/integration/audit/test_unusual_access.py. Both engines."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from caseshare.runtime import Runtime
from tests.audit_helpers import events
from tests.builders import assert_problem
from tests.conftest import ADVISER, COACH, HOUSING, IG, Clock, Demo

URL = "/api/v1/audit/unusual-access?purpose=audit"


def test_ig_officer_gets_findings_with_the_events_behind_them_and_the_query_is_audited(
    app: Flask, client: FlaskClient, auth: Any, demo: Demo, rt: Runtime, clock: Clock
) -> None:
    clock.advance(hours=10)  # Monday 19:30, after hours
    # Derby Housing's own officer probes a claimant Derby Housing does not work with. (A probe
    # by Citizens Advice records no protocol, so it is Citizens Advice's IG officer's to see.)
    probe = client.get(f"/api/v1/subjects/{demo.kerry}/case-plan?purpose=tenancy_sustainment",
                       headers=auth(HOUSING))
    assert probe.status_code == 404
    other = client.get(f"/api/v1/subjects/{demo.lee}/case-plan?purpose=budgeting_support",
                       headers=auth(ADVISER))
    assert other.status_code == 404
    result = app.test_cli_runner().invoke(args=["caseshare", "audit", "seal"])
    assert result.exit_code == 0, result.output

    r = client.get(URL, headers=auth(IG))
    assert r.status_code == 200, r.json
    assert r.headers["Cache-Control"] == "no-store"
    assert r.json["rules"] == ["outside_relationship", "burst", "out_of_hours", "enumeration"]
    assert r.json["thresholds"] == {
        "burst_count": 30, "burst_minutes": 10, "enumeration_count": 10,
        "enumeration_minutes": 60, "working_hours": "08:00-18:00",
        "working_days": ["mon", "tue", "wed", "thu", "fri"], "timezone": "Europe/London"}
    assert r.json["to"] == "2026-11-23T19:30:00Z" and r.json["from"] == "2026-11-16T19:30:00Z"
    [probe_event] = [e for e in events(rt) if e.request_id == probe.headers["X-Request-ID"]]
    flagged = {f["rule"]: f for f in r.json["findings"]
               if [e["id"] for e in f["events"]] == [str(probe_event.event_uuid)]}
    assert set(flagged) == {"outside_relationship", "out_of_hours"}
    outside = flagged["outside_relationship"]
    assert outside["subject_id"] == str(demo.kerry) and outside["org"] == "derby-housing"
    assert outside["actor_name"] == "Priya Sharma" and outside["count"] == 1
    assert other.headers["X-Request-ID"] not in {
        e["request_id"] for f in r.json["findings"] for e in f["events"]}
    assert outside["indices"] == [probe_event.seq] and probe_event.seq is not None
    assert outside["events"][0]["type"] == "access:subject:deny"
    assert outside["first_at"] == outside["last_at"] == "2026-11-23T19:30:00Z"

    [query] = events(rt, type="audit:report:unusual_access")
    assert query.request_id == r.headers["X-Request-ID"] and query.decision == "allow"
    assert query.role == "ig_officer" and query.details["findings"]["out_of_hours"] == 1


def test_one_rule_at_a_time(client: FlaskClient, auth: Any, demo: Demo) -> None:
    r = client.get(f"{URL}&rule=enumeration&rule=burst", headers=auth(IG))
    assert r.status_code == 200
    assert r.json["rules"] == ["burst", "enumeration"]
    assert {f["rule"] for f in r.json["findings"]} <= {"burst", "enumeration"}


@pytest.mark.parametrize("query,field", [
    ("from=2026-11-23T10:00:00Z&to=2026-11-23T09:00:00Z", "to"),
    ("from=2026-01-01T00:00:00Z&to=2026-11-23T00:00:00Z", "from"),
    ("from=yesterday", "from"),
    ("rule=gut_feeling", "rule"),
])
def test_bad_parameters_are_422_naming_the_field(client: FlaskClient, auth: Any, query: str,
                                                field: str) -> None:
    r = client.get(f"{URL}&{query}", headers=auth(IG))
    assert_problem(r, 422)
    assert field in {name.split(".")[0] for name in r.json["errors"]}  # rule.0: the first


def test_front_line_staff_and_the_wrong_purpose_are_refused_and_audited(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    r = client.get(URL, headers=auth(COACH))
    assert r.status_code == 403 and r.json["reasons"] == ["insufficient_scope"]
    wrong = client.get("/api/v1/audit/unusual-access?purpose=subject_access", headers=auth(IG))
    assert wrong.status_code == 403 and wrong.json["reasons"] == ["role_not_granted"]
    for refused in (r, wrong):
        [event] = [e for e in events(rt) if str(e.event_uuid) == refused.json["audit_id"]]
        assert event.decision == "deny"
    assert events(rt, type="audit:report:unusual_access") == []
    assert uuid.UUID(wrong.json["audit_id"])
