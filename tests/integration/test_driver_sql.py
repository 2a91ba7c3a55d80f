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

from caseshare.case_plan import read_model
from caseshare.consent import service as consents
from caseshare.driver_sql import DriverSelect
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
