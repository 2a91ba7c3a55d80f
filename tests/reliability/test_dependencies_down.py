"""Fail closed when a dependency is missing, and recover by itself when it returns."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from caseshare import create_app, migrate
from caseshare.runtime import Runtime
from tests.builders import assert_problem
from tests.conftest import COACH, Clock, Demo, issue_token
from tests.pg_server import PostgresServer, find_bindir

SECRETS = ("recovery group", "work placement", "arrears", "Marsh")


def _no_case_data(text_: str) -> None:
    for secret in SECRETS:
        assert secret not in text_


def test_missing_keyring_gives_503_without_plaintext_and_an_operator_log_line(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    headers = auth(COACH)
    keyring = Path(rt.settings.keyring_path)
    hidden = keyring.with_suffix(".away")
    keyring.rename(hidden)
    try:
        with caplog.at_level(logging.WARNING):
            r = client.get(f"/api/v1/subjects/{demo.lee}/case-plan?purpose=case_management",
                           headers=headers)
        assert_problem(r, 503)
        assert r.json["type"].endswith("/key-unavailable")
        _no_case_data(r.get_data(as_text=True))
        assert any("key-unavailable" in rec.getMessage() for rec in caplog.records)
        assert not any(str(keyring) in rec.getMessage() and "base64" in rec.getMessage()
                       for rec in caplog.records)
    finally:
        hidden.rename(keyring)
    again = client.get(f"/api/v1/subjects/{demo.lee}/case-plan?purpose=case_management",
                       headers=headers)
    assert again.status_code == 200


@pytest.fixture
def own_pg(tmp_path: Path) -> Iterator[PostgresServer]:
    """A PostgreSQL server of this test's own, so it can be stopped and started again."""
    bindir = find_bindir()
    if bindir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL binaries not found: must not be skipped in CI")
        pytest.skip("PostgreSQL binaries not installed")
    server = PostgresServer(bindir)
    server.start()
    yield server
    server.stop()


def test_database_down_gives_503_then_recovers_by_itself(
    own_pg: PostgresServer, tmp_path: Path, clock: Clock
) -> None:
    admin = create_engine(own_pg.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("CREATE DATABASE caseshare"))
    admin.dispose()
    url = own_pg.url("caseshare")
    migrate.upgrade(url)
    app = create_app({"instance_path": tmp_path / "instance", "database_url": url,
                      "clock": clock, "ratelimit_default": "100000 per minute"})
    rt: Runtime = app.extensions["caseshare"]
    from caseshare.demo import seed

    with rt.session_factory() as s:
        lines = list(seed(s, rt))
    lee = next(line.split()[3] for line in lines if line.startswith("claimant: Lee"))
    client = app.test_client()
    headers = {"Authorization": f"Bearer {issue_token(rt, COACH)}"}
    url_plan = f"/api/v1/subjects/{lee}/case-plan?purpose=case_management"
    assert client.get(url_plan, headers=headers).status_code == 200

    own_pg._run("pg_ctl", "-D", str(own_pg.datadir), "-m", "fast", "stop")
    down = client.get(url_plan, headers=headers)
    assert_problem(down, 503)
    _no_case_data(down.get_data(as_text=True))
    assert client.get("/healthz").status_code == 503

    own_pg.start_again()
    back = client.get(url_plan, headers=headers)
    assert back.status_code == 200
    assert client.get("/healthz").status_code == 200

    # Read-only (e.g. a failover in progress): the audit event cannot be written, so nothing
    # is disclosed; when writes return, so does service.
    _set_read_only(admin_url=own_pg.url(), database="caseshare", on=True)
    rt.engine.dispose()
    read_only = client.get(url_plan, headers=headers)
    assert read_only.status_code == 503
    _no_case_data(read_only.get_data(as_text=True))
    _set_read_only(admin_url=own_pg.url(), database="caseshare", on=False)
    rt.engine.dispose()
    assert client.get(url_plan, headers=headers).status_code == 200
    rt.engine.dispose()


def _set_read_only(*, admin_url: str, database: str, on: bool) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{database}" SET default_transaction_read_only = '
                          f'{"on" if on else "off"}'))
    admin.dispose()
