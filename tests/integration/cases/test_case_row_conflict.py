"""Two transactions creating the same claimant's case row (each read none): the second insert
collides on the primary key and is a conflict to retry (409), not a 500. The use cases lock
the subject row first, so this is the safety net under that rule."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask

from caseshare.cases import service as cases
from caseshare.errors import ConflictError
from caseshare.runtime import Runtime
from tests.builders import register
from tests.conftest import COACH


def test_a_second_insert_of_the_case_row_is_a_conflict(
    app: Flask, rt: Runtime, auth: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    subject = uuid.UUID(register(app.test_client(), auth(COACH)))
    now = datetime.now(UTC)
    with rt.session_factory() as s:
        cases.get_or_create(s, subject, now)
        s.commit()
    with rt.session_factory() as s:
        # This transaction read no row before the other one committed its own.
        monkeypatch.setattr(cases, "find_case", lambda _session, _id: None)
        with pytest.raises(ConflictError):
            cases.get_or_create(s, subject, now)
