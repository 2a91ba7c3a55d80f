"""GET /api/v1/mi/funding: the funding view under `evaluation`, disclosure-controlled and
audited."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from caseshare.audit.models import AuditEvent
from caseshare.runtime import Runtime
from tests.builders import assert_problem
from tests.conftest import COACH, KEY_WORKER, Demo
from tests.mi_builders import add_analyst, add_claimants, add_each, add_outcomes

URL = "/api/v1/mi/funding?purpose=evaluation"


def _derby(body: dict[str, Any]) -> dict[str, Any]:
    return next(p for p in body["partnerships"] if p["protocol"] == "derby-local-support")


def test_outcome_payments_from_published_counts(client: FlaskClient, rt: Runtime, auth: Any,
                                                demo: Demo) -> None:
    analyst = add_analyst(rt)
    claimants = add_claimants(rt, 12)
    add_each(rt, claimants, "apa_in_place")  # 12 claimants: published as 10, over the threshold
    add_each(rt, claimants[:8], "bank_account_opened")  # 8: the rent count's partner below
    add_outcomes(rt, demo.kerry, "paying_own_rent_6m", 3)  # 3: suppressed, earns nothing
    r = client.get(URL, headers=auth(analyst))
    assert r.status_code == 200, r.json
    derby = _derby(r.json)
    assert derby["guaranteed_pence"] == 4_500_000
    outcomes = {o["code"]: o for o in derby["outcomes"]}
    apa = outcomes["apa_in_place"]
    assert (apa["count"], apa["paid_count"], apa["amount_pence"]) == (10, 10, 150_000)
    rent = outcomes["paying_own_rent_6m"]
    assert (rent["count"], rent["amount_pence"]) == (None, 0)
    counts = [line["count"] for line in derby["activities"] + derby["outcomes"]]
    assert all(n is None or (n % 5 == 0 and n not in range(1, 8)) for n in counts)
    assert derby["total_pence"] == (derby["guaranteed_pence"] + derby["activity_pence"]
                                    + derby["outcome_pence"])
    # Derby Housing recorded every APA, so it holds the largest part of the outcome money.
    parts = {a["org"]: a["outcome_pence"] for a in derby["apportioned"]}
    assert parts["derby-housing"]
    assert sum(v or 0 for v in parts.values()) <= derby["outcome_pence"]
    with rt.session_factory() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.type == "mi:funding:query")).one()
    assert event.decision == "allow" and "12" not in str(event.details)
    assert event.details["protocols"] == ["derby-local-support"]


def test_a_caller_without_evaluation_is_refused_and_audited(client: FlaskClient, rt: Runtime,
                                                            auth: Any, demo: Demo) -> None:
    # The treatment provider is party to no protocol that declares evaluation: with MI's own
    # scope (as a client's token may carry it) the key worker is refused for that.
    r = client.get(URL, headers=auth(KEY_WORKER, scopes={"mi:read"}))
    assert_problem(r, 403, reason="evaluation_not_declared")
    # The work coach's protocol declares it, for the analyst role only; nor has the coach's
    # role mi:read (review of issue 24, finding 2; before, the key worker's subjects:read
    # reached the funding use case).
    assert_problem(client.get(URL, headers=auth(COACH)), 403, reason="insufficient_scope")
    assert_problem(client.get(URL, headers=auth(KEY_WORKER)), 403, reason="insufficient_scope")
    with rt.session_factory() as s:
        refusals = [e for e in s.scalars(select(AuditEvent).where(AuditEvent.decision == "deny"))
                    if "evaluation_not_declared" in e.reasons]
    assert len(refusals) == 1


def test_a_period_ending_before_it_starts_is_a_422(client: FlaskClient, rt: Runtime, auth: Any,
                                                   demo: Demo) -> None:
    r = client.get(URL + "&from=2026-06-01&to=2026-05-01", headers=auth(add_analyst(rt)))
    assert_problem(r, 422, "to")


def test_payments_count_claimants_not_outcomes_typed(client: FlaskClient, rt: Runtime, auth: Any,
                                                      demo: Demo) -> None:
    # One claimant's APA typed on twelve days is one claimant: suppressed, earning nothing
    # (it earned 10 payments when funding counted rows), and the shares say no more.
    analyst = add_analyst(rt)
    add_outcomes(rt, demo.lee, "apa_in_place", 12)
    r = client.get(URL, headers=auth(analyst))
    assert r.status_code == 200, r.json
    derby = _derby(r.json)
    apa = next(o for o in derby["outcomes"] if o["code"] == "apa_in_place")
    assert (apa["count"], apa["paid_count"], apa["amount_pence"]) == (None, 0, 0)
    shares = {(c["group"], c["code"]): c["count"] for c in derby["shares"]["cells"]}
    assert shares[("derby-housing", "apa_in_place")] is None


def test_dates_outside_2000_to_2100_are_a_422_not_a_500(client: FlaskClient, rt: Runtime,
                                                        auth: Any, demo: Demo) -> None:
    analyst = auth(add_analyst(rt))
    assert_problem(client.get(URL + "&to=0001-01-01", headers=analyst), 422, "to")
    assert_problem(client.get(URL + "&from=9999-12-01&to=9999-12-31", headers=analyst), 422,
                   "from")
