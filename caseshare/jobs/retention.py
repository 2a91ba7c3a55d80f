"""The retention pass as the worker's `retention` job and the `caseshare retention run` command
share it: the loop over candidate subjects, each in a session and unit of work of its own (the
edge commits; caseshare.retention.service.process_subject is the domain step), and the job
whose lock both take, so a pass by hand never runs beside the worker's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from caseshare.crypto.keyring import KeyProvider
from caseshare.errors import CaseshareError
from caseshare.jobs.runner import DailyAt, Job
from caseshare.policy.models import ProtocolSet
from caseshare.retention import holdings
from caseshare.retention.service import process_subject
from caseshare.uk_time import UK
from caseshare.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

JOB_NAME = "retention"
LEASE = timedelta(hours=6)  # longer than a pass ever takes (docs/worker.md)


@dataclass(frozen=True)
class PassResult:
    deleted: int  # copies deleted (certificates written)
    subjects_shredded: int
    held: int  # subjects with copies due but under a legal hold
    failed: int  # subjects whose unit of work failed (retried by the next pass)


def run_pass(session_factory: Callable[[], Session], protocols: ProtocolSet,
             keyring: KeyProvider, *, as_of: date, now: datetime,
             progress: Callable[[int, int], None] | None = None) -> PassResult:
    """Delete every copy due on `as_of` (a UK day), one subject per unit of work, so a killed
    pass loses nothing and the next one does what is left. `progress(done, total)` is called
    after each candidate subject. The caller holds the job's lock (`job`)."""
    with session_factory() as session:
        ids = holdings.candidates(session, as_of)
    flows = holdings.shared_flows(protocols)
    counts = {"deleted": 0, "subjects_shredded": 0, "held": 0, "failed": 0}
    for done, subject_id in enumerate(ids, start=1):
        try:
            with session_factory() as session, UnitOfWork(session):
                outcome = process_subject(session, keyring, flows, subject_id, as_of=as_of,
                                          now=now)
        except (SQLAlchemyError, CaseshareError) as exc:
            # Ids and the error's class only: the next pass tries this subject again.
            log.warning("retention pass: subject %s failed (%s)", subject_id,
                        type(exc).__name__)
            counts["failed"] += 1
        else:
            for key, value in outcome.items():
                counts[key] += value
        if progress is not None:
            progress(done, len(ids))
    return PassResult(**counts)


def job(protocols: ProtocolSet, keyring: KeyProvider) -> Job:
    """The worker's daily `retention` job: the pass as of the run's UK day."""
    def run(session_factory: Callable[[], Session], now: datetime) -> dict[str, int]:
        result = run_pass(session_factory, protocols, keyring,
                          as_of=now.astimezone(UK).date(), now=now)
        return asdict(result)
    return Job(JOB_NAME, DailyAt(2, 30), run, lease=LEASE)
