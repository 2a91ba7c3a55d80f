"""Writing audit events. Every event is written in the caller's transaction; the caller commits.

Each event is tamper-evident from the moment it is written, before the sequencer integrates it
into the Merkle log: it carries its writer stream (`writer`), its number in that stream
(`writer_no`) and `event_mac`, an HMAC over both and its leaf hash under the event MAC key
(`AuditSigner.event_mac_key`, handed to sessions in `session.info[EVENT_KEY]`).

A writer stream is a random id and a counter in this process. A unit of work takes a free stream
at its first event and holds it until its transaction ends: on commit the numbers it used stay
used; on rollback they are given back (the counter goes back to where the unit of work found it),
so the committed events of a stream are numbered 0, 1, 2, ... without gaps, and a missing number
is an event deleted. The numbers cost no statement: the counter lives in memory. A process that
dies leaves its streams' ends behind, never a gap.
"""

from __future__ import annotations

import json
import threading
import uuid
import weakref
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Engine, Table, event, insert
from sqlalchemy.orm import Session, SessionTransaction

from caseshare import db
from caseshare.audit.canonical import canonical_bytes
from caseshare.audit.event_types import EventType
from caseshare.audit.merkle import leaf_hash
from caseshare.audit.models import NEW_EVENT_COLUMNS, AuditEvent
from caseshare.audit.models import NewEvent as NewEvent  # re-exported for access/context.py
from caseshare.audit.signer import event_mac
from caseshare.facts import Principal

_COLUMNS = NEW_EVENT_COLUMNS
EVENT_KEY = "caseshare.audit.event_mac_key"  # session.info: the event MAC key (bytes)
# session.info: (stream, its counter when the unit of work took it, the database)
_STREAM = "caseshare.audit.stream"


class MissingEventKeyError(RuntimeError):
    """A session without the event MAC key tried to write an audit event."""


class _Stream:
    __slots__ = ("id", "next")

    def __init__(self) -> None:
        self.id = uuid.uuid4().hex
        self.next = 0


class _Streams:
    """This process's writer streams, per database (a stream's numbers count the events in one
    log); each stream is held by at most one unit of work at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._free: weakref.WeakKeyDictionary[Engine, list[_Stream]] = (
            weakref.WeakKeyDictionary())

    def take(self, database: Engine) -> _Stream:
        with self._lock:
            free = self._free.setdefault(database, [])
            return free.pop() if free else _Stream()

    def give_back(self, database: Engine, stream: _Stream) -> None:
        with self._lock:
            self._free.setdefault(database, []).append(stream)


_streams = _Streams()


def _database(session: Session) -> Engine:
    return session.get_bind().engine


def _number(session: Session, events: Iterable[NewEvent]) -> None:
    """Give the events their places in this unit of work's writer stream, and their MACs."""
    key = session.info.get(EVENT_KEY)
    if not isinstance(key, bytes):
        raise MissingEventKeyError("this session has no audit event MAC key")
    held = session.info.get(_STREAM)
    if held is None:
        database = _database(session)
        stream = _streams.take(database)
        session.info[_STREAM] = (stream, stream.next, database)
    else:
        stream = held[0]
    for item in events:
        item.writer, item.writer_no = stream.id, stream.next
        item.event_mac = event_mac(key, stream.id, stream.next, item.leaf_hash)
        stream.next += 1


@event.listens_for(Session, "after_commit")
def _keep_numbers(session: Session) -> None:
    held = session.info.pop(_STREAM, None)
    if held is not None:
        _streams.give_back(held[2], held[0])


@event.listens_for(Session, "after_transaction_end")
def _give_back_numbers(session: Session, transaction: SessionTransaction) -> None:
    """A unit of work that ended without committing: its events were never written."""
    if transaction.parent is not None or transaction.nested:
        return
    held = session.info.pop(_STREAM, None)
    if held is not None:
        stream, start, database = held
        stream.next = start
        _streams.give_back(database, stream)
# The table, not the mapped class: a plain Core INSERT, run at once, with no unit of work.
_INSERT = insert(cast(Table, AuditEvent.__table__))


def _checked_type(value: EventType) -> str:
    """The event type as stored; ValueError unless it is an EventType member (an old name in
    RENAMED is refused too: it is never written again)."""
    return EventType(value).value


def new_event(
    *,
    type: EventType,
    now: datetime,
    principal: Principal | None = None,
    purpose: str | None = None,
    subject_id: uuid.UUID | None = None,
    categories: Iterable[str] = (),
    decision: str | None = None,
    reasons: Iterable[str] = (),
    consent_id: uuid.UUID | None = None,
    protocol: str | None = None,
    override_id: uuid.UUID | None = None,
    request_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> NewEvent:
    """One audit event with its leaf hash. `type` must be an `EventType` member; ValueError
    for any other value. (A plain string equal to a member's value is accepted until every
    caller passes the member: StrEnum compares equal to its value, so it is checked here.)"""
    event = NewEvent(
        event_uuid=uuid.uuid4(),
        # In UTC as stored, so the hash made now matches the hash of the row read back.
        occurred_at=now.astimezone(UTC),
        type=_checked_type(type),
        actor=principal.actor_id if principal else None,
        org=principal.org if principal else None,
        role=principal.role if principal else None,
        purpose=purpose,
        subject_id=subject_id,
        categories=sorted(set(categories)),
        decision=decision,
        reasons=sorted(set(reasons)),
        consent_id=consent_id,
        protocol=protocol,
        override_id=override_id,
        request_id=request_id,
        # As the JSON column will hold them, so the hash made now matches the row read back.
        details=json.loads(json.dumps(details or {}, default=str)),
    )
    event.leaf_hash = leaf_hash(canonical_bytes(event))
    return event


def write(session: Session, event: NewEvent) -> NewEvent:
    """Insert the event now, in the caller's transaction (the caller commits). The request
    path's way: a Core INSERT costs less than half of an ORM object flushed at commit."""
    _number(session, (event,))
    session.execute(_INSERT, event.columns())
    return event


def write_after_snapshot(session: Session, events: list[NewEvent]) -> None:
    """Write a read's held events once its snapshot ends (`db.end_snapshot`): in a write
    transaction of their own, which the caller commits."""
    _number(session, events)
    db.write_after_snapshot(session, _INSERT, [event.columns() for event in events])


def record(
    session: Session,
    *,
    type: EventType,
    now: datetime,
    principal: Principal | None = None,
    purpose: str | None = None,
    subject_id: uuid.UUID | None = None,
    categories: Iterable[str] = (),
    decision: str | None = None,
    reasons: Iterable[str] = (),
    consent_id: uuid.UUID | None = None,
    protocol: str | None = None,
    override_id: uuid.UUID | None = None,
    request_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add one audit event (see `new_event`) to the session as an ORM object, written at the next
    flush: for callers that go on to use or change it as a mapped row."""
    made = new_event(
        type=type, now=now, principal=principal, purpose=purpose, subject_id=subject_id,
        categories=categories, decision=decision, reasons=reasons,
        consent_id=consent_id, protocol=protocol, override_id=override_id,
        request_id=request_id, details=details,
    )
    _number(session, (made,))
    row = AuditEvent(**made.columns())
    session.add(row)
    return row
