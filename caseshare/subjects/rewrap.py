"""Re-wrap subject data keys under the current KEK, and retire KEK versions nothing uses.

Never touches field ciphertext: only the small wrapped data key of each subject changes, so
rewrapping 100,000 subjects costs 100,000 key unwraps and wraps, not a re-encryption of data.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from caseshare.audit import service as audit
from caseshare.audit.event_types import EventType
from caseshare.crypto.keyring import KeyProvider
from caseshare.crypto.shreds import is_shredded
from caseshare.errors import ConflictError
from caseshare.subjects.models import Subject


def rewrap_all(session: Session, keyring: KeyProvider, *, batch: int, now: datetime,
               on_batch: Callable[[int], None] | None = None) -> int:
    """Each batch commits on its own, so an interrupted run resumes where it stopped, and
    requests keep being served throughout (a subject row is always wrapped under some KEK
    version the keyring still holds).

    Streams: only the ids and wrapped keys of one batch are read (Core, not ORM objects with
    every sealed field), and each batch is written back with one executemany. A row changed
    since it was read (erased, or rewrapped by another run) is left as it now is."""
    current = keyring.current_version()
    total = 0
    after: uuid.UUID | None = None
    write = (update(Subject)
             .where(Subject.id == bindparam("b_id"), Subject.kek_version == bindparam("b_old"),
                    Subject.dek_wrapped.is_not(None))
             .values(kek_version=bindparam("b_version"), dek_wrapped=bindparam("b_wrapped")))
    while True:
        # Keyset by id: each batch starts where the last one ended, so a run reads the table
        # once rather than rescanning rewrapped rows (there is no index on kek_version).
        query = select(Subject.id, Subject.kek_version, Subject.dek_wrapped).where(
            Subject.kek_version != current, Subject.dek_wrapped.is_not(None))
        if after is not None:
            query = query.where(Subject.id > after)
        rows = session.execute(query.order_by(Subject.id).limit(batch)).all()
        if not rows:
            break
        after = rows[-1].id
        changes = []
        for subject_id, version, wrapped in rows:
            assert wrapped is not None  # selected only where it is not
            if is_shredded(keyring, subject_id):
                continue  # erased (shred register), never unwrapped; `shreds apply` drops it
            context = b"subject|" + str(subject_id).encode()
            key = keyring.unwrap(wrapped, version=version, context=context)
            new_version, new_wrapped = keyring.wrap(key, context=context)
            changes.append({"b_id": subject_id, "b_old": version, "b_version": new_version,
                            "b_wrapped": new_wrapped})
        if changes:
            session.connection().execute(write, changes)
        audit.record(session, type=EventType.CRYPTO_DEK_REWRAP, now=now,
                     details={"count": len(changes), "kek_version": current})
        # One transaction per batch, owned here: an interrupted rewrap keeps what it finished
        # and resumes from there, and no transaction holds a million rows' locks.
        session.commit()
        total += len(changes)
        if on_batch is not None:
            on_batch(total)
    return total


def subjects_by_kek(session: Session) -> dict[int, int]:
    """How many live data keys each KEK version wraps (erased subjects hold none)."""
    rows = session.execute(
        select(Subject.kek_version, func.count())
        .where(Subject.dek_wrapped.is_not(None))
        .group_by(Subject.kek_version)
    ).all()
    return {int(version): int(n) for version, n in rows}


def retire_kek(session: Session, keyring: KeyProvider, *, version: int, now: datetime) -> None:
    """Destroy an old KEK version, only once no subject's data key is wrapped under it."""
    if version == keyring.current_version():
        raise ConflictError("The current key-encryption key cannot be retired; rotate first.")
    in_use = subjects_by_kek(session).get(version, 0)
    if in_use:
        raise ConflictError(f"Key-encryption key version {version} still wraps {in_use} data "
                            f"key(s); run `keys rewrap` first.")
    # The record is committed before the key is destroyed: no destructive step goes unrecorded.
    audit.record(session, type=EventType.CRYPTO_KEK_RETIRE, now=now, details={"version": version})
    session.commit()
    keyring.retire(version)
