"""The unusual access rules over genuine audit events (made through the API, timed with the
injected clock), each with events that trigger it and events that do not. Both engines."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from caseshare.access import audit_trail
from caseshare.audit.unusual import Finding, Thresholds
from caseshare.demo import _ctx
from caseshare.identity import service as identity
from caseshare.runtime import Runtime
from tests.audit_helpers import events
from tests.builders import consent, refer, register
from tests.conftest import ADVISER, COACH, HOUSING, IG, KEY_WORKER, Clock, Demo

# Small thresholds so each rule is easy to cross, and easy not to.
RULES = Thresholds(burst_count=3, burst_window=timedelta(minutes=10), enumeration_count=3,
                   enumeration_window=timedelta(minutes=30))
JCP_IG = "morgan.ellis@jcp-derby.example"
CA_IG = "jo.patel@ca-derby.example"


def report(rt: Runtime, rule: str, email: str = IG, **kw: Any) -> list[Finding]:
    with rt.session_factory() as s:
        staff = identity.get_staff_by_email(s, email)
        with _ctx(s, rt, staff, "audit") as ctx:
            found = audit_trail.unusual_access(ctx, RULES, rules=(rule,), **kw).findings
        # Read what the rules need while the session is open.
        for f in found:
            for e in f.events:
                _ = (e.event_uuid, e.request_id)
        return found


def ca_ig(rt: Runtime) -> str:
    """An IG officer at Citizens Advice, who sees the adviser's refused lookups (which record no
    protocol, so only the actor's own organisation sees them)."""
    with rt.session_factory() as s:
        identity.add_or_update_staff(s, protocols=rt.protocols, email=CA_IG, name="Jo Patel",
                                     org="ca-derby", roles=["ig_officer"], now=rt.now())
        s.commit()
    return CA_IG


def actor(rt: Runtime, email: str) -> str:
    with rt.session_factory() as s:
        return str(identity.get_staff_by_email(s, email).id)


def plan(client: FlaskClient, auth: Any, subject: uuid.UUID | str, email: str = COACH,
         purpose: str = "case_management") -> Any:
    return client.get(f"/api/v1/subjects/{subject}/case-plan?purpose={purpose}",
                      headers=auth(email))


def request_ids(finding: Finding) -> set[str | None]:
    return {e.request_id for e in finding.events}


def test_outside_relationship_flags_access_before_any_relationship_and_probes_of_real_records(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime, clock: Clock
) -> None:
    coach = auth(COACH)
    subject = register(client, coach)
    consent(client, coach, subject, clock.now)  # names Derby Housing, which is not in the case
    clock.advance(minutes=5)
    # Named in the consent, so the housing officer may list it: allowed, but no relationship.
    early = client.get(f"/api/v1/subjects/{subject}/consents?purpose=tenancy_sustainment",
                       headers=auth(HOUSING))
    assert early.status_code == 200
    probe = plan(client, auth, demo.lee, ADVISER)  # Citizens Advice is not in Lee's case
    assert probe.status_code == 404
    nobody = plan(client, auth, uuid.uuid4(), ADVISER)  # not a claimant: enumeration's business
    assert nobody.status_code == 404
    clock.advance(minutes=5)
    assert refer(client, coach, subject, "derby-housing", "tenancy_sustainment",
                 clock.now).status_code == 201
    clock.advance(minutes=5)
    later = client.get(f"/api/v1/subjects/{subject}/consents?purpose=tenancy_sustainment",
                       headers=auth(HOUSING))  # a referral to Derby Housing now stands
    assert later.status_code == 200
    fine = plan(client, auth, demo.lee)  # the work coach's own case

    # Each IG officer sees their own staff's probes (a refusal records no protocol), and
    # accesses under their protocols: Derby Housing's sees its housing officer only.
    found = report(rt, "outside_relationship")
    by_actor = {(f.actor, str(f.subject_id)): f for f in found}
    assert set(by_actor) == {(actor(rt, HOUSING), subject)}
    housing = by_actor[(actor(rt, HOUSING), subject)]
    assert request_ids(housing) == {early.headers["X-Request-ID"]}
    assert [e.decision for e in housing.events] == ["allow"] and housing.org == "derby-housing"
    found = report(rt, "outside_relationship", ca_ig(rt))
    by_actor = {(f.actor, str(f.subject_id)): f for f in found}
    assert (actor(rt, ADVISER), str(demo.lee)) in by_actor
    adviser = by_actor[(actor(rt, ADVISER), str(demo.lee))]
    assert request_ids(adviser) == {probe.headers["X-Request-ID"]}
    assert adviser.events[0].type == "access:subject:deny"
    everything = {rid for f in found for rid in request_ids(f)}
    assert not everything & {later.headers["X-Request-ID"], fine.headers["X-Request-ID"],
                             nobody.headers["X-Request-ID"]}


