"""PostgreSQL's pool checks a connection with a round trip only when it has been idle
(caseshare/db.py, PING_AFTER_IDLE_S): an idle connection the server dropped is replaced without
a failed request; one used moments ago is not checked, so if the server drops it in that moment
one request fails closed and the pool reconnects for the next."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError

from caseshare import db
from tests.conftest import _database_url


@pytest.fixture
def pg_engine(templates: dict[str, Any], tmp_path: Path) -> Iterator[Engine]:
    url = _database_url("postgresql", templates, tmp_path)
    engine = db.make_engine(url)
    yield engine
    engine.dispose()


def backend_pid(engine: Engine) -> int:
    with engine.connect() as conn:
        pid: int = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    return pid


def terminate(engine: Engine, pid: int) -> None:
    """Drop one server connection, as a server restart or a network cut would."""
    admin = create_engine(engine.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
    admin.dispose()


def test_an_idle_connection_the_server_dropped_is_replaced(
    pg_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "PING_AFTER_IDLE_S", 0.0)  # every pooled connection counts as idle
    pid = backend_pid(pg_engine)
    terminate(pg_engine, pid)
    assert backend_pid(pg_engine) != pid  # no error: the ping found it dead


def test_a_connection_used_moments_ago_is_not_pinged(
    pg_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "PING_AFTER_IDLE_S", 3600.0)  # nothing counts as idle
    pid = backend_pid(pg_engine)
    terminate(pg_engine, pid)
    with pytest.raises(DBAPIError) as failed, pg_engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    assert failed.value.connection_invalidated  # so the pool starts afresh
    assert backend_pid(pg_engine) != pid
