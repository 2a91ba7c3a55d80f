"""The SQLite job lock (caseshare/jobs/runner.py `_stale`): a holder on this host keeps the lock
while its process lives, even past its lease (never renewed), and loses it once its process is
gone, even within the lease (review finding 8). PostgreSQL's advisory lock has no row."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from caseshare.jobs.models import JobLock
from caseshare.jobs.runner import Every, Job, Runner, worker_name
from caseshare.runtime import Runtime
from tests.conftest import Clock


def _nothing(_sf: Any, _now: datetime) -> dict[str, int]:
    return {}


def _held_by(rt: Runtime, job: Job, holder: str, lease_until: datetime) -> None:
    with rt.session_factory() as s:
        s.add(JobLock(job=job.name, holder=holder, taken_at=lease_until - timedelta(hours=2),
                      lease_until=lease_until))
        s.commit()


def _dead_pid() -> int:
    done = subprocess.Popen([sys.executable, "-c", "pass"])
    done.wait()
    return done.pid


@pytest.mark.parametrize("alive", [True, False])
def test_this_hosts_holder_decides_by_its_process_not_its_lease(
    engine: str, rt: Runtime, clock: Clock, alive: bool
) -> None:
    if engine != "sqlite":
        pytest.skip("the job_locks row is SQLite's lock")
    job = Job("probe", Every(3600), _nothing)
    host = worker_name().rpartition(":")[0]
    real_now = datetime.now(UTC)
    if alive:  # this very process, another runner's token, its lease long run out
        _held_by(rt, job, f"{worker_name()}:othertoken", real_now - timedelta(hours=1))
    else:  # a process that has exited, its lease still running
        _held_by(rt, job, f"{host}:{_dead_pid()}:othertoken", real_now + timedelta(hours=1))
    runner = Runner(session_factory=rt.session_factory, clock=clock, jobs=[job])
    with runner.lock(job) as held:
        assert held is (not alive)


def test_another_hosts_holder_keeps_the_lock_until_its_lease_runs_out(
    engine: str, rt: Runtime, clock: Clock
) -> None:
    if engine != "sqlite":
        pytest.skip("the job_locks row is SQLite's lock")
    job = Job("probe", Every(3600), _nothing)
    _held_by(rt, job, "elsewhere:1:othertoken", datetime.now(UTC) + timedelta(hours=1))
    runner = Runner(session_factory=rt.session_factory, clock=clock, jobs=[job])
    with runner.lock(job) as held:
        assert not held
    with rt.session_factory() as s:
        row = s.get(JobLock, job.name)
        assert row is not None
        row.lease_until = datetime.now(UTC) - timedelta(seconds=1)
        s.commit()
    with runner.lock(job) as held:
        assert held
