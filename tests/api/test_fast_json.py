"""The case-plan read's orjson fast path sends the same JSON the PlanOut schema dump would
through Flask's encoder (timestamps with and without microseconds, dates, nulls, non-ASCII
text), and the read over HTTP parses to exactly the schema's dump of what it disclosed."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from typing import Any

from flask import Flask, jsonify
from flask.testing import FlaskClient

from caseshare.api.fast_json import json_response
from caseshare.schemas.case_plan import PlanOut
from tests.conftest import COACH, Demo

PLAN = "/api/v1/subjects/{}/case-plan?purpose=case_management"


def _entry(**changes: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": uuid.uuid4(), "kind": "goal", "category": "housing_tenancy",
        "title": "Cytuno ar gynllun ad-dalu — £40 y mis", "detail": None,
        "owner_org": "derby-housing", "owner_name": "Priya Sharma", "due_on": date(2027, 1, 31),
        "status": "open", "service": None, "outcome": None, "version": 3,
        "updated_at": datetime(2026, 11, 23, 9, 30, 1, 123456, tzinfo=UTC),
    }
    entry.update(changes)
    return entry


def test_fast_path_equals_the_schema_dump_through_flask(app: Flask) -> None:
    document = {
        "id": uuid.uuid4(), "subject_id": uuid.uuid4(), "lead_org": "jcp-derby",
        "members": ["derby-housing", "jcp-derby"],
        "entries": [_entry(), _entry(due_on=None, service="housing",
                                     updated_at=datetime(2026, 11, 23, 9, 30, tzinfo=UTC))],
        "withheld": [{"category": "offending", "reasons": ["no_grant"]}],
    }
    with app.test_request_context():
        fast = json_response(document)
        slow = jsonify(PlanOut().dump(document))
    assert fast.mimetype == slow.mimetype == "application/json"
    assert json.loads(fast.get_data()) == json.loads(slow.get_data())
    assert fast.get_data().endswith(b"\n")
    assert b'"2026-11-23T09:30:01.123456Z"' in fast.get_data()


def test_plan_read_over_http_is_the_schema_dump(client: FlaskClient, auth: Any,
                                                demo: Demo) -> None:
    r = client.get(PLAN.format(demo.lee), headers=auth(COACH))
    assert r.status_code == 200 and r.mimetype == "application/json"
    assert r.headers["Cache-Control"] == "no-store" and r.headers["ETag"]
    body = r.json
    assert body["entries"] and body["members"]
    # Loading what was sent and dumping it again through the schema changes nothing.
    assert PlanOut().dump(PlanOut().load(body)) == body
