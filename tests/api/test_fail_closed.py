"""If the audit event cannot be committed, nothing is disclosed (fail closed)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from caseshare.runtime import Runtime
from tests.audit_helpers import events
from tests.builders import assert_problem
from tests.conftest import COACH, Demo

_REFUSE = {
    "sqlite": ["CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events "
               "BEGIN SELECT RAISE(ABORT, 'injected: disk full'); END"],
    "postgresql": ["CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS "
                   "$$ BEGIN RAISE EXCEPTION 'injected: disk full'; END $$",
                   "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events "
                   "FOR EACH ROW EXECUTE FUNCTION refuse_audit()"],
}
_HEAL = {
    "sqlite": ["DROP TRIGGER IF EXISTS refuse_audit"],
    "postgresql": ["DROP TRIGGER IF EXISTS refuse_audit ON audit_events",
                   "DROP FUNCTION IF EXISTS refuse_audit()"],
}


@pytest.fixture
def broken_audit(rt: Runtime) -> Iterator[Callable[[], None]]:
    """Make the database itself refuse every insert into audit_events, as a full disk would,
    whichever way the app sends the INSERT (ORM, Core or the driver's cursor). Yields `heal()`
    to end the fault."""

    def run(statements: list[str]) -> None:
        with rt.engine.begin() as conn:
            for statement in statements:
                conn.exec_driver_sql(statement)

    dialect = rt.engine.dialect.name
    run(_REFUSE[dialect])
    yield lambda: run(_HEAL[dialect])
    run(_HEAL[dialect])


def test_read_fails_closed_when_audit_cannot_be_written(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime, broken_audit: Callable[[], None]
) -> None:
    headers = auth(COACH)
    before = len(events(rt))
    r = client.get(f"/api/v1/subjects/{demo.lee}/case-plan?purpose=case_management",
                   headers=headers)

    assert_problem(r, 503)
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
