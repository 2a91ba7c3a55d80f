"""The background worker: seals audit events continuously, purges expired token revocations and
tells receiving organisations of referrals past their response standard (once each).

Every `poll` seconds it looks for audit events not yet integrated (one indexed read) and, when
there are any, integrates them and signs a checkpoint (`audit.checkpoints.seal`), so an event is
in the signed log about `poll` seconds after it was written. Any number of workers may run: the
sequencer lock (a PostgreSQL advisory lock; SQLite's write lock) makes one seal at a time, and
each event gets one position. A database error is logged by its kind only (never its text,
which can carry statement parameters) and retried with a growing pause; a log that no longer
matches its signed checkpoints is logged and retried slowly, for `audit verify` to explain.
SIGTERM and SIGINT stop it after the current round.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from types import FrameType

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from caseshare.audit import checkpoints as audit_checkpoints
from caseshare.audit import sequencer as audit_sequencer
from caseshare.audit import signer as audit_signer
from caseshare.audit.models import AuditEvent, Checkpoint
from caseshare.case_plan import referral_overdue
from caseshare.identity import revocation
from caseshare.jobs.reminders import ReminderJob
from caseshare.unit_of_work import UnitOfWork

logger = logging.getLogger("caseshare.worker")

PURGE_EVERY = 3600.0  # seconds between purges of expired token revocations
INTEGRITY_RETRY = 30.0  # seconds between attempts while the log fails its own checks
MAX_BACKOFF = 10.0


@dataclass
class Worker:
    session_factory: Callable[[], Session]
    signer: audit_signer.AuditSigner
    clock: Callable[[], datetime]
    poll: float = 0.5
    purge_every: float = PURGE_EVERY
    stop: threading.Event = field(default_factory=threading.Event)
    reminders: ReminderJob | None = None  # appointment reminders (None: no outbound channel)
    _next_purge: float = 0.0

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
        with self.session_factory() as s, UnitOfWork(s):
            purged = revocation.purge_expired(s, now=self.clock())
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

    def run_once(self) -> None:
        """One round: flag overdue referrals, seal, send due reminders, and purge when due.
        Errors propagate."""
        self.referrals_overdue_once()
        self.seal_once()
        if self.reminders is not None:
            self.reminders.run_once()
        if time.monotonic() >= self._next_purge:
            self.purge_once()
            self._next_purge = time.monotonic() + self.purge_every

    def run(self) -> None:
        """Rounds until `stop` is set, surviving database errors."""
        failures = 0
        logger.info("worker started: sealing every %.2f s", self.poll)
        while not self.stop.is_set():
            pause = self.poll
            try:
                self.run_once()
                failures = 0
            except audit_sequencer.LogIntegrityError as exc:
                # The message names event ids only; audit verify gives the whole account.
                logger.error("the audit log failed its checks; not sealing: %s. Run "
                             "`caseshare audit verify`", exc)
                pause = INTEGRITY_RETRY
            except SQLAlchemyError as exc:
                failures += 1
                pause = min(self.poll * 2 ** failures, MAX_BACKOFF)
                logger.warning("database error (%s); retrying in %.1f s",
                               type(getattr(exc, "orig", None) or exc).__name__, pause)
            self.stop.wait(pause)
        logger.info("worker stopped")

    def stop_on_signals(self) -> None:
        def handler(signum: int, frame: FrameType | None) -> None:
            self.stop.set()

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)
