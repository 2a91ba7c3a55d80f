"""The background worker (`flask --app wsgi caseshare worker`): its jobs, run by the job runner
(caseshare/jobs/runner.py, on APScheduler) until SIGTERM or SIGINT. `Worker` is the facade the
CLI and the tests use.

| job | when | what |
|---|---|---|
| seal | every `poll` s | integrate pending audit events and sign a checkpoint (not recorded) |
| purge_revocations | hourly | drop expired token revocations and job runs older than 90 days |
| referrals_overdue | every minute | tell receivers of referrals past their response standard |
| appointment_reminders | every minute | send due reminders to claimants (outbound channel) |
| consent_expiring | hourly | remind the lead worker 30 and 7 days before a consent ends |
| override_review_overdue | every 15 min | remind IG officers of overdue override reviews |
| protocol_review | daily 07:00 UK | remind every party's IG officers of a protocol review date |
| retention | daily 02:30 UK | the retention pass (caseshare.jobs.retention.run_pass) |

Any number of workers may run: each job's lock and its due time make one run per due time
across them; the sealer's lock is the audit sequencer's (one seal at a time, each event one
position). Errors are logged by their kind only.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import FrameType

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from caseshare.audit import checkpoints as audit_checkpoints
from caseshare.audit import signer as audit_signer
from caseshare.audit.models import AuditEvent, Checkpoint
from caseshare.case_plan import referral_overdue
from caseshare.crypto.keyring import KeyProvider
from caseshare.identity import revocation
from caseshare.jobs import retention, staff_reminders
from caseshare.jobs.models import JobRun
from caseshare.jobs.reminders import ReminderJob
from caseshare.jobs.runner import DailyAt, Every, Job, Runner, wait_until
from caseshare.outbound.channel import Channel
from caseshare.policy.models import ProtocolSet
from caseshare.unit_of_work import UnitOfWork

logger = logging.getLogger("caseshare.worker")

PURGE_EVERY = 3600.0  # seconds between purges of expired token revocations
JOB_RUNS_KEPT = timedelta(days=90)
REMINDER_ROUNDS = 10  # appointment reminder rounds (of ReminderJob.batch) per run at most


@dataclass
class Worker:
    session_factory: Callable[[], Session]
    signer: audit_signer.AuditSigner
    clock: Callable[[], datetime]
    poll: float = 0.5
    purge_every: float = PURGE_EVERY
    stop: threading.Event = field(default_factory=threading.Event)
    reminders: ReminderJob | None = None  # appointment reminders (None: no outbound channel)
    protocols: ProtocolSet | None = None  # None: no protocol review or retention jobs
    keyring: KeyProvider | None = None
    # Staff reminder e-mails (the SMTP channel only; None: notifications in the pages only).
    staff_channel: Channel | None = None
    only: frozenset[str] = frozenset()  # run only these jobs (empty: all)

    # -- the jobs' work --------------------------------------------------------------------

    def seal_once(self) -> Checkpoint | None:
        """Integrate whatever is pending and sign a checkpoint; None when nothing was."""
        with self.session_factory() as s:
            waiting = s.scalar(select(AuditEvent.id).where(AuditEvent.seq.is_(None)).limit(1))
            s.rollback()  # the sealer's own transaction must start with its lock
            if waiting is None:
                return None
            before = audit_checkpoints.latest_checkpoint(s)
            size = before.tree_size if before is not None else 0
            s.rollback()
            checkpoint = audit_checkpoints.seal(s, self.signer, self.clock())
        if checkpoint is None or checkpoint.tree_size == size:
            return None
        logger.info("sealed: tree_size=%d integrated=%d", checkpoint.tree_size,
                    checkpoint.tree_size - size)
        return checkpoint

    def purge_once(self) -> int:
        """Drop expired token revocations (and old job runs); how many revocations went."""
        now = self.clock()
        with self.session_factory() as s, UnitOfWork(s):
            purged = revocation.purge_expired(s, now=now)
            s.execute(delete(JobRun).where(JobRun.finished_at < now - JOB_RUNS_KEPT))
        if purged:
            logger.info("purged %d expired token revocation(s)", purged)
        return purged

    def referrals_overdue_once(self) -> int:
        """Notify the receivers of referrals that became overdue (each once only)."""
        with self.session_factory() as s, UnitOfWork(s):
            notified = referral_overdue.notify_overdue(s, now=self.clock())
        if notified:
            logger.info("notified %d overdue referral(s)", notified)
        return notified

    # -- as jobs ---------------------------------------------------------------------------

    def jobs(self, *, every: bool = False) -> list[Job]:
        """The worker's jobs (caseshare/jobs/runner.py runs them; the module's table), only
        those in `only` where it names some, unless `every`."""
        def every_time(work: Callable[[], object], count: str) -> Callable[..., dict[str, int]]:
            def run(_sf: object, _now: datetime) -> dict[str, int]:
                done = work()
                return {count: done if isinstance(done, int) else int(done is not None)}
            return run

        channel = self.staff_channel
        jobs = [
            # Not recorded: its checkpoints are its record, and an audit event (or a row) per
            # seal would give the next seal something to seal, for ever (runner.py).
            Job("seal", Every(self.poll), every_time(self.seal_once, "sealed"), recorded=False),
            Job("purge_revocations", Every(self.purge_every),
                every_time(self.purge_once, "purged")),
            Job("referrals_overdue", Every(60),
                every_time(self.referrals_overdue_once, "notified")),
            Job("consent_expiring", Every(3600),
                staff_reminders.job(staff_reminders.consent_expiring, channel)),
            Job("override_review_overdue", Every(900),
                staff_reminders.job(staff_reminders.override_review_overdue, channel)),
        ]
        if self.reminders is not None:
            jobs.append(Job("appointment_reminders", Every(60), self._appointment_reminders))
        if self.protocols is not None:
            protocols = self.protocols
            jobs.append(Job("protocol_review", DailyAt(7, 0), staff_reminders.job(
                lambda s, now: staff_reminders.protocol_review(s, protocols, now), channel)))
            if self.keyring is not None:
                jobs.append(retention.job(protocols, self.keyring))
        return [job for job in jobs if every or not self.only or job.name in self.only]

    def _appointment_reminders(self, _sf: object, _now: datetime) -> dict[str, int]:
        assert self.reminders is not None
        counts: dict[str, int] = {}
        for _ in range(REMINDER_ROUNDS):
            outcomes = self.reminders.run_once()
            for key, value in outcomes.items():
                counts[key] = counts.get(key, 0) + value
            if sum(outcomes.values()) < self.reminders.batch:
                break
        return counts

    def runner(self) -> Runner:
        return Runner(session_factory=self.session_factory, clock=self.clock, jobs=self.jobs(),
                      poll=self.poll)

    def run_once(self) -> dict[str, str]:
        """Every job once (each only if due and not held elsewhere), the sealer last; job ->
        outcome (done, failed, skipped, not_due)."""
        return self.runner().run_all()

    def run(self) -> None:
        """Run the jobs on their schedules until `stop` is set."""
        runner = self.runner()
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
        logger.info("worker started: sealing every %.2f s; jobs: %s", self.poll,
                    ", ".join(job.name for job in runner.jobs))
        runner.start()
        try:
            wait_until(self.stop)
        finally:
            runner.shutdown()
        logger.info("worker stopped")

    def stop_on_signals(self) -> None:
        def handler(signum: int, frame: FrameType | None) -> None:
            self.stop.set()

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)
