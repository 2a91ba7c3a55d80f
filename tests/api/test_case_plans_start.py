"""Starting the plan straight after registering the claimant (the journey from the pages)."""

from __future__ import annotations

import uuid
from typing import Any

from flask.testing import FlaskClient

from caseshare.runtime import Runtime
from tests.audit_helpers import events
from tests.builders import assert_problem, register
from tests.conftest import COACH, Demo

PLAN = "/api/v1/subjects/{}/case-plan?purpose=case_management"


def test_the_registering_organisation_starts_the_plan_at_once(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    subject = register(client, auth(COACH))
    r = client.post(PLAN.format(subject), headers=auth(COACH), json={"entries": []})
    assert r.status_code == 201, r.json
    assert r.json["lead_org"] == "jcp-derby"
    [event] = events(rt, type="case_plan:plan:create", subject_id=uuid.UUID(subject))
    assert event.org == "jcp-derby"
    again = client.post(PLAN.format(subject), headers=auth(COACH), json={"entries": []})
    assert_problem(again, 409)
