"""Break-glass overrides: POST /subjects/{id}/overrides (API.md)."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from caseshare import create_app
from caseshare.identity import service as identity
from caseshare.overrides.models import OverrideRecord
from caseshare.runtime import Runtime
from tests.audit_helpers import count, events
from tests.builders import assert_problem
from tests.conftest import (
    COACH,
    HOUSING,
    KEY_WORKER,
    ROOT,
    Clock,
    Demo,
    _database_url,
    issue_token,
)

# A second protocol for the break-glass binding tests (fixture `second_protocol`): employment
# notes flow from the treatment provider to Derby Housing for tenancy sustainment, but this
# protocol permits no override. derby-local-support (override permitted for housing officers)
# brings employment to Derby Housing only from Jobcentre Plus.
SECOND_PROTOCOL = """
id: derby-recovery-housing
version: 1
title: Test protocol, treatment provider to housing, no break-glass
type: ISP
framework: local
status: active
effective_from: 2026-01-01
review_date: 2027-01-01
expires_on: 2027-06-30
changelog:
  - {version: 1, date: 2025-12-10, note: Test only}
parties:
  - {id: recovery-partnership, name: Derby Recovery Partnership,
     legal_name: Derby Recovery Partnership CIC, sector: health, public_authority: false,
     controller_role: controller, status: active}
  - {id: derby-housing, name: Derby City Council Housing Options, legal_name: Derby City Council,
     sector: local_gov, public_authority: true, controller_role: controller, status: active}
purposes:
  - {code: tenancy_sustainment, description: "Keeping the claimant in their home"}
categories:
  - {code: employment, description: "Work search and readiness"}
flows:
  - {id: recovery-to-housing, from: [recovery-partnership], to: [derby-housing],
     purposes: [tenancy_sustainment], categories: [employment], consent: consent,
     max_consent_days: 365, direction: one_way}
grants:
  - {roles: [housing_officer], parties: [derby-housing], purposes: [tenancy_sustainment],
     read: [employment]}
  - {roles: [key_worker], parties: [recovery-partnership], purposes: [tenancy_sustainment],
     read: [employment], write: [employment]}
override:
  {permitted: false}
