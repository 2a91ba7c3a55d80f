"""The worker's reminder round: send the due appointment reminders through the outbound
channel, at most `batch` a round, each in three steps: claim it and commit its audit event,
send outside any transaction, then commit sent or the retry (caseshare/reminders/service.py
says why nothing is lost, sent before it is audited, or sent twice). Logs counts and error
codes only, never an address or a name."""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from caseshare.crypto.keyring import KeyProvider
from caseshare.outbound.channel import Channel, SendError
from caseshare.outbound.settings import OutboundSettings, make_channel
from caseshare.reminders import service as reminders
from caseshare.runtime import Runtime
from caseshare.unit_of_work import UnitOfWork

logger = logging.getLogger("caseshare.worker.reminders")


@dataclass
class ReminderJob:
    session_factory: Callable[[], Session]
    keyring: KeyProvider
    channel: Channel
    clock: Callable[[], datetime]
    batch: int = 10  # a short round: sealing runs in the same loop

    def run_once(self) -> Counter[str]:
        """Send what is due now; returns how many ended each way (sent, retry, failed, ...)."""
        outcomes: Counter[str] = Counter()
        with self.session_factory() as s:
            due = reminders.due_reminders(s, self.clock(), limit=self.batch)
            s.rollback()
        for reminder_id in due:
            outcome = self._send(reminder_id)
            outcomes[outcome.result] += 1
            if outcome.code:
                logger.warning("reminder %s: %s (%s)", reminder_id, outcome.result,
                               outcome.code)
        if due:
            logger.info("reminders: %s", ", ".join(f"{k}={v}" for k, v in
                                                    sorted(outcomes.items())))
        return outcomes


    def _send(self, reminder_id: uuid.UUID) -> reminders.Outcome:
        """One reminder: claim it and commit the audit event (transaction 1), send with no
        transaction open, then record what happened (transaction 2). A database error goes up
        to the worker (which retries with a pause); any other error is logged by its kind
        only and the reminder deferred like a failed send, so one broken row neither stops the
        worker's sealing nor is retried twice a second."""
        try:
            with self.session_factory() as s, UnitOfWork(s):
                claimed = reminders.claim(s, reminder_id, channel_name=self.channel.name,
                                          keyring=self.keyring, now=self.clock())
        except SQLAlchemyError:
            raise
        except Exception as exc:  # before anything was sent: the claim rolled back
            code = f"error_{type(exc).__name__}"
            with self.session_factory() as s, UnitOfWork(s):
                reminders.defer_after_error(s, reminder_id, code=code, now=self.clock())
            return reminders.Outcome("error", code)
        if isinstance(claimed, reminders.Outcome):
            return claimed
        error, result = self._deliver(claimed)
        with self.session_factory() as s, UnitOfWork(s):
            return reminders.finish(s, claimed, error, now=self.clock(), result=result)

    def _deliver(self, claimed: reminders.Claimed) -> tuple[SendError | None, str | None]:
        """Hand the message to the channel: (None, None) when it took it; the SendError
        otherwise, with `error` as the result for an unexpected exception (its kind only)."""
        try:
            self.channel.send(claimed.message)
        except SendError as exc:
            return exc, None
        except Exception as exc:
            return SendError(f"error_{type(exc).__name__}"[:64], retry=True), "error"
        return None, None


def reminder_job(runtime: Runtime) -> ReminderJob | None:
    """The job for the app's runtime and the channel configured in the environment
    (caseshare/outbound/settings.py); None when CASESHARE_OUTBOUND is off (the default)."""
    channel = make_channel(OutboundSettings.from_env())
    if channel is None:
        return None
    return ReminderJob(session_factory=runtime.session_factory, keyring=runtime.keyring,
                       channel=channel, clock=runtime.now)

