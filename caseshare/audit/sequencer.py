"""The sequencer: gives events committed by request handlers their log positions (`seq`) and
leaf MACs, one sequencer at a time, after checking each event's write-time MAC and its writer
stream's numbering (audit/service.py)."""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.orm import Session

from caseshare.audit.models import AuditEvent
from caseshare.audit.signer import AuditSigner, event_mac, leaf_mac

# Events are stamped when their request starts and sequenced when their transaction has
# committed, so a slow request's events can follow later-stamped ones. The allowance is longer
# than any request may run (the worker timeout); more than this is treated as back-dating.
# Sealed events cannot be re-dated anyway (hash and MAC); this guards what is not yet sealed.
CLOCK_SKEW = timedelta(minutes=2)


class LogIntegrityError(Exception):
    """The stored log no longer matches its last signed checkpoint; sealing refuses to build on
    it. Run `audit verify` to find the first bad event."""


def _lock_sequencer(session: Session) -> None:
    """Only one sequencer at a time: a PostgreSQL advisory lock held to the end of the
    transaction. SQLite has one writer at a time, but a transaction that reads first and then
    writes can fail if another wrote in between, so the sequencer takes the write lock before
    it reads anything (waiting up to the busy timeout)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(4242001)"))
    elif dialect == "sqlite":
        session.execute(text("UPDATE audit_checkpoints SET tree_size = tree_size WHERE 0"))


def integrate(session: Session, signer: AuditSigner) -> int:
    """Give pending events their log positions, in insertion order, each with its leaf MAC.
    Returns how many. Works in batches, so a large backlog never sits in memory at once (only
    its ids do, as checked); the caller commits.

    An event is integrated only when its write-time MAC holds and its writer stream has no gap
    before it; otherwise LogIntegrityError names it and nothing is integrated, so that sealing
    never vouches for an edited event or closes over a deleted one."""
    _lock_sequencer(session)
    key = signer.mac_key()
    checked = _checked_pending(session, signer.event_mac_key())
    next_seq = sealed_size(session)
    # Core executemany: the ORM's bulk update is several times slower for a million rows.
    statement = (update(AuditEvent).where(AuditEvent.id == bindparam("b_id"))
                 .values(seq=bindparam("b_seq"), leaf_mac=bindparam("b_mac")))
    done, after = 0, -1
    while True:
        batch = session.connection().execute(
            select(AuditEvent.id, AuditEvent.leaf_hash)
            .where(AuditEvent.seq.is_(None), AuditEvent.id > after)
            .order_by(AuditEvent.id).limit(10_000)
        ).all()
        if not batch:
            return done
        # Events committed since the check wait for the next round.
        ready = [(event_id, leaf) for event_id, leaf in batch if event_id in checked]
        rows = [{"b_id": event_id, "b_seq": next_seq + done + offset,
                 "b_mac": leaf_mac(key, next_seq + done + offset, leaf)}
                for offset, (event_id, leaf) in enumerate(ready)]
        if rows:
            session.connection().execute(statement, rows)
        done, after = done + len(rows), batch[-1][0]


def _checked_pending(session: Session, event_key: bytes) -> set[int]:
    """The ids of the pending events, each checked (`StreamCheck`) in its writer stream's
    number order; LogIntegrityError names the first that fails."""
    streams = StreamCheck(session, event_key)
    checked: set[int] = set()
    rows = session.connection().execute(
        select(AuditEvent.id, AuditEvent.event_uuid, AuditEvent.leaf_hash, AuditEvent.writer,
               AuditEvent.writer_no, AuditEvent.event_mac)
        .where(AuditEvent.seq.is_(None))
        .order_by(AuditEvent.writer, AuditEvent.writer_no, AuditEvent.id)
        .execution_options(yield_per=10_000))
    for row in rows:
        problem = streams.check(row.id, row.event_uuid, row.leaf_hash, row.writer,
                                row.writer_no, row.event_mac)
        if problem is not None:
            raise LogIntegrityError(f"{problem}; it was not sealed")
        checked.add(row.id)
    return checked


class StreamCheck:
    """Checks events not yet integrated, one at a time: the write-time MAC, and that each event
    continues its writer stream (the stream's last integrated event, whose own MAC is checked,
    or number 0) with no number missing. Events of one stream must come in number order, which
    need not be id order (a number is given when an event is written or added to the session,
    an id when the row is inserted, e.g. at a later flush). A number at or below the last
    one seen is accepted (a unit of work whose events committed while its session rolled back
    gives its numbers out again); one above the next is a gap: events deleted."""

    def __init__(self, session: Session, key: bytes | None) -> None:
        self.session, self.key = session, key
        self.last: dict[str, int] = {}

    def _mac_ok(self, writer: str, writer_no: int, leaf: bytes, mac: bytes | None) -> bool:
        assert self.key is not None
        return mac is not None and hmac.compare_digest(
            event_mac(self.key, writer, writer_no, leaf), bytes(mac))

    def _start(self, writer: str) -> tuple[int, str | None]:
        """The number the stream's pending events continue from, or a problem."""
        row = self.session.execute(
            select(AuditEvent.id, AuditEvent.event_uuid, AuditEvent.writer_no,
                   AuditEvent.leaf_hash, AuditEvent.event_mac)
            .where(AuditEvent.writer == writer, AuditEvent.seq.is_not(None))
            .order_by(AuditEvent.writer_no.desc()).limit(1)).first()
        if row is None:
            return -1, None
        if row.writer_no is None or not self._mac_ok(writer, row.writer_no, row.leaf_hash,
                                                     row.event_mac):
            return -1, (f"event {row.event_uuid} (id {row.id}) no longer matches the MAC it "
                        "was written with (its writer stream number was changed?)")
        return int(row.writer_no), None

    def check(self, event_id: int, event_uuid: Any, leaf: bytes, writer: str | None,
              writer_no: int | None, mac: bytes | None) -> str | None:
        if self.key is None:
            return None
        name = f"pending event {event_uuid} (id {event_id})"
        if writer is None or writer_no is None or mac is None:
            return (f"{name} has no write-time MAC: it was not written by Caseshare "
                    "(inserted by hand?)")
        if not self._mac_ok(writer, writer_no, leaf, mac):
            return (f"{name} was altered after it was written: its write-time MAC no longer "
                    "matches (edited and rehashed, or renumbered)")
        last = self.last.get(writer)
        if last is None:
            last, problem = self._start(writer)
            if problem is not None:
                return problem
        if writer_no > last + 1:
            missing = (f"number {last + 1}" if writer_no == last + 2
                       else f"numbers {last + 1} to {writer_no - 1}")
            return (f"event(s) before {name} were deleted before they were sealed: its writer "
                    f"stream {writer[:8]} is missing {missing}")
        self.last[writer] = max(last, writer_no)
        return None


def pending_events(session: Session) -> tuple[int, datetime | None]:
    """How many events await sequencing, and when the oldest happened (the integration lag)."""
    count = session.scalar(select(func.count()).where(AuditEvent.seq.is_(None))) or 0
    oldest = session.scalar(select(AuditEvent.occurred_at).where(AuditEvent.seq.is_(None))
                            .order_by(AuditEvent.occurred_at).limit(1))
    return int(count), oldest


def sealed_size(session: Session) -> int:
    """How many events have log positions (one past the last position; 0 when none)."""
    last = session.scalar(select(func.max(AuditEvent.seq)))
    return 0 if last is None else last + 1

