"""Recording the same outcome twice at once (both engines): the check before inserting can
miss a row another request is inserting (review of issue 24, finding 11), so the unique key
decides. A typed outcome is then a ConflictError (409), never the database error (503); a
computed one (`record_once`) is skipped in a savepoint and the rest of the unit of work stays."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from caseshare.errors import ConflictError
from caseshare.identity.models import Organisation
from caseshare.outcomes import service
from caseshare.outcomes.models import Outcome
from caseshare.runtime import Runtime
from caseshare.subjects import service as subjects
from caseshare.unit_of_work import UnitOfWork
from tests.conftest import Demo

DAY = date(2026, 9, 1)


def _fields(demo: Demo) -> dict[str, Any]:
    return {"subject_id": demo.lee, "code": "apa_in_place", "category": "housing_tenancy",
            "achieved_on": DAY, "org": "derby-housing", "purpose": "tenancy_sustainment",
            "staff_id": None}


def _key(rt: Runtime, demo: Demo) -> bytes:
    with rt.session_factory() as s:
        return subjects.data_key(subjects.get_subject(s, demo.lee), rt.keyring)


def _count(rt: Runtime) -> int:
    with rt.session_factory() as s:
        return int(s.scalar(select(func.count()).select_from(Outcome)
                            .where(Outcome.code == "apa_in_place", Outcome.achieved_on == DAY))
                   or 0)


def _race(monkeypatch: pytest.MonkeyPatch) -> None:
    """The other request inserts between this one's check and its insert: the check sees
    nothing."""
    monkeypatch.setattr(service, "find_outcome", lambda *args: None)


def test_a_typed_outcome_inserted_meanwhile_is_a_conflict(
        rt: Runtime, demo: Demo, monkeypatch: pytest.MonkeyPatch) -> None:
    key = _key(rt, demo)
    with rt.session_factory() as s, UnitOfWork(s):
        service.record_outcome(s, key, now=rt.now(), **_fields(demo))
    _race(monkeypatch)
    with rt.session_factory() as s, pytest.raises(ConflictError):
        service.record_outcome(s, key, now=rt.now(), **_fields(demo))
    assert _count(rt) == 1


def test_a_computed_outcome_inserted_meanwhile_is_skipped_and_the_rest_kept(
        rt: Runtime, demo: Demo, monkeypatch: pytest.MonkeyPatch) -> None:
    key = _key(rt, demo)
    with rt.session_factory() as s, UnitOfWork(s):
        assert service.record_once(s, key, now=rt.now(), **_fields(demo)) is not None
        assert service.record_once(s, key, now=rt.now(), **_fields(demo)) is None
    _race(monkeypatch)
    with rt.session_factory() as s, UnitOfWork(s):
        org = s.get(Organisation, "derby-housing")
        assert org is not None
        org.name = "Derby Housing Options"  # the unit of work's other writes
        assert service.record_once(s, key, now=rt.now(), **_fields(demo)) is None
    assert _count(rt) == 1
    with rt.session_factory() as s:
        org = s.get(Organisation, "derby-housing")
        assert org is not None and org.name == "Derby Housing Options"
