"""An audited plan read on SQLite reads from a snapshot without the write lock, and writes its
audit events in a short transaction of their own at commit, so two workers' reads no longer
queue behind each other for the whole request. Nothing leaves before that commit."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from sqlalchemy import func, select

from caseshare.access.context import RequestContext
from caseshare.access.principal import authenticate
from caseshare.audit.models import AuditEvent
from caseshare.demo import _ctx
from caseshare.identity.service import get_staff_by_email
from caseshare.runtime import Runtime
from caseshare.subjects import service as subjects
from tests.audit_helpers import events
from tests.conftest import COACH, Demo, issue_token


@pytest.fixture
def sqlite_only(engine: str) -> None:
    if engine != "sqlite":
        pytest.skip("PostgreSQL reads take no lock: the read snapshot is SQLite's")


@contextmanager
def coach_context(rt: Runtime) -> Iterator[RequestContext]:
    with rt.session_factory() as s:
        ctx = _ctx(s, rt, get_staff_by_email(s, COACH), "case_management")
        s.commit()  # a snapshot can only begin a transaction, not join one
        yield ctx


@contextmanager
def other_worker(rt: Runtime) -> Iterator[sqlite3.Connection]:
    """A second connection to the database file, as the other gunicorn worker holds. A zero
    busy timeout: if the write lock is held, BEGIN IMMEDIATE fails at once."""
    path = rt.engine.url.database
    assert path is not None
    conn = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        yield conn
    finally:
        conn.close()


def test_another_worker_can_write_while_a_read_is_under_way(
    app: Flask, rt: Runtime, demo: Demo, sqlite_only: None
) -> None:
    with coach_context(rt) as ctx, other_worker(rt) as other:
        ctx.read_from_snapshot()
        assert subjects.find_subject_with_facts(ctx.session, demo.lee) is not None
        other.execute("BEGIN IMMEDIATE")  # "database is locked" if the read held the lock
        other.execute("COMMIT")


def test_held_events_commit_after_another_worker_wrote_mid_read(
    app: Flask, rt: Runtime, demo: Demo, sqlite_only: None
) -> None:
    # Writing into the snapshot itself would fail here (SQLITE_BUSY_SNAPSHOT: the database
    # moved on since the snapshot began), and the read would end in a 503.
    before = len(events(rt, type="access:decision:explain"))
    with coach_context(rt) as ctx, other_worker(rt) as other:
        ctx.read_from_snapshot()
        assert subjects.find_subject_with_facts(ctx.session, demo.lee) is not None
        other.execute("BEGIN IMMEDIATE")
        other.execute("CREATE TABLE another_worker_was_here (x)")  # any change will do
        other.execute("COMMIT")
        ctx.audit("access:decision:explain", subject_id=demo.lee, outcome="allow")
        held = other.execute("SELECT count(*) FROM audit_events "
                             "WHERE type = 'access:decision:explain'")
        assert held.fetchone() == (before,)  # held, not yet written
        ctx.commit()
    assert len(events(rt, type="access:decision:explain")) == before + 1


def test_without_a_snapshot_events_go_into_the_transaction(
    app: Flask, rt: Runtime, demo: Demo
) -> None:
    # Both engines: a unit of work that did not declare itself read-only writes its events in
    # its own transaction, committed with its changes.
    with coach_context(rt) as ctx:
        ctx.audit("operations:database:backup", subject_id=demo.lee, outcome="allow")
        written = ctx.session.scalar(select(func.count()).select_from(AuditEvent)
                                     .where(AuditEvent.type == "operations:database:backup"))
        assert written == 1  # in the transaction already, not held for later
        ctx.session.rollback()
    assert events(rt, type="operations:database:backup") == []


def test_checking_a_token_leaves_no_transaction_holding_the_lock(
    app: Flask, rt: Runtime, demo: Demo, sqlite_only: None
) -> None:
    # A token the worker has not seen is checked against the directory. Those reads must not
    # leave the request inside a transaction holding the write lock: the read that follows
    # could then not begin its own snapshot, and the two workers would queue again.
    token = issue_token(rt, COACH)
    with rt.session_factory() as s, other_worker(rt) as other:
        principal = authenticate(s, f"Bearer {token}", keys=rt.token_keys.key_set(),
                                 issuer=rt.settings.issuer, audience=rt.settings.audience,
                                 now=rt.now())
        assert not s.in_transaction()
        other.execute("BEGIN IMMEDIATE")  # "database is locked" if the check held the lock
        other.execute("COMMIT")
        assert principal.org == get_staff_by_email(s, COACH).org_id
