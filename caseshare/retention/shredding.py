"""Crypto-shredding a whole subject: the one way a claimant's record is destroyed, whether an IG
officer erases it on request (access/erasure.py) or the retention pass finds that no copy of
anything remains (retention/service.py).

Two steps, because the shred register (outside the database) must be written durably BEFORE the
database commit: `tombstone` changes the database (open referrals suspended, data key and blind
indexes destroyed, reminder recipients forgotten); `register` records the subject in the shred
register once the database has raised any objection of its own. The caller audits in between
and commits after.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from caseshare.case_plan import referrals
from caseshare.crypto import shreds
from caseshare.crypto.keyring import KeyProvider
from caseshare.reasons import Reason
from caseshare.reminders import service as reminders
from caseshare.subjects import service as subjects
from caseshare.subjects.models import Subject


def tombstone(session: Session, subject: Subject, *, now: datetime) -> list[uuid.UUID]:
    """Destroy the subject's data key (subjects.erase) and what depends on it; returns the ids of
    the open referrals suspended."""
    suspended = referrals.open_referrals_of(session, subject.id)
    for referral in suspended:
        referrals.suspend(session, referral, reasons=[str(Reason.SUBJECT_ERASED)], now=now)
    subjects.erase(subject, now=now)
    reminders.forget_recipients(session, subject.id)
    return [referral.id for referral in suspended]


def register(session: Session, keyring: KeyProvider, subject_id: uuid.UUID) -> None:
    """Flush (the database's objections first), then add the subject to the shred register,
    durably. Raises shreds.ShredRegisterError when it cannot: the caller rolls back."""
    session.flush()
    shreds.register_of(keyring).add([subject_id])