def test_burst_counts_requests_not_events_within_the_window(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime, clock: Clock
) -> None:
    clock.advance(hours=1)  # apart from the seed, whose many requests come at one instant
    start = clock.now
    burst = []
    for _ in range(4):  # 4 plan reads in 3 minutes (each writes an allow and a deny event)
        burst.append(plan(client, auth, demo.lee).headers["X-Request-ID"])
        clock.advance(minutes=1)
    for _ in range(4):  # 4 reads 4 minutes apart: never more than 3 in any 10 minutes
        plan(client, auth, demo.lee, HOUSING, "tenancy_sustainment")
        clock.advance(minutes=4)

    [finding] = report(rt, "burst", from_=start)
    assert finding.actor == actor(rt, COACH) and finding.count == 4
    assert request_ids(finding) == set(burst)
    assert len(finding.events) == 8  # the allow and the withheld-deny event of each read
    assert finding.last_at - finding.first_at == timedelta(minutes=3)


def test_a_burst_outside_the_ig_officers_partnership_is_not_theirs_to_see(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime, clock: Clock
) -> None:
    clock.advance(hours=1)
    start = clock.now
    for _ in range(5):
        plan(client, auth, demo.lee, KEY_WORKER)
    clock.advance(minutes=1)
    # Derby Housing's IG officer is not party to the treatment protocol; JCP's is.
    assert report(rt, "burst", from_=start) == []
    with rt.session_factory() as s:
        identity.add_or_update_staff(s, protocols=rt.protocols, email=JCP_IG, name="Morgan Ellis",
                                     org="jcp-derby", roles=["ig_officer"], now=rt.now())
        s.commit()
    [finding] = report(rt, "burst", JCP_IG, from_=start)
    assert finding.org == "recovery-partnership" and finding.count == 5


def test_out_of_hours_uses_london_time_and_weekends(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime, clock: Clock
) -> None:
    day = plan(client, auth, demo.lee)  # Monday 09:30
    clock.advance(hours=8, minutes=29)  # 17:59: still working hours
    edge = plan(client, auth, demo.lee)
    clock.advance(minutes=1)  # 18:00: after hours
    evening = plan(client, auth, demo.lee)
    clock.advance(days=5, hours=-7)  # Saturday 11:00
    weekend = plan(client, auth, demo.kerry, ADVISER, "budgeting_support")

    found = report(rt, "out_of_hours", from_=clock.now - timedelta(days=5))
    assert [(f.actor, request_ids(f)) for f in found] == [
        (actor(rt, COACH), {evening.headers["X-Request-ID"]}),
        (actor(rt, ADVISER), {weekend.headers["X-Request-ID"]}),
    ]
    assert not {day.headers["X-Request-ID"], edge.headers["X-Request-ID"]} & {
        rid for f in found for rid in request_ids(f)}


def test_enumeration_flags_many_failed_lookups_by_one_caller(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime, clock: Clock
) -> None:
    probes = [plan(client, auth, uuid.uuid4(), ADVISER) for _ in range(2)]
    clock.advance(minutes=10)
    nino = client.get("/api/v1/subjects?nino=QQ999999A&purpose=budgeting_support",
                      headers=auth(ADVISER))
    assert nino.status_code == 200 and nino.json["items"] == []
    probes.append(plan(client, auth, uuid.uuid4(), ADVISER))
    assert all(p.status_code == 404 for p in probes)
    # The coach: three failed lookups (not more than three) and a NINO search that matched.
    for _ in range(3):
        plan(client, auth, uuid.uuid4())
    found = client.get("/api/v1/subjects?nino=QQ123456C&purpose=case_management",
                       headers=auth(COACH))
    assert found.json["items"]

    # Derby Housing's IG officer sees neither caller's refusals (no protocol, not their staff).
    assert report(rt, "enumeration") == []
    [finding] = report(rt, "enumeration", ca_ig(rt))
    assert finding.actor == actor(rt, ADVISER) and finding.count == 4
    assert request_ids(finding) == {p.headers["X-Request-ID"] for p in [*probes, nino]}
    # Spread out beyond the window, the same lookups are not a finding.
    assert report(rt, "enumeration", CA_IG, from_=clock.now - timedelta(minutes=5)) == []


@pytest.mark.parametrize("rule", ["outside_relationship", "burst", "out_of_hours",
                                  "enumeration"])
def test_each_query_is_audited_with_its_range_and_counts(
    demo: Demo, rt: Runtime, clock: Clock, rule: str
) -> None:
    found = report(rt, rule)
    [event] = events(rt, type="audit:report:unusual_access")
    assert event.decision == "allow" and event.org == "derby-housing"
    assert event.details["rules"] == [rule] and event.details["findings"] == {rule: len(found)}
    if rule == "burst":
        # The seed's work coach registers three claimants and then leads their three cases at
        # one instant that Derby Housing's IG officer sees: six requests, above this test's
        # burst count of three, and the only burst in the seed.
        [finding] = found
        assert finding.actor == actor(rt, COACH) and finding.count == 6
    else:
        assert found == []  # nothing else in the seed is unusual
    assert event.details["to"] == clock.now.isoformat()
    assert event.details["from"] == (clock.now - timedelta(days=7)).isoformat()
