"""The worker's job runner: named jobs on interval or daily triggers, run by APScheduler 3.x in
one process, never twice at once across processes, each run recorded.

A job is (name, trigger, function(session_factory, now) -> counts). One run of a recorded job:

1. take the job's lock, without waiting: on PostgreSQL a transaction-level advisory lock keyed
   on the job's name, held on a connection of its own for the whole run (a killed process's
   connection closes and the server frees the lock); on SQLite a row in `job_locks` claimed
   under the write lock (BEGIN IMMEDIATE), free again once its holder's process is gone (on
   this host, checked) or, for a holder on another host, once its lease ran out. Held by
   another runner: the run is skipped, logged only (no row).
2. under the lock, skip the run when a run of this job already finished `done` since its due
   time (the trigger's latest fire time at or before now), so two workers whose schedules fire
   together run it once per due time, and a worker started late catches up once.
3. do the work: the function commits its own units of work (each complete or not at all, and
   each idempotent: claims, once-only keys), so a run killed midway leaves no half-done unit
   and the next run does what is left, once.
4. write a `JobRun` row and, when a count is non-zero or the run failed, an audit event
   (`EventType.JOB_RUN`: job, counts, outcome and an error's kind; codes and numbers only).

The sealer is the exception (`recorded=False`): it runs every `poll` seconds under the audit
sequencer's own lock, writes no `JobRun` row and no audit event (its signed checkpoints are its
record, and an audit event per seal would give the next seal something to seal, for ever).

Errors are logged by their kind only, never their text (a database error's text can carry
statement parameters); a failed run is retried after a growing pause while the scheduler runs.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select, text, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from caseshare.audit import sequencer as audit_sequencer
from caseshare.audit import service as audit
from caseshare.audit.event_types import EventType
from caseshare.errors import AuditWriteError
from caseshare.jobs.models import JobLock, JobRun
from caseshare.uk_time import UK
from caseshare.unit_of_work import UnitOfWork

logger = logging.getLogger("caseshare.worker")

SessionFactory = Callable[[], Session]
Counts = Mapping[str, int]
JobFunction = Callable[[SessionFactory, datetime], Counts]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
LOCK_CLASS = 4242002  # the advisory lock space of jobs (the sequencer's lock is 4242001)
INTEGRITY_RETRY = 30.0  # seconds between attempts while the audit log fails its own checks
MAX_BACKOFF = 60.0


@dataclass(frozen=True)
class Every:
    """An interval trigger on a fixed grid from the epoch, so every worker's fires coincide."""

    seconds: float

    def trigger(self) -> IntervalTrigger:
        return IntervalTrigger(seconds=self.seconds, start_date=EPOCH, timezone=UTC)

    def due(self, now: datetime) -> datetime:
        """The latest fire time at or before `now`."""
        stamp = now.timestamp()
        return datetime.fromtimestamp(stamp - stamp % self.seconds, UTC)


@dataclass(frozen=True)
class DailyAt:
    """A cron trigger: every day at hour:minute, UK time."""

    hour: int
    minute: int = 0

    def trigger(self) -> CronTrigger:
        return CronTrigger(hour=self.hour, minute=self.minute, timezone=UK)

    def due(self, now: datetime) -> datetime:
        local = now.astimezone(UK)
        at = local.replace(hour=self.hour, minute=self.minute, second=0, microsecond=0)
        if at > local:
            at = (local - timedelta(days=1)).replace(hour=self.hour, minute=self.minute,
                                                     second=0, microsecond=0)
        return at.astimezone(UTC)


class Trigger(Protocol):
    def trigger(self) -> IntervalTrigger | CronTrigger: ...

    def due(self, now: datetime) -> datetime: ...


@dataclass(frozen=True)
class Job:
    """One scheduled job. `lease`: how long a SQLite lock row holds if its holder cannot be
    checked (another host; a holder on this host keeps it while its process lives); longer than
    the job ever takes."""

    name: str
    trigger: Trigger
    run: JobFunction
    recorded: bool = True
    lease: timedelta = timedelta(hours=1)