"""


@pytest.fixture
def app(request: pytest.FixtureRequest, engine: str, templates: dict[str, Any], tmp_path: Path,
        clock: Clock) -> Iterator[Flask]:
    """The suite's app; for a test that asks for `second_protocol`, the shipped protocols plus
    SECOND_PROTOCOL."""
    config: dict[str, Any] = {"instance_path": tmp_path / "instance",
                              "database_url": _database_url(engine, templates, tmp_path),
                              "clock": clock, "ratelimit_default": "100000 per minute"}
    if "second_protocol" in request.fixturenames:
        policies = tmp_path / "policies"
        shutil.copytree(ROOT / "policies", policies)
        (policies / "derby-recovery-housing.v1.yaml").write_text(SECOND_PROTOCOL)
        config["policies_dir"] = policies
    app = create_app(config)
    app.config["TESTING"] = True
    yield app
    app.extensions["caseshare"].engine.dispose()


@pytest.fixture
def second_protocol() -> str:
    return "derby-recovery-housing@1"

PLAN = "/api/v1/subjects/{}/case-plan?purpose=tenancy_sustainment"
OVERRIDES = "/api/v1/subjects/{}/overrides?purpose={}"
JUSTIFICATION = (
    "Neighbour reported the claimant has not been seen for four days and the flat is silent; "
    "consent was withdrawn yesterday and the claimant cannot be reached to ask again. We need "
    "the work coach's latest contact notes to judge the risk before a welfare visit."
)


def withdraw_all_consent(client: FlaskClient, auth: Any, subject: uuid.UUID) -> None:
    r = client.get(f"/api/v1/subjects/{subject}/consents?purpose=case_management",
                   headers=auth(COACH))
    consent_id = r.json["items"][0]["id"]
    w = client.post(f"/api/v1/consents/{consent_id}/withdrawal?purpose=case_management",
                    json={"channel": "phone"}, headers=auth(COACH))
    assert w.status_code == 200


def body(**changes: Any) -> dict[str, Any]:
    return {"route": "safeguarding", "justification": JUSTIFICATION,
            "categories": ["employment"], "hours": 4, **changes}


def test_housing_officer_breaks_glass_for_exactly_that_scope_and_time(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime, clock: Clock
) -> None:
    withdraw_all_consent(client, auth, demo.lee)
    before = client.get(PLAN.format(demo.lee), headers=auth(HOUSING))
    assert "employment" not in {e["category"] for e in before.json["entries"]}

    r = client.post(OVERRIDES.format(demo.lee, "tenancy_sustainment"), json=body(),
                    headers=auth(HOUSING))
    assert r.status_code == 201, r.json
    assert r.json["org"] == "derby-housing" and r.json["categories"] == ["employment"]
    assert r.json["protocol"] == "derby-local-support@1"
    assert r.json["status"] == "pending_review"
    assert r.json["expires_at"] == "2026-11-23T13:30:00+00:00"
    assert r.json["review_due_at"] == "2026-11-26T09:30:00+00:00"  # review_within_hours: 72
    assert r.headers["Cache-Control"] == "no-store"

    [grant] = events(rt, type="access:override:grant")
    assert str(grant.override_id) == r.json["id"] and grant.decision == "allow"
    assert grant.org == "derby-housing" and grant.purpose == "tenancy_sustainment"
    assert grant.categories == ["employment"]
    assert "four days" not in str(grant.details)  # the justification is never in the log
    with rt.session_factory() as s:
        stored = s.scalar(select(OverrideRecord))
        assert stored is not None and b"four days" not in stored.justification_sealed

    during = client.get(PLAN.format(demo.lee), headers=auth(HOUSING))
    shown = {e["category"] for e in during.json["entries"]}
    assert "employment" in shown
    read = [e for e in events(rt, type="case_plan:plan:read", subject_id=demo.lee)
            if e.request_id == during.headers["X-Request-ID"] and e.decision == "allow"]
    assert [str(e.override_id) for e in read] == [r.json["id"]]
    # Nothing beyond the override's scope: the other partners' tenancy data stays withheld.
    assert "consent_withdrawn" in {x for w in during.json["withheld"] for x in w["reasons"]}

    clock.advance(hours=4)
    headers = {"Authorization": f"Bearer {issue_token(rt, HOUSING)}"}
    after = client.get(PLAN.format(demo.lee), headers=headers)
    assert "employment" not in {e["category"] for e in after.json["entries"]}
    reasons = {w["category"]: w["reasons"] for w in after.json["withheld"]}
    assert "override_expired" in reasons["employment"]


@pytest.mark.parametrize(("who", "purpose", "reason"), [
    (COACH, "case_management", "role_not_granted"),  # the protocol allows housing officers only
    (KEY_WORKER, "case_management", "override_not_permitted"),  # recovery-jcp: no break-glass
])
def test_roles_the_protocol_does_not_allow_are_refused_and_audited(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime, who: str, purpose: str,
    reason: str
) -> None:
    r = client.post(OVERRIDES.format(demo.lee, purpose), json=body(), headers=auth(who))
    assert r.status_code == 403
    assert r.json["reasons"] == [reason]
    [deny] = events(rt, type="access:override:deny")
    assert deny.decision == "deny" and deny.reasons == [reason]
    assert str(deny.event_uuid) == r.json["audit_id"]
    assert count(rt, OverrideRecord) == 0


@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"hours": 25}, "hours", "At most 24 hours"),
    ({"hours": 0}, "hours", ""),
    ({"justification": "Safeguarding concern, urgent."}, "justification", "at least 100"),
    ({"justification": "Lorem ipsum dolor sit amet, " * 5}, "justification", "placeholder"),
    ({"justification": "risk risk risk " * 10}, "justification", "same few words"),
    ({"route": "curiosity"}, "route", "allowed: safeguarding"),
    ({"categories": ["substance_misuse"]}, "categories", "Not available to your role"),
    ({"categories": ["shoe_size"]}, "categories", "Unknown category"),
    ({"categories": []}, "categories", ""),
    ({"colour": "red"}, "colour", ""),
])
def test_bad_requests_get_422_naming_the_field_and_leave_nothing_behind(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime, changes: dict[str, Any],
    field: str, words: str
) -> None:
    r = client.post(OVERRIDES.format(demo.lee, "tenancy_sustainment"), json=body(**changes),
                    headers=auth(HOUSING))
    assert_problem(r, 422)
    messages = " ".join(str(m) for m in r.json["errors"][field]) if "errors" in r.json else ""
    assert field in r.json.get("errors", {}) and words in messages
    assert count(rt, OverrideRecord) == 0
    assert events(rt, type="access:override:grant") == []


def test_an_organisation_outside_the_case_gets_404(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    r = client.post(OVERRIDES.format(demo.kerry, "tenancy_sustainment"), json=body(),
                    headers=auth(HOUSING))
    assert r.status_code == 404
    assert count(rt, OverrideRecord) == 0
    assert events(rt, type="access:subject:deny", subject_id=demo.kerry)


IG = "grace.hughes@derby-housing.example"


def test_ig_officer_reviews_the_override_once_and_every_step_is_audited(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    withdraw_all_consent(client, auth, demo.lee)
    created = client.post(OVERRIDES.format(demo.lee, "tenancy_sustainment"), json=body(),
                          headers=auth(HOUSING)).json

    queue = client.get("/api/v1/overrides?status=pending_review&purpose=audit", headers=auth(IG))
    assert queue.status_code == 200
    assert [o["id"] for o in queue.json["items"]] == [created["id"]]
    assert "justification" not in queue.json["items"][0]
    assert events(rt, type="access:override:list")

    detail = client.get(f"/api/v1/overrides/{created['id']}?purpose=audit", headers=auth(IG))
    assert detail.status_code == 200
    assert detail.json["justification"] == JUSTIFICATION
    [read] = events(rt, type="access:override:read")
    assert str(read.override_id) == created["id"] and read.subject_id == demo.lee
    assert "four days" not in str(read.details)

    review = {"outcome": "justified", "note": "Welfare visit found the claimant unwell; "
                                              "sharing was proportionate."}
    r = client.post(f"/api/v1/overrides/{created['id']}/review?purpose=audit", json=review,
                    headers=auth(IG))
    assert r.status_code == 200 and r.json["status"] == "justified"
    [reviewed] = events(rt, type="access:override:review")
    assert reviewed.details == {"outcome": "justified", "overdue": False}
    again = client.post(f"/api/v1/overrides/{created['id']}/review?purpose=audit", json=review,
                        headers=auth(IG))
    assert again.status_code == 409
    assert client.get("/api/v1/overrides?status=pending_review&purpose=audit",
                      headers=auth(IG)).json["items"] == []


def test_front_line_staff_cannot_see_the_review_queue(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    r = client.get("/api/v1/overrides?status=pending_review&purpose=audit",
                   headers=auth(HOUSING))
    assert r.status_code == 403
    missing = client.get(f"/api/v1/overrides/{uuid.uuid4()}?purpose=audit", headers=auth(IG))
    assert missing.status_code == 404


# --- Issue 18: an override is personal, bound to its protocols, not repeatable, and notified.

HOUSING_2 = "tom.reid@derby-housing.example"
JCP_IG = "nadia.khan@jcp-derby.example"
CA_IG = "owen.price@ca-derby.example"


def add_staff(rt: Runtime, email: str, org: str, roles: list[str]) -> None:
    with rt.session_factory() as s:
        identity.add_or_update_staff(s, protocols=rt.protocols, email=email,
                                     name=email.split("@")[0].replace(".", " ").title(),
                                     org=org, roles=roles, now=rt.now())
        s.commit()


def plan_entries(client: FlaskClient, headers: dict[str, str],
                 subject: uuid.UUID) -> tuple[Any, set[str]]:
    r = client.get(PLAN.format(subject), headers=headers)
    assert r.status_code == 200, r.json
    return r, {e["title"] for e in r.json["entries"]}


def plan_read_events(rt: Runtime, response: Any) -> tuple[Any, list[Any]]:
    """The read's `allow` event and its events for withheld categories."""
    mine = [e for e in events(rt, type="case_plan:plan:read")
            if e.request_id == response.headers["X-Request-ID"]]
    [allow] = [e for e in mine if e.decision == "allow"]
    return allow, [e for e in mine if e.decision != "allow"]


