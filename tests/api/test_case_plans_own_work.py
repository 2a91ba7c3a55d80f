"""An organisation may always record and update its own work in the categories its grant writes,
even where no flow shares that category onward for the purpose (then only it sees it)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient

from caseshare.runtime import Runtime
from tests.audit_helpers import events
from tests.builders import assert_problem
from tests.conftest import COACH, HOUSING, KEY_WORKER, Demo

PLAN = "/api/v1/subjects/{}/case-plan?purpose={}"
ENTRIES = "/api/v1/subjects/{}/case-plan/entries?purpose={}"
ENTRY = "/api/v1/subjects/{}/case-plan/entries/{}?purpose={}"
HISTORY = "/api/v1/subjects/{}/case-plan/entries/{}/history?purpose={}"


def _treatment_action(client: FlaskClient, headers: dict[str, str],
                      subject: uuid.UUID, purpose: str) -> dict[str, Any]:
    r = client.get(PLAN.format(subject, purpose), headers=headers)
    assert r.status_code == 200, r.json
    [entry] = [e for e in r.json["entries"] if e["category"] == "substance_misuse"]
    return {**entry, "etag": r.headers["ETag"]}


@pytest.mark.parametrize("purpose", ["case_management", "recovery_support"])
def test_key_worker_updates_his_own_treatment_action_under_each_purpose(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime, purpose: str
) -> None:
    worker = auth(KEY_WORKER)
    entry = _treatment_action(client, worker, demo.lee, purpose)
    r = client.patch(ENTRY.format(demo.lee, entry["id"], purpose),
                     headers={**worker, "If-Match": entry["etag"]},
                     json={"status": "done", "outcome": "Completed the group programme",
                           "service": "intermediary_support"})
    assert r.status_code == 200, r.json
    assert r.json["status"] == "done" and r.json["outcome"] == "Completed the group programme"
    [event] = events(rt, type="case_plan:entry:update", subject_id=demo.lee, decision="allow")
    assert event.org == "recovery-partnership" and event.purpose == purpose
    assert event.categories == ["substance_misuse"]
    # The history shows the change, under the purpose it was made for.
    history = client.get(HISTORY.format(demo.lee, entry["id"], purpose), headers=worker)
    assert history.json["items"][0]["purpose"] == purpose  # newest first


def test_own_record_under_recovery_support_is_seen_by_no_one_else(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    worker = auth(KEY_WORKER)
    r = client.post(ENTRIES.format(demo.lee, "recovery_support"), headers=worker,
                    json={"kind": "note", "category": "substance_misuse",
                          "title": "Relapse prevention plan agreed"})
    assert r.status_code == 201, r.json
    created = r.json["id"]
    [event] = events(rt, type="case_plan:entry:create", subject_id=demo.lee,
                     purpose="recovery_support")
    assert event.decision == "allow" and event.reasons == ["own_record"]
    # The key worker reads it back under the same purpose...
    mine = client.get(PLAN.format(demo.lee, "recovery_support"), headers=worker).json
    assert created in [e["id"] for e in mine["entries"]]
    # ...and no other organisation does, for any purpose (the work coach, whose treatment flow
    # is for case management, included).
    for email, purposes in ((COACH, ["case_management"]),
                            (HOUSING, ["case_management", "tenancy_sustainment"])):
        for purpose in purposes:
            seen = client.get(PLAN.format(demo.lee, purpose), headers=auth(email)).json
            assert created not in [e["id"] for e in seen["entries"]], (email, purpose)
            probe = client.patch(ENTRY.format(demo.lee, created, purpose),
                                 headers={**auth(email), "If-Match": '"x"'},
                                 json={"status": "done"})
            assert_problem(probe, 404)


def test_own_record_must_stay_the_callers_own(
    client: FlaskClient, auth: Any, demo: Demo
) -> None:
    """Where only the caller's organisation would see an entry, it cannot be handed to another
    organisation (that organisation could never read its own action)."""
    worker = auth(KEY_WORKER)
    r = client.post(ENTRIES.format(demo.lee, "recovery_support"), headers=worker,
                    json={"kind": "action", "category": "substance_misuse",
                          "title": "Attend a group", "owner_org": "jcp-derby"})
    assert list(assert_problem(r, 422)["errors"]) == ["owner_org"]
    entry = _treatment_action(client, worker, demo.lee, "recovery_support")
    r = client.patch(ENTRY.format(demo.lee, entry["id"], "recovery_support"),
                     headers={**worker, "If-Match": entry["etag"]},
                     json={"owner_org": "jcp-derby"})
    assert list(assert_problem(r, 422)["errors"]) == ["owner_org"]


def test_own_record_never_opens_categories_the_grant_does_not_write(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    r = client.post(ENTRIES.format(demo.lee, "recovery_support"), headers=auth(KEY_WORKER),
                    json={"kind": "note", "category": "employment", "title": "CV"})
    assert assert_problem(r, 403)["reasons"] == ["role_not_granted"]
    [event] = events(rt, type="access:write:deny", subject_id=demo.lee)
    assert event.org == "recovery-partnership" and event.categories == ["employment"]
