"""Personal data at rest is sealed: the database holds no plaintext, and ciphertext moved
between fields or subjects does not open."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select, update

from caseshare.case_plan.models import PlanEntry
from caseshare.runtime import Runtime
from caseshare.subjects.models import Subject
from tests.builders import assert_problem
from tests.conftest import COACH, Demo


def _raw_dump(rt: Runtime) -> bytes:
    with rt.engine.connect() as conn:
        rows: list[Any] = []
        for table in ("subjects", "plan_entries", "audit_events"):
            rows += conn.exec_driver_sql(f"SELECT * FROM {table}").fetchall()  # noqa: S608
    return repr(rows).encode()


def test_database_rows_contain_no_plaintext(rt: Runtime, demo: Demo) -> None:
    dump = _raw_dump(rt)
    for secret in (b"Marsh", b"QQ123456C", b"DE1 2AA", b"recovery group", b"arrears",
                   b"1987-03-14"):
        assert secret not in dump


def test_swapping_sealed_values_between_fields_or_subjects_fails_closed(
    client: FlaskClient, auth: Any, rt: Runtime, demo: Demo
) -> None:
    with rt.session_factory() as s:
        lee = s.get(Subject, demo.lee)
        kerry = s.get(Subject, demo.kerry)
        assert lee is not None and kerry is not None
        # Move Kerry's sealed family name into Lee's record, and Lee's title into his detail.
        s.execute(update(Subject).where(Subject.id == demo.lee)
                  .values(family_name=kerry.family_name))
        entry = s.scalars(select(PlanEntry).where(PlanEntry.subject_id == demo.lee)
                          .where(PlanEntry.category == "employment")).first()
        assert entry is not None
        s.execute(update(PlanEntry).where(PlanEntry.id == entry.id).values(detail=entry.title))
        s.commit()
    r = client.get(f"/api/v1/subjects/{demo.lee}?purpose=case_management", headers=auth(COACH))
    assert_problem(r, 500)
    assert "Dunn" not in r.get_data(as_text=True)
    r = client.get(f"/api/v1/subjects/{demo.lee}/case-plan?purpose=case_management",
                   headers=auth(COACH))
    assert r.status_code == 500
    assert "work placement" not in r.get_data(as_text=True)
