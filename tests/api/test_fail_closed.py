"""If the audit event cannot be committed, nothing is disclosed (fail closed)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from caseshare.runtime import Runtime
from tests.audit_helpers import events
from tests.conftest import COACH, Demo


@pytest.fixture
def broken_audit(rt: Runtime) -> Iterator[Callable[[], None]]:
    """Make the database refuse every insert into audit_events, as a full disk would.
    Yields `heal()` to end the fault."""

    def refuse(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO AUDIT_EVENTS"):
            raise OperationalError(statement, None, Exception("injected: disk full"))

    event.listen(rt.engine, "before_cursor_execute", refuse)

    def heal() -> None:
        if event.contains(rt.engine, "before_cursor_execute", refuse):
            event.remove(rt.engine, "before_cursor_execute", refuse)

    yield heal
    heal()


def test_read_fails_closed_when_audit_cannot_be_written(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime, broken_audit: Callable[[], None]
) -> None:
    headers = auth(COACH)
    before = len(events(rt))
    r = client.get(f"/api/v1/subjects/{demo.lee}/case-plan?purpose=case_management",
                   headers=headers)

    assert r.status_code == 503
    assert r.headers["Content-Type"] == "application/problem+json"
    text = r.get_data(as_text=True)
    for plaintext in ("recovery group", "work placement", "arrears", "Marsh"):
        assert plaintext not in text
    assert "entries" not in r.json
    assert len(events(rt)) == before


def test_write_is_not_kept_when_its_audit_cannot_be_written(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime, broken_audit: Callable[[], None]
) -> None:
    headers = auth(COACH)
    r = client.post(f"/api/v1/subjects/{demo.lee}/case-plan/entries?purpose=case_management",
                    json={"kind": "note", "category": "employment", "title": "Rang claimant"},
                    headers=headers)
    assert r.status_code == 503
    assert "Rang claimant" not in r.get_data(as_text=True)

    broken_audit()
    plan = client.get(f"/api/v1/subjects/{demo.lee}/case-plan?purpose=case_management",
                      headers=headers)
    assert plan.status_code == 200
    assert "Rang claimant" not in {e["title"] for e in plan.json["entries"]}
