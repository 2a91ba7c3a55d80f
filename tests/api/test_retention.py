"""The retention API (IG officers, purpose audit): legal holds and the due list, with their
refusals and audit events."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime, timedelta
from typing import Any

from flask.testing import FlaskClient

from caseshare.cases.models import Case
from caseshare.identity import service as identity
from caseshare.policy.models import ProtocolSet
from caseshare.runtime import Runtime
from tests.audit_helpers import events
from tests.builders import assert_problem, register
from tests.conftest import COACH, IG, START, Clock, Demo

JCP_IG = "morgan.ellis@jcp-derby.example"
WALES_IG = "ffion.jones@carmarthenshire-housing.example"
REASON = "Litigation reference LIT-2026-0041"


def add_ig(rt: Runtime, email: str, org: str) -> None:
    with rt.session_factory() as s:
        identity.add_or_update_staff(s, protocols=rt.protocols, email=email, name="IG officer",
                                     org=org, roles=["ig_officer"], now=rt.now())
        s.commit()


def holds_url(subject: uuid.UUID | str, purpose: str = "audit") -> str:
    return f"/api/v1/subjects/{subject}/legal-holds?purpose={purpose}"


def place(client: FlaskClient, headers: dict[str, str], subject: uuid.UUID | str,
          body: Any = None) -> Any:
    return client.post(holds_url(subject), headers=headers,
                       json={"reason": REASON} if body is None else body)


def test_place_a_hold_then_a_second_is_409_and_lifting_is_200_then_409(
    client: FlaskClient, auth: Any, rt: Runtime, demo: Demo
) -> None:
    ig = auth(IG)
    r = place(client, ig, demo.lee)
    assert r.status_code == 201, r.json
    hold = r.json
    assert hold["subject_id"] == str(demo.lee) and hold["reason"] == REASON
    assert hold["placed_org"] == "derby-housing" and hold["status"] == "active"
    assert hold["lifted_at"] is None and r.headers["Cache-Control"] == "no-store"
    placed = events(rt, type="retention:legal_hold:place")
    assert [(e.decision, e.subject_id, e.details) for e in placed] == [
        ("allow", demo.lee, {"hold_id": hold["id"]})]
    assert REASON not in str(placed[0].details)  # ids only in the audit log

    assert_problem(place(client, ig, demo.lee, {"reason": "Another reason, LIT-2"}), 409)

    lift = client.delete(f"/api/v1/subjects/{demo.lee}/legal-holds/{hold['id']}?purpose=audit",
                         headers=ig)
    assert lift.status_code == 200, lift.json
    assert lift.json["status"] == "lifted" and lift.json["lifted_at"]
    assert [e.decision for e in events(rt, type="retention:legal_hold:lift")] == ["allow"]
    again = client.delete(f"/api/v1/subjects/{demo.lee}/legal-holds/{hold['id']}?purpose=audit",
                          headers=ig)
    assert_problem(again, 409)
    assert place(client, ig, demo.lee).status_code == 201  # a new hold once lifted


def test_bad_reason_is_422_naming_the_field(client: FlaskClient, auth: Any,
                                            demo: Demo) -> None:
    ig = auth(IG)
    for body in ({}, {"reason": "short"}, {"reason": "x" * 501}, {"reason": 7},
                 {"reason": REASON, "claimant_name": "no"}):
        field = "claimant_name" if "claimant_name" in body else "reason"
        assert_problem(place(client, ig, demo.lee, body), 422, field)
    # Whitespace does not count towards the minimum.
    assert_problem(place(client, ig, demo.lee, {"reason": "a    b     c   "}), 422, "reason")


def test_front_line_staff_are_refused_and_the_refusals_audited(
    client: FlaskClient, auth: Any, rt: Runtime, demo: Demo
) -> None:
    coach = auth(COACH)
    # A work coach's token carries neither the scope nor the audit purpose.
    assert_problem(place(client, coach, demo.lee), 403)
    assert_problem(client.get("/api/v1/retention/due?purpose=audit", headers=coach), 403)
    assert_problem(client.get("/api/v1/retention/due?purpose=case_management", headers=coach),
                   403)
    assert events(rt, type="access:scope:deny")
    # An IG officer under another purpose is refused by the use case.
    ig = auth(IG)
    assert_problem(client.get("/api/v1/retention/due?purpose=subject_access", headers=ig), 403,
                   reason="role_not_granted")
    assert_problem(client.post(holds_url(demo.lee, "subject_access"), headers=ig,
                               json={"reason": REASON}), 403, reason="role_not_granted")
    assert len(events(rt, type="access:audit:deny")) == 2
    assert not events(rt, type="retention:legal_hold:place")


def test_claimants_out_of_reach_are_404_and_other_organisations_holds_403(
    client: FlaskClient, auth: Any, rt: Runtime, demo: Demo
) -> None:
    add_ig(rt, WALES_IG, "carmarthenshire-housing")
    add_ig(rt, JCP_IG, "jcp-derby")
    # Derby claimants are outside the Carmarthenshire partnership's reach; an unknown id too.
    assert_problem(place(client, auth(WALES_IG), demo.lee), 404)
    assert_problem(place(client, auth(IG), uuid.uuid4()), 404)
    refused = events(rt, type="retention:legal_hold:place")
    assert [(e.decision, e.reasons) for e in refused] == [("deny", ["not_in_reach"])] * 2

    hold = place(client, auth(IG), demo.lee).json
    url = f"/api/v1/subjects/{demo.lee}/legal-holds/{hold['id']}?purpose=audit"
    assert_problem(client.delete(url, headers=auth(JCP_IG)), 403)
    assert_problem(client.delete(url, headers=auth(WALES_IG)), 404)
    other = f"/api/v1/subjects/{demo.kerry}/legal-holds/{hold['id']}?purpose=audit"
    assert_problem(client.delete(other, headers=auth(IG)), 404)
    lifts = events(rt, type="retention:legal_hold:lift")
    assert [e.decision for e in lifts] == ["deny"] * 3
    assert lifts[0].details == {"hold_id": hold["id"], "refused": "other_org_hold"}


def short_retention(rt: Runtime, days: int = 30) -> None:
    """Every flow kept `days` after the basis ends (the shipped ones keep about two years)."""
    rt.protocols = ProtocolSet.build([
        dataclasses.replace(protocol, flows=tuple(
            dataclasses.replace(flow, retention_days=days) for flow in protocol.flows))
        for protocol in rt.protocols.protocols])


def close_case(rt: Runtime, subject: uuid.UUID, when: datetime) -> None:
    with rt.session_factory() as s:
        case = s.get(Case, subject) or Case(subject_id=subject)  # the demo may have opened it
        case.status, case.closed_at, case.closure_reason, case.updated_at = (
            "closed", when, "goals_met", when)
        s.add(case)
        s.commit()


def test_due_list_pages_marks_holds_and_keeps_to_the_partnership(
    client: FlaskClient, auth: Any, rt: Runtime, demo: Demo, clock: Clock
) -> None:
    short_retention(rt)
    close_case(rt, demo.lee, clock.now)
    ig = auth(IG)
    r = client.get("/api/v1/retention/due?purpose=audit", headers=ig)
    assert r.status_code == 200 and r.json == {"items": [], "next_cursor": None}

    clock.advance(days=31)
    ig = auth(IG)
    everything = client.get("/api/v1/retention/due?purpose=audit&limit=500", headers=ig).json
    items = everything["items"]
    assert items and everything["next_cursor"] is None
    lee = [i for i in items if i["subject_id"] == str(demo.lee)]
    assert set(items[0]) == {"subject_id", "org", "category", "due_on", "rule", "hold"}
    assert lee and not any(i["hold"] for i in items)
    assert ("derby-housing", "employment") in {(i["org"], i["category"]) for i in lee}
    assert {i["due_on"] for i in lee} == {(START + timedelta(days=30)).date().isoformat()}
    listed = events(rt, type="retention:due:list")
    assert listed[-1].decision == "allow" and listed[-1].details["returned"] == len(items)

    # Paged two at a time, the pages join up to the whole list.
    seen, cursor = [], None
    while True:
        url = "/api/v1/retention/due?purpose=audit&limit=2" + (f"&cursor={cursor}"
                                                              if cursor else "")
        page = client.get(url, headers=ig).json
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == items
    assert_problem(client.get("/api/v1/retention/due?purpose=audit&cursor=bogus", headers=ig),
                   400, "cursor")
    assert_problem(client.get("/api/v1/retention/due?purpose=audit&limit=0", headers=ig),
                   422, "limit")

    # A hold marks every item of the claimant; the Welsh partnership sees none of them.
    assert place(client, ig, demo.lee).status_code == 201
    held = client.get("/api/v1/retention/due?purpose=audit&limit=500", headers=ig).json
    assert {i["hold"] for i in held["items"] if i["subject_id"] == str(demo.lee)} == {True}
    assert not any(i["hold"] for i in held["items"] if i["subject_id"] != str(demo.lee))
    add_ig(rt, WALES_IG, "carmarthenshire-housing")
    wales = client.get("/api/v1/retention/due?purpose=audit", headers=auth(WALES_IG)).json
    assert wales["items"] == []


def test_an_erased_claimant_cannot_be_held(client: FlaskClient, auth: Any, rt: Runtime,
                                           demo: Demo) -> None:
    add_ig(rt, JCP_IG, "jcp-derby")
    subject = register(client, auth(COACH), nino="AB 65 43 21 C")
    erased = client.post(f"/api/v1/subjects/{subject}/erasure?purpose=subject_access",
                         headers=auth(JCP_IG), json={"reason": "subject_request"})
    assert erased.status_code == 200, erased.json
    assert_problem(place(client, auth(JCP_IG), subject), 410)
    [refused] = events(rt, type="retention:legal_hold:place")
    assert refused.decision == "deny" and refused.reasons == ["subject_erased"]
