"""Statements run on the driver's cursor give what Session.execute gives: the same rows with the
same Python types, pending ORM changes included, driver errors as SQLAlchemy errors (both
engines)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import bindparam, literal_column, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from caseshare.audit import service as audit
from caseshare.audit.canonical import canonical_bytes
from caseshare.audit.merkle import leaf_hash
from caseshare.audit.models import AuditEvent
from caseshare.case_plan import read_model
from caseshare.consent import service as consents
from caseshare.driver_sql import DriverSelect, run_on_driver
from caseshare.runtime import Runtime
from caseshare.subjects import service as subjects
from caseshare.subjects.models import CaseMember
from tests.conftest import Demo


def _through_session(session: Session, select_: DriverSelect,
                     params: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in session.execute(select_.statement, params)]


@pytest.mark.parametrize(("statement", "param"), [
    (read_model._PLAN_WITH_ENTRIES, "subject_id"),  # UUIDs, UTC datetimes, dates, bytes, NULLs
    (consents._CURRENT_GRANTED, "subject_id"),  # JSON, booleans, a literal ("granted")
    (subjects._SUBJECT_ROW_WITH_MEMBERS, "subject_id"),  # EXISTS as a boolean
])
def test_rows_and_types_match_session_execute(rt: Runtime, demo: Demo, statement: DriverSelect,
                                              param: str) -> None:
    seen = 0
    with rt.session_factory() as s:
        for subject in (demo.lee, demo.kerry, uuid.uuid4()):
            expected = _through_session(s, statement, {param: subject})
            seen += len(expected)
            got = statement.rows(s, {param: subject})
            assert got == expected
            assert [[type(v) for v in row] for row in got] == \
                [[type(v) for v in row] for row in expected]
            assert all(v.tzinfo is not None for row in got for v in row
                       if hasattr(v, "tzinfo") and hasattr(v, "hour"))
    assert seen, "the demo claimants have plans and consents"


def test_pending_orm_changes_are_flushed_first(rt: Runtime, demo: Demo, session: Session) -> None:
    members = DriverSelect(select(CaseMember.org_id)
                           .where(CaseMember.subject_id == bindparam("subject_id")))
    before = {org for (org,) in members.rows(session, {"subject_id": demo.kerry})}
    lee_orgs = {org for (org,) in members.rows(session, {"subject_id": demo.lee})}
    joining = sorted(lee_orgs - before)[0]
    session.add(CaseMember(subject_id=demo.kerry, org_id=joining, role="member",
                           joined_at=rt.now()))
    after = {org for (org,) in members.rows(session, {"subject_id": demo.kerry})}
    assert after == before | {joining}


def test_a_driver_error_is_a_sqlalchemy_error(session: Session) -> None:
    broken = DriverSelect(select(literal_column("no_such_column")))
    with pytest.raises(DBAPIError):
        broken.rows(session, {})


def test_driver_insert_writes_what_a_core_insert_writes(rt: Runtime, demo: Demo) -> None:
    # The audit events of a read go in through the driver (db.write_after_snapshot): each row
    # must read back as the event it was, so that its leaf hash still verifies.
    made = [audit.new_event(type="crypto:kek:retire", now=rt.now(), subject_id=demo.lee,
                            categories=["housing_tenancy", "identity"], decision="allow",
                            consent_id=uuid.uuid4(), details={"entries": ["a", "b"], "n": 2}),
            audit.new_event(type="crypto:kek:retire", now=rt.now())]  # NULLs and empty lists
    with rt.session_factory() as s:
        connection = s.connection()
        sql, params = audit._DRIVER_INSERT.prepared(connection.dialect,
                                                    [e.columns() for e in made])
        run_on_driver(connection, [(sql, params, True)])
        s.commit()
    with rt.session_factory() as s:
        rows = s.scalars(select(AuditEvent).where(AuditEvent.type == "crypto:kek:retire")
                         .order_by(AuditEvent.id)).all()
        assert [{name: getattr(row, name) for name in made[0].columns()} for row in rows] == \
            [e.columns() for e in made]
        assert [leaf_hash(canonical_bytes(row)) for row in rows] == [e.leaf_hash for e in made]


def test_a_driver_error_in_a_step_is_a_sqlalchemy_error(session: Session) -> None:
    with pytest.raises(DBAPIError):
        run_on_driver(session.connection(), [("INSERT INTO no_such_table VALUES (1)", (), False)])
