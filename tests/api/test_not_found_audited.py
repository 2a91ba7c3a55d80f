"""Issue 18 (d): every refusal on the access path is audited, the 404s included: a claimant
with no case plan yet (read, add, edit, history) and an override out of the caller's reach."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient

from caseshare.runtime import Runtime
from tests.audit_helpers import events
from tests.builders import assert_problem, register
from tests.conftest import COACH, IG

PLAN = "/api/v1/subjects/{}/case-plan"
ENTRY = {"kind": "action", "category": "employment", "title": "Apply for two jobs a week"}


def _audited_404(rt: Runtime, r: Any, type: str, detail: str) -> Any:
    assert_problem(r, 404)
    assert r.json["detail"] == detail
    [event] = [e for e in events(rt, type=type) if str(e.event_uuid) == r.json["audit_id"]]
    assert event.decision == "deny" and event.request_id == r.headers["X-Request-ID"]
    return event


@pytest.mark.parametrize("call,type", [
    (lambda c, s, h: c.get(PLAN.format(s) + "?purpose=case_management", headers=h),
     "case_plan:plan:read"),
    (lambda c, s, h: c.post(PLAN.format(s) + "/entries?purpose=case_management", json=ENTRY,
                            headers=h), "case_plan:entry:create"),
    (lambda c, s, h: c.patch(PLAN.format(s) + f"/entries/{uuid.uuid4()}?purpose=case_management",
                             json={"title": "Changed"}, headers={**h, "If-Match": '"x"'}),
     "case_plan:entry:update"),
    (lambda c, s, h: c.get(PLAN.format(s) + f"/entries/{uuid.uuid4()}/history"
                           "?purpose=case_management", headers=h), "case_plan:entry:history"),
])
def test_a_claimant_without_a_plan_is_an_audited_404(
    client: FlaskClient, auth: Any, rt: Runtime, call: Any, type: str
) -> None:
    coach = auth(COACH)
    subject = register(client, coach)
    event = _audited_404(rt, call(client, subject, coach), type,
                         "This claimant has no case plan yet.")
    assert str(event.subject_id) == subject and event.reasons == ["no_case_plan"]
    assert event.org == "jcp-derby" and event.purpose == "case_management"


@pytest.mark.parametrize("method,suffix,body", [
    ("get", "", None),
    ("post", "/review", {"outcome": "justified", "note": "Reviewed with the team lead."}),
])
def test_an_override_out_of_reach_is_an_audited_404(
    client: FlaskClient, auth: Any, rt: Runtime, method: str, suffix: str,
    body: dict[str, Any] | None,
) -> None:
    override_id = uuid.uuid4()
    kwargs: dict[str, Any] = {"headers": auth(IG)}
    if body is not None:
        kwargs["json"] = body
    r = getattr(client, method)(f"/api/v1/overrides/{override_id}{suffix}?purpose=audit",
                                **kwargs)
    type = "access:override:review" if suffix else "access:override:read"
    event = _audited_404(rt, r, type, "No such override.")
    assert event.details["override_id"] == str(override_id)
    assert event.org == "derby-housing" and event.role == "ig_officer"
