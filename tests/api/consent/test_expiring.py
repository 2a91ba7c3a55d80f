"""Consents due to expire in the next 30 days, listed for the case owner (API and CLI)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from caseshare.runtime import Runtime
from tests.audit_helpers import events
from tests.builders import assert_problem, first_consent
from tests.conftest import COACH, HOUSING, Clock, Demo

EXPIRING = "/api/v1/consents/expiring?purpose={}"


def _ids(r: Any) -> list[str]:
    assert r.status_code == 200, r.json
    return [i["id"] for i in r.json["items"]]


def test_case_owner_sees_consents_expiring_within_30_days(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    kerry = first_consent(client, auth, demo.kerry)  # 20 days left
    lee = first_consent(client, auth, demo.lee)  # 180 days left
    r = client.get(EXPIRING.format("case_management"), headers=auth(COACH))
    listed = _ids(r)
    assert kerry["id"] in listed and lee["id"] not in listed
    item = next(i for i in r.json["items"] if i["id"] == kerry["id"])
    assert item["lead_org"] == "jcp-derby" and item["status"] == "active"
    assert lee["id"] in _ids(client.get(EXPIRING.format("case_management") + "&days=200",
                                        headers=auth(COACH)))
    [event] = [e for e in events(rt, type="consent:record:expiring")
               if e.request_id == r.headers["X-Request-ID"]]
    assert kerry["id"] in event.details["consents"] and event.org == "jcp-derby"


def test_only_the_case_owner_gets_the_list(client: FlaskClient, auth: Any, demo: Demo) -> None:
    r = client.get(EXPIRING.format("tenancy_sustainment"), headers=auth(HOUSING))
    assert [i for i in _ids(r) if i in {first_consent(client, auth, demo.kerry)["id"],
                                        first_consent(client, auth, demo.lee)["id"]}] == []


def test_withdrawn_and_already_expired_consents_are_not_listed(
    client: FlaskClient, auth: Any, demo: Demo, clock: Clock
) -> None:
    kerry = first_consent(client, auth, demo.kerry)
    client.post(f"/api/v1/consents/{kerry['id']}/withdrawal?purpose=case_management",
                headers=auth(COACH), json={"channel": "phone"})
    assert kerry["id"] not in _ids(client.get(EXPIRING.format("case_management"),
                                              headers=auth(COACH)))
    lee = first_consent(client, auth, demo.lee)
    clock.advance(days=181)
    assert lee["id"] not in _ids(client.get(EXPIRING.format("case_management") + "&days=365",
                                            headers=auth(COACH)))


def test_bad_days_is_422(client: FlaskClient, auth: Any, demo: Demo) -> None:
    for days in ("0", "400", "soon"):
        r = client.get(EXPIRING.format("case_management") + f"&days={days}",
                       headers=auth(COACH))
        assert_problem(r, 422, "days")


def test_cli_lists_expiring_consents(app: Flask, client: FlaskClient, auth: Any,
                                     demo: Demo, rt: Runtime) -> None:
    kerry = first_consent(client, auth, demo.kerry)
    lee = first_consent(client, auth, demo.lee)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["caseshare", "consents", "expiring"])
    assert result.exit_code == 0, result.output
    assert f"consent {kerry['id']} subject {demo.kerry} lead jcp-derby" in result.output
    assert lee["id"] not in result.output
    other = runner.invoke(args=["caseshare", "consents", "expiring", "--org", "derby-housing"])
    assert kerry["id"] not in other.output
    assert events(rt, type="consent:record:expiring")[-1].details["via"] == "cli"
