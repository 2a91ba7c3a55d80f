"""Abuse cases: injection strings in every free-text field of a case plan entry, and path
traversal in consent form names. Stored text comes back verbatim and is never evaluated; a
traversal never reaches the file system."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import inspect

from caseshare.runtime import Runtime
from tests.audit_helpers import events
from tests.builders import assert_problem
from tests.conftest import COACH, Demo

HOSTILE = [
    "'; DROP TABLE plan_entries; --",
    "\" OR 1=1 --",
    "{{ 7*7 }}{% print(7*7) %}",
    "${7*7} #{7*7} <%= 7*7 %>",
    "<script>alert(1)</script>",
    "Robert\u0000'); DELETE FROM audit_events;--",
    "\u202eevil\u200b",
]
TEXT_FIELDS = ("title", "detail", "owner_name", "outcome")


@pytest.mark.parametrize("payload", HOSTILE, ids=range(len(HOSTILE)))
def test_injection_strings_in_every_text_field_are_stored_verbatim_and_never_evaluated(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime, payload: str
) -> None:
    url = f"/api/v1/subjects/{demo.lee}/case-plan"
    headers = auth(COACH)
    body = {"kind": "note", "category": "employment", **dict.fromkeys(TEXT_FIELDS, payload)}
    created = client.post(f"{url}/entries?purpose=case_management", json=body, headers=headers)
    assert created.status_code == 201, created.get_json()
    for field in TEXT_FIELDS:
        assert created.json[field] == payload
    plan = client.get(f"{url}?purpose=case_management", headers=headers)
    assert plan.status_code == 200
    entry = next(e for e in plan.json["entries"] if e["id"] == created.json["id"])
    assert all(entry[field] == payload for field in TEXT_FIELDS)
    with rt.engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
    assert {"plan_entries", "audit_events"} <= tables
    # The write was audited, and the audit event holds ids, not the text.
    created_events = events(rt, type="case_plan:entry:create")
    assert created_events and payload not in repr(created_events[-1].details)


@pytest.mark.parametrize("form_id", ["../../policies/derby-local-support.v1",
                                     "..%2F..%2Fetc%2Fpasswd", "%2e%2e/%2e%2e/etc/passwd",
                                     "....//....//etc/passwd", "derby-multi-agency/../../x"])
def test_path_traversal_in_form_names_never_reaches_the_file_system(
    client: FlaskClient, auth: Any, demo: Demo, form_id: str
) -> None:
    headers = auth(COACH)
    r = client.get(f"/api/v1/consent-forms/{form_id}/1", headers=headers)
    assert r.status_code in (404, 422), r.status_code
    assert_problem(r, r.status_code)
    text_ = r.get_data(as_text=True)
    assert "root:" not in text_ and "grants:" not in text_
    consent = client.post(
        f"/api/v1/subjects/{demo.lee}/consents?purpose=case_management", headers=headers,
        json={"form_id": form_id, "form_version": 1, "language": "en",
              "given_by": {"type": "self"}, "recipients": ["jcp-derby"],
              "purposes": ["case_management"], "categories": ["identity"],
              "method": "e_signature", "evidence_ref": "X-1"})
    assert consent.status_code == 422
    assert "form_id" in consent.json["errors"]