def worker_name() -> str:
    """host:pid of this process (JobRun.worker)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


@dataclass
class Runner:
    """Runs jobs: each once on demand (`run_job`, `run_all`) or on their triggers (`start`)."""

    session_factory: SessionFactory
    clock: Callable[[], datetime]
    jobs: Sequence[Job]
    poll: float = 0.5  # the first retry pause after a failure, doubled each time
    token: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    _failures: dict[str, int] = field(default_factory=dict)
    _scheduler: BackgroundScheduler | None = None

    @property
    def holder(self) -> str:
        return f"{worker_name()}:{self.token}"

    # -- one run ---------------------------------------------------------------------------

    def run_all(self, now: datetime | None = None) -> dict[str, str]:
        """Every job once, recorded jobs first and the sealer last (so it seals their audit
        events); job name -> outcome (done, failed, skipped, not_due)."""
        ordered = sorted(self.jobs, key=lambda j: not j.recorded)
        return {job.name: self.run_job(job, now) for job in ordered}

    def run_job(self, job: Job, now: datetime | None = None) -> str:
        """One run of `job` as the module says; its outcome. Never raises."""
        now = now or self.clock()
        if not job.recorded:
            return self._run_unrecorded(job, now)
        try:
            with self.lock(job) as held:
                if not held:
                    logger.info("%s: skipped (another worker holds its lock)", job.name)
                    return "skipped"
                if self._ran_since(job, job.trigger.due(now)):
                    return "not_due"
                outcome, counts, error = self._work(job, now)
                self._record(job, now, outcome, counts, error)
        except (SQLAlchemyError, AuditWriteError) as exc:  # the lock or the record failed
            self._failed(job, exc)
            return "failed"
        if outcome == "done":
            self._failures.pop(job.name, None)
        return outcome

    def _work(self, job: Job, now: datetime) -> tuple[str, dict[str, int], str | None]:
        try:
            counts = {k: int(v) for k, v in job.run(self.session_factory, now).items()}
        except Exception as exc:  # any error: logged and recorded by its kind only
            self._failed(job, exc)
            return "failed", {}, _kind(exc)
        if any(counts.values()):
            logger.info("%s: %s", job.name,
                        ", ".join(f"{k}={v}" for k, v in sorted(counts.items())))
        return "done", counts, None

    def _run_unrecorded(self, job: Job, now: datetime) -> str:
        try:
            job.run(self.session_factory, now)
        except audit_sequencer.LogIntegrityError as exc:
            # The message names event ids only; audit verify gives the whole account.
            logger.error("the audit log failed its checks; not sealing: %s. Run "
                         "`caseshare audit verify`", exc)
            self._retry(job, INTEGRITY_RETRY)
            return "failed"
        except Exception as exc:
            self._failed(job, exc)
            return "failed"
        self._failures.pop(job.name, None)
        return "done"

    def _ran_since(self, job: Job, due: datetime) -> bool:
        with self.session_factory() as s:
            found = s.scalar(select(JobRun.id).where(
                JobRun.job == job.name, JobRun.outcome == "done", JobRun.started_at >= due)
                .limit(1))
            s.rollback()
        return found is not None

    def _record(self, job: Job, started: datetime, outcome: str, counts: dict[str, int],
                error: str | None) -> None:
        finished = max(self.clock(), started)
        with self.session_factory() as s, UnitOfWork(s):
            s.add(JobRun(id=uuid.uuid4(), job=job.name, worker=worker_name(),
                         started_at=started, finished_at=finished, outcome=outcome,
                         counts={"error": error} if error else counts))
            if error or any(counts.values()):
                details: dict[str, Any] = {"job": job.name, "counts": counts, "outcome": outcome}
                if error:
                    details["error"] = error
                audit.write(s, audit.new_event(type=EventType.JOB_RUN, now=finished,
                                               decision="allow", details=details))

    def _failed(self, job: Job, exc: Exception) -> None:
        failures = self._failures.get(job.name, 0) + 1
        self._failures[job.name] = failures
        pause = min(self.poll * 2 ** failures, MAX_BACKOFF)
        what = ("database error" if isinstance(exc, SQLAlchemyError | AuditWriteError)
                else "failed")
        logger.warning("%s: %s (%s); retrying in %.1f s", job.name, what, _kind(exc), pause)
        self._retry(job, pause)

    # -- locks -----------------------------------------------------------------------------

    @contextmanager
    def lock(self, job: Job) -> Iterator[bool]:
        """`job`'s lock (the module's step 1), without waiting: yields whether it is held, and
        frees it on leaving. For work run by hand beside the worker, never at once with the
        worker's run of the same job (`caseshare retention run`)."""
        with self.session_factory() as s:
            if s.get_bind().dialect.name == "postgresql":
                key = zlib.crc32(job.name.encode()) - 2 ** 31  # into PostgreSQL's int4
                held = bool(s.scalar(text("SELECT pg_try_advisory_xact_lock(:c, :k)"),
                                     {"c": LOCK_CLASS, "k": key}))
                try:
                    yield held
                finally:
                    s.rollback()  # ends the transaction: the lock goes with it
                return
        if not self._claim_row(job):
            yield False
            return
        try:
            yield True
        finally:
            self._release_row(job)

    def _claim_row(self, job: Job) -> bool:
        real_now = datetime.now(UTC)
        with self.session_factory() as s, UnitOfWork(s):
            row = s.get(JobLock, job.name)  # the first statement: BEGIN IMMEDIATE came first
            if row is None:
                row = JobLock(job=job.name)
                s.add(row)
            elif row.holder and not _stale(row, real_now):
                return False
            row.holder, row.taken_at, row.lease_until = (self.holder, real_now,
                                                         real_now + job.lease)
        return True

    def _release_row(self, job: Job) -> None:
        with self.session_factory() as s, UnitOfWork(s):
            s.execute(update(JobLock).where(JobLock.job == job.name,
                                            JobLock.holder == self.holder)
                      .values(holder=None, lease_until=None))

    # -- on a schedule ---------------------------------------------------------------------

    def start(self) -> None:
        """Run every job on its trigger in background threads, each once at once too (a due
        time missed while no worker ran is caught up, once)."""
        scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(4)}, timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None})
        now = datetime.now(UTC)
        for job in self.jobs:
            scheduler.add_job(self.run_job, job.trigger.trigger(), args=[job], id=job.name,
                              name=job.name, next_run_time=now)
        self._scheduler = scheduler
        scheduler.start()

    def shutdown(self) -> None:
        """Stop the scheduler after the runs under way end."""
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=True)
            self._scheduler = None

    def _retry(self, job: Job, pause: float) -> None:
        """While scheduled, try a failed job again after `pause` seconds (once)."""
        scheduler = self._scheduler
        if scheduler is None or not scheduler.running:
            return
        scheduler.add_job(self.run_job, "date", args=[job], id=f"{job.name}:retry",
                          name=f"{job.name} (retry)", replace_existing=True,
                          run_date=datetime.now(UTC) + timedelta(seconds=pause))


def _kind(exc: BaseException) -> str:
    """An error's kind: the driver's own where SQLAlchemy wraps one (never the text)."""
    return type(getattr(exc, "orig", None) or exc).__name__[:64]


def _stale(row: JobLock, real_now: datetime) -> bool:
    """A lock row whose holder is gone. On this host the holder's process is checked and
    decides: a live holder keeps the lock however long it runs (the lease is never renewed), a
    dead one loses it at once. A holder on another host cannot be checked: its lease decides."""
    host, _, rest = (row.holder or "").partition(":")
    pid = rest.partition(":")[0]
    if host == socket.gethostname()[:40] and pid.isdigit():
        return not _alive(int(pid))
    return row.lease_until is not None and row.lease_until < real_now


def _alive(pid: int) -> bool:
    """Whether a process with this id runs on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def wait_until(stop: threading.Event) -> None:
    """Block until `stop` is set, waking now and then so signal handlers run promptly."""
    while not stop.wait(0.5):
        pass
