"""Re-wrap subject data keys under the current KEK. Never touches field ciphertext."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from caseshare.audit import service as audit
from caseshare.crypto.keyring import KeyProvider
from caseshare.subjects.models import Subject


def rewrap_all(session: Session, keyring: KeyProvider, *, batch: int, now: datetime) -> int:
    """Each batch commits on its own, so an interrupted run resumes where it stopped."""
    current = keyring.current_version()
    total = 0
    while True:
        rows = session.scalars(
            select(Subject)
            .where(Subject.kek_version != current, Subject.dek_wrapped.is_not(None))
            .order_by(Subject.id)
            .limit(batch)
        ).all()
        if not rows:
            break
        for subject in rows:
            assert subject.dek_wrapped is not None
            context = b"subject|" + str(subject.id).encode()
            key = keyring.unwrap(subject.dek_wrapped, version=subject.kek_version, context=context)
            subject.kek_version, subject.dek_wrapped = keyring.wrap(key, context=context)
        audit.record(session, type="crypto:dek:rewrap", now=now,
                     details={"count": len(rows), "kek_version": current})
        session.commit()
        total += len(rows)
    return total
