"""Writing audit events. Every event is written in the caller's transaction; the caller commits."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from caseshare import db
from caseshare.access.decision import Principal
from caseshare.audit.log import CANONICAL_FIELDS, canonical_bytes, leaf_hash
from caseshare.audit.models import AuditEvent
from caseshare.driver_sql import DriverInsert


@dataclass(slots=True)
class NewEvent:
    """An audit event as it is written: every field its leaf hash covers (`EventFields`), and
    the hash. It holds ids and codes, never plaintext."""

    event_uuid: uuid.UUID
    occurred_at: datetime
    type: str
    actor: str | None
    org: str | None
    role: str | None
    purpose: str | None
    subject_id: uuid.UUID | None
    categories: list[str]
    decision: str | None
    reasons: list[str]
    consent_id: uuid.UUID | None
    protocol: str | None
    override_id: uuid.UUID | None
    request_id: str | None
    details: dict[str, Any]
    leaf_hash: bytes = b""

    def columns(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _COLUMNS}


_COLUMNS = (*CANONICAL_FIELDS, "leaf_hash")
# The table, not the mapped class: a plain Core INSERT, run at once, with no unit of work.
_INSERT = insert(cast(Table, AuditEvent.__table__))
_DRIVER_INSERT = DriverInsert(cast(Table, AuditEvent.__table__), _COLUMNS)


def new_event(
    *,
    type: str,
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
    """One audit event (`source:subject:action`) with its leaf hash."""
    event = NewEvent(
        event_uuid=uuid.uuid4(),
        # In UTC as stored, so the hash made now matches the hash of the row read back.
        occurred_at=now.astimezone(UTC),
        type=type,
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
    session.execute(_INSERT, event.columns())
    return event


def write_after_snapshot(session: Session, events: list[NewEvent]) -> None:
    """Write a read's held events once its snapshot ends, committed before this returns (see
    `db.write_after_snapshot`)."""
    db.write_after_snapshot(session, _DRIVER_INSERT, [event.columns() for event in events])


def record(
    session: Session,
    *,
    type: str,
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
    event = AuditEvent(**new_event(
        type=type, now=now, principal=principal, purpose=purpose, subject_id=subject_id,
        categories=categories, decision=decision, reasons=reasons,
        consent_id=consent_id, protocol=protocol, override_id=override_id,
        request_id=request_id, details=details,
    ).columns())
    session.add(event)
    return event
