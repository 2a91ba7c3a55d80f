"""Two sessions update the same entry version at once: one wins, the other gets a clean
conflict (never a 500, never a silent overwrite), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from caseshare.access import pipeline
from caseshare.access.context import RequestContext
from caseshare.case_plan.models import PlanEntry, PlanEntryVersion
from caseshare.case_plan.service import EditConflictError, entry_etag
from caseshare.demo import _ctx
from caseshare.errors import ConflictError
from caseshare.identity.service import get_staff_by_email
from caseshare.runtime import Runtime
from tests.conftest import COACH, Demo


def _coach_ctx(s: Session, rt: Runtime) -> RequestContext:
    return _ctx(s, rt, get_staff_by_email(s, COACH), "case_management")


def test_concurrent_update_of_the_same_version_loses_cleanly(
    app: Flask, rt: Runtime, demo: Demo
) -> None:
    with rt.session_factory() as s:
        entry = s.scalars(select(PlanEntry).where(PlanEntry.subject_id == demo.lee,
                                                  PlanEntry.category == "employment")).first()
        assert entry is not None
        entry_id, etag = entry.id, entry_etag(entry)

    with rt.session_factory() as a, rt.session_factory() as b:
        ctx_b = _coach_ctx(b, rt)
        # B has read version 1 (its transaction and identity map hold it) ...
        loaded = b.get(PlanEntry, entry_id)
        assert loaded is not None and entry_etag(loaded) == etag
        # ... when A saves its change to version 1 and commits.
        pipeline.update_plan_entry(_coach_ctx(a, rt), demo.lee, entry_id, etag,
                                   {"title": "A's title"})
        # B passed the If-Match check against what it read; the write itself must lose.
        with pytest.raises(ConflictError) as raised:
            pipeline.update_plan_entry(ctx_b, demo.lee, entry_id, etag, {"title": "B's title"})
        assert isinstance(raised.value, EditConflictError)
        assert raised.value.status == 409

    with rt.session_factory() as s:
        row = s.get(PlanEntry, entry_id)
        assert row is not None and row.version == 2
        versions = s.scalars(select(PlanEntryVersion.version)
                             .where(PlanEntryVersion.entry_id == entry_id)).all()
        assert sorted(versions) == [1, 2]  # the loser left no history row behind
    with app.test_request_context():
        # The conflict maps to problem+json through the one error table, not a 500.
        response = app.handle_user_exception(raised.value)
        assert response.status_code == 409
        assert response.mimetype == "application/problem+json"