def test_an_override_opens_nothing_that_flows_only_under_a_protocol_without_break_glass(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime, second_protocol: str
) -> None:
    assert any(p.ref == second_protocol for p in rt.protocols.protocols)
    # The treatment provider writes an employment note that reaches Derby Housing only under
    # derby-recovery-housing (override.permitted: false).
    w = client.post(f"/api/v1/subjects/{demo.lee}/case-plan/entries?purpose=tenancy_sustainment",
                    json={"kind": "note", "category": "employment",
                          "title": "Volunteering placement at the recovery cafe"},
                    headers=auth(KEY_WORKER))
    assert w.status_code == 201, w.json
    _with_consent, titles = plan_entries(client, auth(HOUSING), demo.lee)
    assert "Volunteering placement at the recovery cafe" in titles  # consent: it flows
    assert "Update CV with work coach" in titles

    withdraw_all_consent(client, auth, demo.lee)
    r = client.post(OVERRIDES.format(demo.lee, "tenancy_sustainment"), json=body(),
                    headers=auth(HOUSING))
    assert r.status_code == 201, r.json
    assert r.json["protocols"] == ["derby-local-support@1"]

    during, titles = plan_entries(client, auth(HOUSING), demo.lee)
    # The work coach's notes flow under derby-local-support, which permits the override ...
    assert "Update CV with work coach" in titles
    # ... the treatment provider's only under derby-recovery-housing, which does not.
    assert "Volunteering placement at the recovery cafe" not in titles
    read, _withheld = plan_read_events(rt, during)
    assert str(read.override_id) == r.json["id"]
    assert w.json["id"] not in read.details["entries"]
    explain = client.get(f"/api/v1/access/explain?subject_id={demo.lee}"
                         "&purpose=tenancy_sustainment&category=employment&action=read",
                         headers=auth(HOUSING))
    assert explain.json["override_id"] == r.json["id"]


