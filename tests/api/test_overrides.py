"""Break-glass overrides: POST /subjects/{id}/overrides (API.md)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from caseshare.policy.models import OverrideRecord
from caseshare.runtime import Runtime
from tests.audit_helpers import count, events
from tests.conftest import COACH, HOUSING, KEY_WORKER, Clock, Demo, issue_token

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
    assert r.status_code == 422, r.json
    assert r.headers["Content-Type"] == "application/problem+json"
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
