"""The IG override review queue: overdue reviews are flagged against the server clock, and a
'not justified' outcome opens an incident in the same unit of work. Both engines."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from caseshare.overrides.models import Incident
from caseshare.runtime import Runtime
from tests.api.test_overrides import OVERRIDES, body, withdraw_all_consent
from tests.audit_helpers import events
from tests.conftest import HOUSING, IG, Clock, Demo

QUEUE = "/api/v1/overrides?status=pending_review&purpose=audit"


def break_glass(client: FlaskClient, auth: Any, demo: Demo) -> dict[str, Any]:
    withdraw_all_consent(client, auth, demo.lee)
    r = client.post(OVERRIDES.format(demo.lee, "tenancy_sustainment"), json=body(),
                    headers=auth(HOUSING))
    assert r.status_code == 201, r.json
    return dict(r.json)


def test_a_review_past_its_deadline_is_flagged_overdue_by_the_clock(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime, clock: Clock
) -> None:
    created = break_glass(client, auth, demo)  # review due 72 hours from now

    clock.advance(hours=71, minutes=59)
    before = client.get(QUEUE, headers=auth(IG))
    assert [(o["id"], o["overdue"]) for o in before.json["items"]] == [(created["id"], False)]
    assert events(rt, type="access:override:list")[-1].details["overdue"] == []

    clock.advance(minutes=2)
    after = client.get(QUEUE, headers=auth(IG))
    assert [(o["id"], o["overdue"]) for o in after.json["items"]] == [(created["id"], True)]
    listed = events(rt, type="access:override:list")[-1]
    assert listed.request_id == after.headers["X-Request-ID"]
    assert listed.details["overdue"] == [created["id"]]

    r = client.post(f"/api/v1/overrides/{created['id']}/review?purpose=audit",
                    json={"outcome": "justified", "note": "Late, but the visit was needed."},
                    headers=auth(IG))
    assert r.status_code == 200
    [reviewed] = events(rt, type="access:override:review")
    assert reviewed.details == {"outcome": "justified", "overdue": True}
    # Reviewed items are no longer overdue, whatever the clock says.
    done = client.get("/api/v1/overrides?status=justified&purpose=audit", headers=auth(IG))
    assert [o["overdue"] for o in done.json["items"]] == [False]


def test_not_justified_opens_an_incident_recorded_in_the_review_event(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    created = break_glass(client, auth, demo)
    note = "Consent could have been sought by phone the same day; not proportionate."
    r = client.post(f"/api/v1/overrides/{created['id']}/review?purpose=audit",
                    json={"outcome": "not_justified", "note": note}, headers=auth(IG))
    assert r.status_code == 200 and r.json["status"] == "not_justified"

    with rt.session_factory() as s:
        [incident] = s.scalars(select(Incident)).all()
    assert str(incident.override_id) == created["id"] and incident.subject_id == demo.lee
    assert incident.kind == "override_not_justified" and incident.status == "open"
    assert incident.org_id == "derby-housing" and incident.opened_org == "derby-housing"
    [grant] = events(rt, type="access:override:grant")
    assert incident.actor == grant.actor  # the housing officer who broke glass
    [reviewed] = events(rt, type="access:override:review")
    assert reviewed.details == {"outcome": "not_justified", "overdue": False,
                                "incident_id": str(incident.id)}
    assert reviewed.request_id == r.headers["X-Request-ID"]
    assert "phone the same day" not in str(reviewed.details)  # the note stays sealed


def test_justified_opens_no_incident(client: FlaskClient, auth: Any, demo: Demo,
                                     rt: Runtime) -> None:
    created = break_glass(client, auth, demo)
    r = client.post(f"/api/v1/overrides/{created['id']}/review?purpose=audit",
                    json={"outcome": "justified", "note": "Proportionate to the risk."},
                    headers=auth(IG))
    assert r.status_code == 200
    with rt.session_factory() as s:
        assert s.scalars(select(Incident)).all() == []
    assert "incident_id" not in events(rt, type="access:override:review")[0].details