def test_a_colleague_with_the_same_role_does_not_get_the_override(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    add_staff(rt, HOUSING_2, "derby-housing", ["housing_officer"])
    withdraw_all_consent(client, auth, demo.lee)
    r = client.post(OVERRIDES.format(demo.lee, "tenancy_sustainment"), json=body(),
                    headers=auth(HOUSING))
    assert r.status_code == 201, r.json

    mine, titles = plan_entries(client, auth(HOUSING), demo.lee)
    assert "Update CV with work coach" in titles
    assert str(plan_read_events(rt, mine)[0].override_id) == r.json["id"]

    theirs, titles = plan_entries(client, auth(HOUSING_2), demo.lee)
    assert "Update CV with work coach" not in titles
    reasons = {w["category"]: w["reasons"] for w in theirs.json["withheld"]}
    assert reasons["employment"] == ["consent_withdrawn"]
    read, withheld = plan_read_events(rt, theirs)
    assert read.override_id is None
    assert [e for e in withheld if "employment" in e.categories and e.override_id is None]


def test_a_repeat_while_active_is_refused_and_extends_nothing(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime, clock: Clock
) -> None:
    withdraw_all_consent(client, auth, demo.lee)
    first = client.post(OVERRIDES.format(demo.lee, "tenancy_sustainment"), json=body(),
                        headers=auth(HOUSING))
    assert first.status_code == 201, first.json

    clock.advance(hours=3)
    again = client.post(OVERRIDES.format(demo.lee, "tenancy_sustainment"),
                        json=body(hours=24), headers=auth(HOUSING))
    assert_problem(again, 409)
    assert again.json["override_id"] == first.json["id"]
    assert "four days" not in str(again.json)
    [deny] = events(rt, type="access:override:deny")
    assert deny.decision == "deny" and str(deny.event_uuid) == again.json["audit_id"]
    assert str(deny.override_id) == first.json["id"]
    assert deny.details == {"refused": "override_already_active"}
    assert count(rt, OverrideRecord) == 1
    assert len(events(rt, type="access:override:grant")) == 1

    # The first override's time box stands: after its 4 hours the data is closed again.
    clock.advance(hours=1)
    headers = {"Authorization": f"Bearer {issue_token(rt, HOUSING)}"}
    after, titles = plan_entries(client, headers, demo.lee)
    assert "Update CV with work coach" not in titles
    reasons = {w["category"]: w["reasons"] for w in after.json["withheld"]}
    assert "override_expired" in reasons["employment"]
    assert plan_read_events(rt, after)[0].override_id is None

    # Once expired, a new override may be asked for (and is a new review item).
    fresh = client.post(OVERRIDES.format(demo.lee, "tenancy_sustainment"), json=body(),
                        headers=auth(HOUSING))
    assert fresh.status_code == 201, fresh.json
    assert count(rt, OverrideRecord) == 2


def notifications_of(client: FlaskClient, headers: dict[str, str],
                     purpose: str = "audit") -> list[dict[str, Any]]:
    r = client.get(f"/api/v1/notifications?purpose={purpose}", headers=headers)
    assert r.status_code == 200, r.json
    return [n for n in r.json["items"] if n["type"] == "override_granted"]


def test_ig_officers_of_the_lead_and_requesting_orgs_are_notified_and_nobody_else(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    add_staff(rt, JCP_IG, "jcp-derby", ["ig_officer"])  # Lee's lead organisation
    add_staff(rt, CA_IG, "ca-derby", ["ig_officer"])  # a party, not involved
    withdraw_all_consent(client, auth, demo.lee)
    r = client.post(OVERRIDES.format(demo.lee, "tenancy_sustainment"), json=body(),
                    headers=auth(HOUSING))
    assert r.status_code == 201, r.json
    [grant] = events(rt, type="access:override:grant")
    assert grant.details["notified_ig_orgs"] == ["derby-housing", "jcp-derby"]

    for ig in (IG, JCP_IG):
        [note] = notifications_of(client, auth(ig))
        assert note["subject_id"] == str(demo.lee) and note["read"] is False
        assert note["details"]["override_id"] == r.json["id"]
        assert "four days" not in str(note)
    assert notifications_of(client, auth(CA_IG)) == []
    # Front-line staff of the requesting organisation do not get the IG officers' notice.
    assert notifications_of(client, auth(HOUSING), "tenancy_sustainment") == []
