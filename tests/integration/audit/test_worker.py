"""`flask --app wsgi caseshare worker` seals continuously: started as a subprocess against the
test database (SQLite and PostgreSQL), it integrates an event made by an API request within
about a second, two of them at once never give one event two positions, and SIGTERM stops them
cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from caseshare.audit.models import AuditEvent, Checkpoint
from caseshare.runtime import Runtime
from tests.audit_helpers import events
from tests.conftest import ROOT, Demo

# Generous for a loaded CI machine (the worker polls every 0.2 s here); see `lag` below for what
# is measured. The worker process itself takes a few seconds to import the app.
DEADLINE = 30.0


def _env(rt: Runtime) -> dict[str, str]:
    return {**os.environ, "CASESHARE_INSTANCE_PATH": str(rt.settings.instance_path),
            "CASESHARE_DATABASE_URL": str(rt.settings.database_url)}


@pytest.fixture
def start_worker(rt: Runtime) -> Iterator[Any]:
    started: list[subprocess.Popen[str]] = []

    def start() -> subprocess.Popen[str]:
        worker = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "caseshare", "worker", "--poll",
             # The sealer only: the app's test clock lags the worker's real one, and the
             # other jobs' audit events, stamped now, would make later test events back-dated.
             "0.2", "--only", "seal"], cwd=ROOT, env=_env(rt), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if worker.poll() is None:
            worker.kill()
        worker.wait()


def _wait_until_started(worker: subprocess.Popen[str]) -> None:
    assert worker.stderr is not None
    deadline = time.time() + DEADLINE
    line = ""
    while "worker started" not in line:
        assert time.time() < deadline and worker.poll() is None, "the worker did not start"
        line = worker.stderr.readline()


def _wait_sealed(rt: Runtime, event_id: int) -> float:
    start = time.time()
    while True:
        with rt.session_factory() as s:
            seq = s.scalar(select(AuditEvent.seq).where(AuditEvent.id == event_id))
        if seq is not None:
            return time.time() - start
        assert time.time() - start < DEADLINE, "the worker never integrated the event"
        time.sleep(0.05)


def _read(client: FlaskClient, auth: Any, demo: Demo) -> AuditEvent:
    """A case plan read through the API; its audit event (the read's last)."""
    rt = rt_of(client)
    before = events(rt)[-1].id
    response = client.get(f"/api/v1/subjects/{demo.lee}/case-plan?purpose=case_management",
                          headers=auth("sam.okafor@jcp-derby.example"))
    assert response.status_code == 200, response.get_json()
    made = [e for e in events(rt) if e.id > before]
    assert made and all(e.type.startswith("case_plan:") for e in made), made
    return made[-1]


def rt_of(client: FlaskClient) -> Runtime:
    runtime: Runtime = client.application.extensions["caseshare"]
    return runtime


def _verify(app: Flask) -> str:
    result = app.test_cli_runner().invoke(args=["caseshare", "audit", "verify"])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_the_worker_seals_an_api_event_within_about_a_second(
    app: Flask, rt: Runtime, client: FlaskClient, auth: Any, demo: Demo, start_worker: Any
) -> None:
    worker = start_worker()
    _wait_until_started(worker)
    _wait_sealed(rt, events(rt)[-1].id)  # the demo's backlog first
    lags = []
    for _ in range(3):
        read = _read(client, auth, demo)
        assert read.event_mac is not None
        lags.append(_wait_sealed(rt, read.id))
    # Within about a second (poll 0.2 s); the median, so one slow moment on a busy machine
    # does not decide it.
    assert sorted(lags)[1] < 2.0, lags
    with rt.session_factory() as s:
        size = s.scalar(select(func.max(Checkpoint.tree_size)))
        assert size == s.scalar(select(func.count()).select_from(AuditEvent))
    assert _verify(app).startswith("OK:")
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=DEADLINE) == 0
    assert worker.stderr is not None and "worker stopped" in worker.stderr.read()


def test_two_workers_at_once_give_every_event_one_position(
    app: Flask, rt: Runtime, client: FlaskClient, auth: Any, demo: Demo, start_worker: Any
) -> None:
    workers = [start_worker(), start_worker()]
    for worker in workers:
        _wait_until_started(worker)
    for _ in range(6):
        last = _read(client, auth, demo)
        time.sleep(0.1)
    _wait_sealed(rt, last.id)
    with rt.session_factory() as s:
        seqs = list(s.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)))
    assert seqs == list(range(len(seqs))), "an event was skipped or doubled"
    assert _verify(app).startswith(f"OK: {len(seqs)} events")
    for worker in workers:
        worker.send_signal(signal.SIGINT)
    for worker in workers:
        assert worker.wait(timeout=DEADLINE) == 0
        assert worker.stderr is not None
        err = worker.stderr.read()
        assert "Traceback" not in err, err


def test_the_worker_survives_a_database_error_and_logs_no_personal_data(
    rt: Runtime, demo: Demo, clock: Any, caplog: pytest.LogCaptureFixture
) -> None:
    import logging
    import threading

    from sqlalchemy.exc import OperationalError

    from caseshare.jobs.worker import Worker

    calls = 0

    def flaky() -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:  # the database is away for a moment, with personal data in the error
            raise OperationalError("SELECT 'QQ123456C'", {"nino": "QQ123456C"},
                                   ConnectionError("server closed the connection QQ123456C"))
        return rt.session_factory()

    job = Worker(session_factory=flaky, signer=rt.audit_signer, clock=clock, poll=0.01)
    caplog.set_level(logging.INFO, logger="caseshare.worker")
    thread = threading.Thread(target=job.run)
    thread.start()
    try:
        _wait_sealed(rt, events(rt)[-1].id)
    finally:
        job.stop.set()
        thread.join(timeout=DEADLINE)
    assert not thread.is_alive()
    assert "database error (ConnectionError); retrying" in caplog.text
    assert "sealed: tree_size=" in caplog.text and "worker stopped" in caplog.text
    assert "QQ123456C" not in caplog.text


def test_worker_once_seals_and_exits(app: Flask, rt: Runtime, demo: Demo) -> None:
    result = app.test_cli_runner().invoke(args=["caseshare", "worker", "--once"])
    assert result.exit_code == 0, result.output
    with rt.session_factory() as s:
        assert s.scalar(select(func.count()).where(AuditEvent.seq.is_(None))) == 0
    assert _verify(app).startswith("OK:")
