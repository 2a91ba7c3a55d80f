"""The MI API: GET /mi/outcomes under the `evaluation` purpose only (a partnership analyst of a
protocol that declares it), disclosure-controlled cells (small counts suppressed, count null),
every run audited without counts; refused (403 evaluation_not_declared, audited) under another
purpose or in a partnership whose protocol does not declare evaluation."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from caseshare.case_plan.models import Referral
from caseshare.identity import service as identity
from caseshare.outcomes.models import OutcomeAttribution
from caseshare.runtime import Runtime
from caseshare.subjects.service import add_case_member
from caseshare.unit_of_work import UnitOfWork
from tests.audit_helpers import events
from tests.builders import assert_problem, consent, register
from tests.conftest import COACH, HOUSING, Clock, Demo, issue_token
from tests.mi_builders import add_analyst, add_outcomes

ANALYST = "robin.analyst@derby-housing.example"
WELSH_HOUSING = "ceri.jones@carmarthenshire.example"


def add_staff(rt: Runtime, clock: Clock, email: str, org: str, role: str) -> dict[str, str]:
    with rt.session_factory() as s:
        identity.add_or_update_staff(s, protocols=rt.protocols, email=email, name="Test Staff",
                                     org=org, roles=[role], now=clock.now)
        s.commit()
    return {"Authorization": f"Bearer {issue_token(rt, email)}"}


def _mi(clock: Clock, purpose: str = "evaluation", by: str = "partner") -> str:
    start = (clock.now - timedelta(days=90)).date().isoformat()
    return (f"/api/v1/mi/outcomes?purpose={purpose}&from={start}"
            f"&to={clock.now.date().isoformat()}&by={by}")


def test_analyst_gets_suppressed_cells_and_the_run_is_audited_without_counts(
        client: FlaskClient, auth: Any, rt: Runtime, clock: Clock) -> None:
    coach = auth(COACH)
    subject = register(client, coach)
    consent(client, coach, subject, clock.now)
    with rt.session_factory() as s:
        add_case_member(s, subject_id=uuid.UUID(subject), org="derby-housing", now=clock.now)
        s.commit()
    r = client.post(f"/api/v1/subjects/{subject}/outcomes?purpose=case_management",
                    headers=auth(HOUSING),
                    json={"code": "apa_in_place", "achieved_on": clock.now.date().isoformat()})
    assert r.status_code == 201, r.json

    analyst = add_staff(rt, clock, ANALYST, "derby-housing", "analyst")
    for by in ("partner", "service_line", "month"):
        r = client.get(_mi(clock, by=by), headers=analyst)
        assert r.status_code == 200, r.json
        cells = r.json["cells"]
        assert cells and all((c["count"] is None) == c["suppressed"] for c in cells)
        assert all(c["count"] % 5 == 0 and not 0 < c["count"] <= 7
                   for c in cells if c["count"] is not None)
    r = client.get(_mi(clock), headers=analyst)
    cell = next(c for c in r.json["cells"]
                if (c["group"], c["code"]) == ("derby-housing", "apa_in_place"))
    assert cell == {"group": "derby-housing", "code": "apa_in_place", "count": None,
                    "suppressed": True}
    assert r.json["total"] is None  # a total would give the suppressed one away
    runs = events(rt, type="mi:outcomes:query", decision="allow")
    assert len(runs) == 4
    assert set(runs[-1].details) == {"from", "to", "by", "cells"}
    assert runs[-1].subject_id is None


def test_mi_is_refused_under_a_service_purpose(
        client: FlaskClient, auth: Any, rt: Runtime, clock: Clock) -> None:
    # MI has its own scope, which only the analyst role carries (review of issue 24, finding
    # 2: it was subjects:read, so the use case itself was the first refusal).
    r = client.get(_mi(clock, purpose="case_management"), headers=auth(HOUSING))
    assert_problem(r, 403, reason="insufficient_scope")
    denied = events(rt, type="access:scope:deny")
    assert len(denied) == 1 and denied[0].details["scope"] == "mi:read"
    assert not events(rt, type="mi:outcomes:query")


def test_mi_is_refused_where_the_protocol_does_not_declare_evaluation(
        client: FlaskClient, auth: Any, rt: Runtime, clock: Clock) -> None:
    add_staff(rt, clock, WELSH_HOUSING, "carmarthenshire-housing", "housing_officer")
    # With MI's own scope (review of issue 24, finding 2: only the analyst role carries it, so
    # the housing officer's own token is refused on scope first), as a client's token may.
    welsh = {"Authorization": f"Bearer {issue_token(rt, WELSH_HOUSING, scopes={'mi:read'})}"}
    r = client.get(_mi(clock), headers=welsh)
    assert_problem(r, 403, reason="evaluation_not_declared")
    denied = events(rt, type="access:purpose:deny", purpose="evaluation")
    assert denied and denied[-1].reasons == ["evaluation_not_declared"]
    assert not events(rt, type="mi:outcomes:query", decision="allow")


def test_bad_range_and_grouping_are_422(client: FlaskClient, auth: Any, rt: Runtime,
                                        clock: Clock) -> None:
    analyst = add_staff(rt, clock, ANALYST, "derby-housing", "analyst")
    today = clock.now.date()
    url = "/api/v1/mi/outcomes?purpose=evaluation&by=partner"
    assert_problem(client.get(f"{url}&from={today}&to={today - timedelta(days=1)}",
                              headers=analyst), 422, "to")
    assert_problem(client.get(_mi(clock, by="claimant"), headers=analyst), 422, "by")


def test_a_baseline_period_comes_back_beside_the_trial_period(
        client: FlaskClient, auth: Any, rt: Runtime, clock: Clock) -> None:
    analyst = add_staff(rt, clock, ANALYST, "derby-housing", "analyst")
    today = clock.now.date()
    base_from, base_to = today - timedelta(days=400), today - timedelta(days=200)
    r = client.get(f"{_mi(clock, by='month')}&compare_from={base_from}&compare_to={base_to}",
                   headers=analyst)
    assert r.status_code == 200, r.json
    # Whole months (review 24 finding 14): the period counted starts on its month's first day.
    assert r.json["from"] == (today - timedelta(days=90)).replace(day=1).isoformat()
    assert r.json["baseline"]["cells"][0]["group"] == f"{base_from:%Y-%m}"
    run = events(rt, type="mi:outcomes:query", decision="allow")[-1]
    assert run.details["compare_from"] == base_from.replace(day=1).isoformat()  # whole months
    half = client.get(f"{_mi(clock)}&compare_from={base_from}", headers=analyst)
    assert_problem(half, 422, "compare_to")


def test_partner_rows_are_the_partnership_only(
        client: FlaskClient, auth: Any, rt: Runtime, clock: Clock, demo: Demo) -> None:
    # An accepted referral from the treatment provider (not a Derby party) gives it a share of
    # Lee's outcome; a row for it would reveal it contributed to one.
    with rt.session_factory() as s, UnitOfWork(s):
        s.add(Referral(subject_id=demo.lee, from_org="recovery-partnership",
                       to_org="derby-housing", purpose="case_management", status="accepted",
                       message=b"sealed", contact_name=b"sealed", protocol="recovery-jcp",
                       flow_id="x", created_at=clock.now, created_by=uuid.uuid4()))
    add_outcomes(rt, demo.lee, "apa_in_place", 1)
    with rt.session_factory() as s:
        assert "recovery-partnership" in set(s.scalars(select(OutcomeAttribution.org)))
    r = client.get(_mi(clock), headers=auth(add_analyst(rt)))
    assert r.status_code == 200, r.json
    assert {c["group"] for c in r.json["cells"]} == {"jcp-derby", "derby-housing", "ca-derby"}
    assert [t["key"] for t in r.json["group_totals"]] == ["ca-derby", "derby-housing",
                                                          "jcp-derby"]


def test_dates_outside_2000_to_2100_are_a_422_not_a_500(
        client: FlaskClient, auth: Any, rt: Runtime, clock: Clock) -> None:
    analyst = add_staff(rt, clock, ANALYST, "derby-housing", "analyst")
    url = "/api/v1/mi/outcomes?purpose=evaluation&by=month"
    assert_problem(client.get(f"{url}&from=0001-01-01&to=2026-01-31", headers=analyst), 422,
                   "from")
    assert_problem(client.get(f"{url}&from=9999-12-01&to=9999-12-31", headers=analyst), 422,
                   "to")
    assert_problem(client.get(f"{url}&from=2026-01-01&to=2026-01-31&compare_from=0001-01-01"
                              "&compare_to=0001-01-31", headers=analyst), 422, "compare_to")


def test_periods_are_whole_months_and_a_baseline_may_not_overlap(
        client: FlaskClient, auth: Any, rt: Runtime, clock: Clock) -> None:
    analyst = add_staff(rt, clock, ANALYST, "derby-housing", "analyst")
    url = "/api/v1/mi/outcomes?purpose=evaluation&by=month"
    r = client.get(f"{url}&from=2026-03-15&to=2026-04-10", headers=analyst)
    assert r.status_code == 200, r.json
    assert (r.json["from"], r.json["to"]) == ("2026-03-01", "2026-04-30")
    assert events(rt, type="mi:outcomes:query")[-1].details["to"] == "2026-04-30"
    # A baseline ending in the trial's first month would differ from it by days only.
    overlap = client.get(f"{url}&from=2026-03-15&to=2026-04-10&compare_from=2026-01-01"
                         "&compare_to=2026-03-02", headers=analyst)
    assert_problem(overlap, 422, "compare_from")
    apart = client.get(f"{url}&from=2026-03-15&to=2026-04-10&compare_from=2026-01-01"
                       "&compare_to=2026-02-28", headers=analyst)
    assert apart.status_code == 200, apart.json
