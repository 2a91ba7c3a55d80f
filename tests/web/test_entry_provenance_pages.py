"""The edit page keeps an entry's words with the organisation that wrote them (issue 18),
through the Flask client on both engines: another organisation's staff get the codes only, are
told why in plain words, and a forged change to the words is refused and audited."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from caseshare.case_plan.models import PlanEntry
from caseshare.runtime import Runtime
from tests.api.test_entry_provenance import JCP_WORDS, council_writes_employment
from tests.audit_helpers import events
from tests.conftest import COACH, HOUSING, Clock, Demo
from tests.web.test_pages import sign_in, token


@pytest.fixture
def app(engine: str, templates: dict[str, Any], tmp_path: Path,
        clock: Clock) -> Iterator[Flask]:
    app = council_writes_employment(engine, templates, tmp_path, clock)
    yield app
    app.extensions["caseshare"].engine.dispose()


def test_another_organisation_gets_the_codes_only_and_is_told_why(
    client: FlaskClient, rt: Runtime, demo: Demo, auth: Any
) -> None:
    created = client.post(
        f"/api/v1/subjects/{demo.lee}/case-plan/entries?purpose=case_management",
        json={"kind": "action", "category": "employment", "title": "Apply for warehouse jobs",
              "detail": JCP_WORDS, "owner_name": "Sam Okafor"}, headers=auth(COACH))
    entry_id = uuid.UUID(created.get_json()["id"])
    path = f"/claimants/{demo.lee}/plan/entries/{entry_id}"

    sign_in(client, HOUSING, "tenancy_sustainment")
    raw = client.get(path).get_data(as_text=True)
    form = html.unescape(raw)
    for field in ("title", "detail", "owner_name"):
        assert f'name="{field}"' not in form
    assert "Derby Jobcentre Plus wrote this action, so only they can change its words." in form
    assert "would read your words as theirs" in form
    assert JCP_WORDS in form  # shown, not offered for editing
    assert 'name="status"' in form and 'name="owner_org"' in form
    version = re.search(r'name="version" value="([^"]+)"', raw)
    assert version is not None
    base = {"csrf_token": token(client, path), "version": html.unescape(version.group(1)),
            "kind": "action", "category": "employment", "author": "jcp-derby",
            "owner_org": "jcp-derby", "status": "done"}
    saved = client.post(path, data=base)
    assert saved.status_code == 302
    [allowed] = [e for e in events(rt, type="case_plan:entry:update", subject_id=demo.lee)]
    assert allowed.decision == "allow" and allowed.org == "derby-housing"
    assert allowed.details["fields"] == ["due_on", "owner_org", "status"]

    # A form forged to carry the words anyway is refused, and audited.
    latest = re.search(r'name="version" value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert latest is not None
    forged = client.post(path, data={**base, "version": html.unescape(latest.group(1)),
                                     "author": "",
                                     "title": "Apply for warehouse jobs",
                                     "detail": "Council words", "status": "in_progress"})
    assert forged.status_code == 403
    denied = [e for e in events(rt, type="case_plan:entry:update", subject_id=demo.lee)
              if e.decision == "deny"]
    assert [e.reasons for e in denied] == [["not_author_of_entry"]]
    with rt.session_factory() as s:
        row = s.get(PlanEntry, entry_id)
        assert row is not None and row.status == "done" and row.version == 2

    # The Jobcentre, which wrote it, still gets its words to change.
    client.post("/sign-out", data={"csrf_token": token(client, path)})
    sign_in(client, COACH)
    own = client.get(path).get_data(as_text=True)
    assert 'name="title"' in own and 'name="detail"' in own and "only they can" not in own
