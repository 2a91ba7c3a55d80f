"""Test fixtures: the app on SQLite and on a real PostgreSQL server, a controllable clock,
the demo partnership, and tokens for its staff.

Integration and API tests take the `engine` parameter and run on both engines. PostgreSQL is a
throwaway server started from the installed binaries (tests/pg_server.py). Where the binaries are
missing the PostgreSQL half is skipped locally, but under CI (CI=true) that is a failure.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import settings as hypothesis_settings
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from caseshare import create_app, migrate
from caseshare.identity import service as identity
from caseshare.identity import tokens
from caseshare.runtime import Runtime
from tests.pg_server import PostgresServer, find_bindir
from tests.redis_server import FakeRedisServer, RedisMissingError, RedisServer, throwaway_redis

# Property tests check properties, not speed: Hypothesis's per-example deadline is a timing
# assertion, and on shared, loaded machines it fails tests that are right (speed is measured in
# bench/). Each test's own @settings still applies over this profile.
hypothesis_settings.register_profile("caseshare", deadline=None)
hypothesis_settings.load_profile("caseshare")

# Throwaway test databases need no flush to the disk at each commit, as the PostgreSQL test
# server runs with fsync=off; the app's default is FULL (tests/unit/app/test_sqlite_durability.py).
os.environ.setdefault("CASESHARE_SQLITE_SYNCHRONOUS", "NORMAL")

# The local SMTP server for the reminder tests (smtp_sink, smtp_channel).
pytest_plugins = ["tests.smtp_sink"]

ROOT = Path(__file__).resolve().parent.parent
START = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


@dataclass
class Clock:
    now: datetime = field(default=START)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer | None]:
    bindir = find_bindir()
    if bindir is None:
        yield None
        return
    server = PostgresServer(bindir)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer | FakeRedisServer]:
    """A throwaway Redis for the whole run (tests/redis_server.py); never skipped: fakeredis
    stands in where redis-server is not installed, except under CI, where that fails."""
    try:
        server = throwaway_redis()
    except RedisMissingError as exc:
        pytest.fail(str(exc))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def templates(pg_server: PostgresServer | None, tmp_path_factory: pytest.TempPathFactory) -> (
    dict[str, Any]
):
    """Migrate one template database per engine once; each test gets a fresh copy."""
    sqlite_template = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    migrate.upgrade(f"sqlite:///{sqlite_template}")
    out: dict[str, Any] = {"sqlite": sqlite_template}
    if pg_server is not None:
        admin = create_engine(pg_server.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("CREATE DATABASE caseshare_template"))
        admin.dispose()
        migrate.upgrade(pg_server.url("caseshare_template"))
        out["postgresql"] = pg_server
    return out


def _database_url(engine: str, templates: dict[str, Any], tmp_path: Path, *,
                  seeded: Seeded | None = None) -> str:
    """A fresh database for one test: a copy of the migrated template, or with `seeded`, of
    the one the demo was seeded into (SeededTemplates)."""
    if engine == "sqlite":
        target = tmp_path / "caseshare.db"
        source = templates["sqlite"] if seeded is None else seeded.sqlite_file
        assert source is not None
        shutil.copy(source, target)
        return f"sqlite:///{target}"
    server = _pg_server(templates)
    template = "caseshare_template" if seeded is None else SEEDED_PG
    name = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(server.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE {template}'))
    admin.dispose()
    return str(server.url(name))


def _pg_server(templates: dict[str, Any]) -> PostgresServer:
    server: PostgresServer | None = templates.get("postgresql")
    if server is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL binaries not found: the PostgreSQL run must not be skipped "
                        "in CI")
        pytest.skip("PostgreSQL binaries not installed (CI installs them)")
    return server


SEEDED_PG = "caseshare_seeded"
APP_CONFIG = {"ratelimit_default": "100000 per minute"}


@dataclass
class Seeded:
    """The demo seeded once into a copy of an engine's template: its database (a SQLite file,
    or the PostgreSQL database SEEDED_PG), the instance dir holding the keys it was sealed
    under, and the lines the seed printed."""

    instance: Path
    lines: list[str]
    sqlite_file: Path | None = None


class SeededTemplates:
    """Per engine, on first use: an app on a copy of the migrated template, with its own
    instance dir and the tests' default Clock(), seeded once, then shut down (a test's app on a
    copy of it is the same service restarted)."""

    def __init__(self, templates: dict[str, Any], where: Path) -> None:
        self._templates = templates
        self._where = where
        self._seeded: dict[str, Seeded] = {}

    def get(self, engine: str) -> Seeded:
        if engine not in self._seeded:
            self._seeded[engine] = self._seed(engine)
        return self._seeded[engine]

    def _seed(self, engine: str) -> Seeded:
        from caseshare.demo import seed

        where = self._where / engine
        where.mkdir()
        sqlite_file = None
        if engine == "sqlite":
            sqlite_file = where / "seeded.db"
            shutil.copy(self._templates["sqlite"], sqlite_file)
            url = f"sqlite:///{sqlite_file}"
        else:
            server = _pg_server(self._templates)
            admin = create_engine(server.url(), isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f"CREATE DATABASE {SEEDED_PG} TEMPLATE caseshare_template"))
            admin.dispose()
            url = str(server.url(SEEDED_PG))
        app = create_app({"instance_path": where / "instance", "database_url": url,
                          "clock": Clock(), **APP_CONFIG})
        rt: Runtime = app.extensions["caseshare"]
        try:
            with rt.session_factory() as s:
                lines = list(seed(s, rt))
        finally:
            rt.engine.dispose()
        if sqlite_file is not None:
            # The last connection closed checkpoints the WAL into the file and removes it.
            leftovers = [p.name for p in where.glob("seeded.db-*")]
            assert not leftovers, f"the seeded SQLite file is incomplete: {leftovers}"
        return Seeded(instance=where / "instance", lines=lines, sqlite_file=sqlite_file)


@pytest.fixture(scope="session")
def seeded_templates(templates: dict[str, Any],
                     tmp_path_factory: pytest.TempPathFactory) -> SeededTemplates:
    """The demo seeded once per engine (per worker), lazily: see SeededTemplates."""
    return SeededTemplates(templates, tmp_path_factory.mktemp("seeded-template"))


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(request: pytest.FixtureRequest, engine: str, templates: dict[str, Any],
        seeded_templates: SeededTemplates, tmp_path: Path, clock: Clock) -> Iterator[Flask]:
    """The app on a fresh copy of the migrated template; for a test that asks for `demo` (and
    has not moved the clock yet), on a copy of the seeded template with its keys instead, so
    that `demo` does not seed again."""
    instance = tmp_path / "instance"
    seeded = None
    if "demo" in request.fixturenames and clock.now == START:
        seeded = seeded_templates.get(engine)
        shutil.copytree(seeded.instance, instance)
    url = _database_url(engine, templates, tmp_path, seeded=seeded)
    app = create_app({"instance_path": instance, "database_url": url, "clock": clock,
                      **APP_CONFIG})
    app.config["TESTING"] = True
    if seeded is not None:
        app.config["CASESHARE_TEST_SEEDED"] = seeded.lines
    yield app
    app.extensions["caseshare"].engine.dispose()


@pytest.fixture
def rt(app: Flask) -> Runtime:
    runtime: Runtime = app.extensions["caseshare"]
    return runtime


@pytest.fixture
def session(rt: Runtime) -> Iterator[Session]:
    with rt.session_factory() as s:
        yield s


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@dataclass
class Demo:
    lee: uuid.UUID
    kerry: uuid.UUID
    lines: list[str]


@pytest.fixture
def demo(app: Flask, rt: Runtime) -> Demo:
    """The demo partnership: already in the database when the app was made from the seeded
    template (the default `app`), otherwise seeded now."""
    lines: list[str] | None = app.config.get("CASESHARE_TEST_SEEDED")
    if lines is not None:
        if rt.now() != START:
            pytest.fail("The clock moved between the app and `demo`, but the demo was seeded "
                        f"at {START}: request `demo` before moving the clock.")
        lines = list(lines)
    else:
        from caseshare.demo import seed

        with rt.session_factory() as s:
            lines = list(seed(s, rt))
    ids = [uuid.UUID(line.split()[3]) for line in lines if line.startswith("claimant:")]
    return Demo(lee=ids[0], kerry=ids[1], lines=lines)


def issue_token(rt: Runtime, email: str, *, ttl: int = 900, now: datetime | None = None,
                scopes: set[str] | None = None) -> str:
    """A bearer token for the staff member, with their roles' scopes unless `scopes` says
    which (as a partner client's token may carry other scopes than the role's)."""
    with rt.session_factory() as s:
        staff = identity.get_staff_by_email(s, email)
        token, _claims = tokens.issue(
            rt.token_keys, issuer=rt.settings.issuer, audience=rt.settings.audience,
            subject=str(staff.id), client_id="tests", org=staff.org_id, roles=staff.roles,
            scopes=identity.scopes_for(staff.roles) if scopes is None else scopes,
            purposes=identity.purposes_for(rt.protocols, staff.org_id, staff.roles),
            actor_type="staff", now=now or rt.now(), ttl_seconds=ttl,
            epoch=staff.credentials_epoch,
        )
    return token


COACH = "sam.okafor@jcp-derby.example"
HOUSING = "priya.sharma@derby-housing.example"
KEY_WORKER = "dan.whitfield@recovery-partnership.example"
ADVISER = "aisha.begum@ca-derby.example"
IG = "grace.hughes@derby-housing.example"


@pytest.fixture
def auth(rt: Runtime, demo: Demo) -> Any:
    """auth(email) -> headers with a fresh bearer token for that demo staff member."""

    def headers(email: str, **kw: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {issue_token(rt, email, **kw)}"}

    return headers
