"""Issue 18 (c): a consent id of a claimant the caller does not work with answers exactly as an
id that does not exist, on every endpoint that takes a consent id, and both are audited."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient

from caseshare.runtime import Runtime
from tests.audit_helpers import events
from tests.builders import assert_problem
from tests.conftest import COACH, KEY_WORKER, Demo

ENDPOINTS = [
    ("post", "/api/v1/consents/{}/withdrawal?purpose=recovery_support", {"channel": "phone"}),
    ("get", "/api/v1/consents/{}/receipt?purpose=recovery_support", None),
    ("get", "/api/v1/consents/{}/fhir?purpose=recovery_support", None),
]


def _kerry_consent(client: FlaskClient, auth: Any, demo: Demo) -> str:
    r = client.get(f"/api/v1/subjects/{demo.kerry}/consents?purpose=case_management",
                   headers=auth(COACH))
    assert r.status_code == 200, r.json
    return str(r.json["items"][0]["id"])


@pytest.mark.parametrize("method,path,body", ENDPOINTS)
def test_another_claimants_consent_answers_like_a_random_id_and_both_are_audited(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime, method: str, path: str,
    body: dict[str, Any] | None,
) -> None:
    # The recovery key worker has no relationship with Kerry (budgeting support only).
    theirs = _kerry_consent(client, auth, demo)
    answers = []
    for consent_id in (theirs, str(uuid.uuid4())):
        kwargs: dict[str, Any] = {"headers": auth(KEY_WORKER)}
        if body is not None:
            kwargs["json"] = body
        r = getattr(client, method)(path.format(consent_id), **kwargs)
        assert_problem(r, 404)
        problem = dict(r.json)
        audit_id = problem.pop("audit_id")
        [event] = [e for e in events(rt) if str(e.event_uuid) == audit_id]
        assert event.decision == "deny" and event.org == "recovery-partnership"
        assert event.request_id == r.headers["X-Request-ID"]
        answers.append(problem)
    assert answers[0] == answers[1]
    assert answers[0]["detail"] == "No such consent."
    # Nothing was withdrawn.
    r = client.get(f"/api/v1/subjects/{demo.kerry}/consents?purpose=case_management",
                   headers=auth(COACH))
    assert all(not c.get("withdrawals") for c in r.json["items"] if c["id"] == theirs)
