from __future__ import annotations

import uuid
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from caseshare.db import Base


class AuditEvent(Base):
    """One decision, disclosure, change or operation. Inserted in the action's own transaction;
    never updated or deleted by the application.

    `leaf_hash` is the RFC 9162 leaf hash of the event's canonical bytes, fixed at insert time.
    `seq` is the event's position in the Merkle log, assigned later by the single sequencer, so
    request handlers never contend on a chain head. `leaf_mac` is an HMAC over (seq, leaf_hash)
    under a key derived from the checkpoint signing key, set by the sequencer: someone who edits
    a row and recomputes its leaf hash is still caught, at that very event.

    Before integration an event is already tamper-evident: `writer` names the writer stream that
    wrote it (one per unit of work at a time in one process, see audit/service.py), `writer_no`
    its number in that stream (0, 1, 2, ... with no gaps among committed events), and
    `event_mac` an HMAC over (writer, writer_no, leaf_hash) made at write time. An edit fails
    the MAC; a deletion leaves a gap in its stream's numbers (docs/scaling.md).
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        # The sequencer's work queue: events not yet given a log position, oldest first.
        Index("ix_audit_events_pending", "id", sqlite_where=text("seq IS NULL"),
              postgresql_where=text("seq IS NULL")),
        # A writer stream's numbers in order: the gap check of `audit verify` and the sequencer.
        Index("ix_audit_events_writer", "writer", "writer_no"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    event_uuid: Mapped[uuid.UUID] = mapped_column(unique=True)
    occurred_at: Mapped[datetime] = mapped_column(index=True)
    type: Mapped[str] = mapped_column(String(80), index=True)
    actor: Mapped[str | None] = mapped_column(String(64), index=True)
    org: Mapped[str | None] = mapped_column(String(64), index=True)
    role: Mapped[str | None] = mapped_column(String(64))
    purpose: Mapped[str | None] = mapped_column(String(64))
    subject_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    categories: Mapped[list[str]]
    decision: Mapped[str | None] = mapped_column(String(8))
    reasons: Mapped[list[str]]
    consent_id: Mapped[uuid.UUID | None]
    protocol: Mapped[str | None] = mapped_column(String(80))
    override_id: Mapped[uuid.UUID | None]
    request_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]]
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    seq: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    leaf_mac: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    writer: Mapped[str | None] = mapped_column(String(32))
    writer_no: Mapped[int | None] = mapped_column(BigInteger)
    event_mac: Mapped[bytes | None] = mapped_column(LargeBinary(32))



@dataclass(slots=True)
class NewEvent:
    """An audit event as it is written: the columns of `AuditEvent` that exist before the
    sequencer runs (all but `id`, `seq` and `leaf_mac`), under the same names (a test holds them
    equal). It holds ids and codes, never plaintext."""

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
    writer: str | None = None
    writer_no: int | None = None
    event_mac: bytes | None = None

    def columns(self) -> dict[str, Any]:
        """The row to insert."""
        return {name: getattr(self, name) for name in NEW_EVENT_COLUMNS}


NEW_EVENT_COLUMNS = tuple(f.name for f in fields(NewEvent))
# Set after the write: the row's id, and the sequencer's position and leaf MAC.
SEQUENCED_COLUMNS = ("id", "seq", "leaf_mac")
# Not covered by the leaf hash: the hash itself, and what binds it to a place (stream or log).
UNHASHED_COLUMNS = frozenset({*SEQUENCED_COLUMNS, "leaf_hash", "writer", "writer_no",
                              "event_mac"})

class Checkpoint(Base):
    """A signed statement of the log's size and root at a point in time, twice: `signature`
    over `checkpoint_message` (size, root and time; partners' JSON copies and `audit verify`
    check it), and `note`, the standard form of size and root."""

    __tablename__ = "audit_checkpoints"

    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    timestamp: Mapped[datetime]
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    key_id: Mapped[str] = mapped_column(String(64))
    # The same size and root as a C2SP tlog-checkpoint signed note (audit/checkpoints.py), so
    # any standard witness or verifier reads it; None for checkpoints sealed before notes.
    note: Mapped[str | None] = mapped_column(Text)


class AuditTreeNode(Base):
    """A complete perfect subtree of the Merkle log (level >= 1; leaves live on the events), kept
    so that proofs need O(log n) lookups and sealing never re-reads old leaves. Not trusted:
    proofs built from these are checked by the client, and the sealer checks them against the
    last signed root before building on them."""

    __tablename__ = "audit_tree_nodes"

    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))
