"""The test job `partial` of tests/integration/jobs/test_runner.py: three notifications, each
with a once-only key, so a run done twice would fail and a half-done run would show."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from caseshare.jobs.runner import Every
from caseshare.notifications import service as notifications
from caseshare.unit_of_work import UnitOfWork

JOB_NAME = "partial"
TRIGGER = Every(3600)
KEYS = tuple(f"partial:{i}" for i in range(3))


def write_part(session: Session, now: datetime) -> None:
    for key in KEYS:
        notifications.notify(session, type="referral_overdue", org="jcp-derby", now=now,
                             once_key=key)


def complete(session_factory: Callable[[], Session], now: datetime) -> dict[str, int]:
    with session_factory() as s, UnitOfWork(s):
        write_part(s, now)
    return {"written": len(KEYS)}
