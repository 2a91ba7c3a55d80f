"""The `evaluation` purpose gives management information only (review of issue 24, finding 2):
under it no endpoint about one claimant answers, whatever scopes the caller holds, and MI and
funding have their own scope, `mi:read`, which only the analyst role carries."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from caseshare.identity import service as identity
from caseshare.runtime import Runtime
from caseshare.unit_of_work import UnitOfWork
from tests.audit_helpers import events
from tests.builders import assert_problem
from tests.conftest import HOUSING, Demo
from tests.mi_builders import add_analyst

EV = "evaluation"
MI = ("/api/v1/mi/outcomes?purpose=evaluation&from=2026-01-01&to=2026-06-30&by=partner",
      "/api/v1/mi/funding?purpose=evaluation")


def _claimant_urls(demo: Demo) -> list[str]:
    lee = demo.lee
    return ["/api/v1/subjects?nino=QQ123456C&purpose=evaluation",
            f"/api/v1/subjects/{lee}?purpose=evaluation",
            f"/api/v1/subjects/{lee}/case-plan?purpose=evaluation",
            f"/api/v1/subjects/{lee}/outcomes?purpose=evaluation",
            f"/api/v1/subjects/{lee}/records?purpose=evaluation",
            f"/api/v1/subjects/{lee}/consents?purpose=evaluation"]


def _both_roles(rt: Runtime) -> str:
    """A housing officer who is also the partnership's analyst: holds every front-line scope
    and `mi:read`, and may choose `evaluation`."""
    email = "jo.both@derby-housing.example"
    with rt.session_factory() as s, UnitOfWork(s):
        identity.add_or_update_staff(s, protocols=rt.protocols, email=email, name="Jo Both",
                                     org="derby-housing", roles=["housing_officer", "analyst"],
                                     now=rt.now())
    return email


def test_only_the_analyst_role_carries_mi_read_and_it_carries_nothing_else() -> None:
    assert identity.scopes_for(["analyst"]) == {"mi:read"}
    assert "mi:read" not in identity.scopes_for(["housing_officer"])
    assert "mi:read" not in identity.scopes_for(["ig_officer"])
    assert {"mi:read", "subjects:read"} <= identity.scopes_for(["housing_officer", "analyst"])


def test_the_analyst_reaches_no_claimant_endpoint_but_runs_mi_and_funding(
        client: FlaskClient, rt: Runtime, auth: Any, demo: Demo) -> None:
    analyst = auth(add_analyst(rt))
    for url in _claimant_urls(demo):
        assert_problem(client.get(url, headers=analyst), 403, reason="insufficient_scope")
    for url in MI:
        r = client.get(url, headers=analyst)
        assert r.status_code == 200, (url, r.json)
    assert not events(rt, type="subject:search:nino")
    assert not events(rt, type="outcomes:outcome:list", subject_id=demo.lee)


def test_evaluation_is_refused_at_claimant_endpoints_even_with_their_scopes(
        client: FlaskClient, rt: Runtime, auth: Any, demo: Demo) -> None:
    both = auth(_both_roles(rt))
    for url in _claimant_urls(demo):
        body = assert_problem(client.get(url, headers=both), 403,
                              reason="evaluation_not_claimant_data")
        assert "QQ123456C" not in str(body)
    refused = events(rt, type="access:purpose:deny")
    assert len(refused) == len(_claimant_urls(demo))
    assert {tuple(e.reasons) for e in refused} == {("evaluation_not_claimant_data",)}
    assert {e.purpose for e in refused} == {EV}
    assert not events(rt, type="subject:search:nino")
    assert not [e for e in events(rt, subject_id=demo.lee) if e.decision == "allow"
                and e.purpose == EV]
    # The same person's MI still answers, and their claimant work under its own purpose.
    for url in MI:
        assert client.get(url, headers=both).status_code == 200, url
    lee = f"/api/v1/subjects/{demo.lee}/outcomes?purpose=case_management"
    assert client.get(lee, headers=both).status_code == 200


def test_mi_and_funding_need_mi_read(client: FlaskClient, rt: Runtime, auth: Any,
                                     demo: Demo) -> None:
    for url in MI:
        assert_problem(client.get(url.replace(EV, "case_management"), headers=auth(HOUSING)),
                       403, reason="insufficient_scope")
    denied = events(rt, type="access:scope:deny")
    assert [e.details["scope"] for e in denied] == ["mi:read", "mi:read"]
