"""One pass over a chunk of the audit log for `audit verify`, straight from the database driver.

A chunk is log positions [lo, hi) with lo a multiple of the chunk size (a power of two), so a
full chunk is one perfect subtree of the Merkle tree. Scanning it checks each event exactly as a
serial scan would (position, content, MAC, time order within the chunk) and returns only what
the caller needs to carry on across chunks: the chunk's subtree hash, the hashes of the perfect
subtrees tiling [lo, size) for each checkpoint size inside it, and the chunk's time marks. Memory
is one chunk's leaf hashes, never the log.

Rows come from a raw DB-API cursor (a server-side cursor on PostgreSQL), every column as text in
the form the canonical bytes use, so that no ORM object, UUID or datetime is built per event.
Chunks run in worker processes (`init_worker` + `scan_in_worker`) or in the caller's process.
"""

from __future__ import annotations

import gc
import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Uuid

from caseshare.audit.canonical import (
    CANONICAL_FIELDS,
    stored_event_bytes,
    time_text,
    uuid_text,
)
from caseshare.audit.merkle import perfect_nodes
from caseshare.audit.models import AuditEvent

__all__ = ["ChunkFailure", "ChunkResult", "ChunkTask", "Database", "scan_chunk"]

GAP, CONTENT, MAC, TIME, CHECKPOINT = range(5)  # the checks at one position, in scan order



def _as_text(column: Column[Any], dialect: str) -> str:
    """One hashed column in the SELECT, as text in the form the canonical bytes use. PostgreSQL:
    UUIDs and JSON cast to text; times as timestamp text in UTC with the session's DateStyle ISO
    (set per chunk), 'YYYY-MM-DD HH:MM:SS' with any fraction less its trailing zeros, which the
    scan pads back to SQLite's form (to_char made that text in the server at about a
    microsecond per event, a sixth of the server's share). SQLite stores them as text already."""
    name = column.name
    if dialect != "postgresql":
        return name
    if isinstance(column.type, DateTime) or isinstance(
            getattr(column.type, "impl", None), DateTime):
        return f"({name} AT TIME ZONE 'UTC')::text"
    if isinstance(column.type, (Uuid, JSON)):
        return f"{name}::text"
    return name


# The hashed columns (CANONICAL_FIELDS, derived from the table) in the order scan reads them.
_COLUMNS = {dialect: ", ".join(_as_text(AuditEvent.__table__.c[name], dialect)
                               for name in CANONICAL_FIELDS)
            for dialect in ("sqlite", "postgresql")}
_FETCH = 2_000


@dataclass(frozen=True)
class ChunkTask:
    lo: int
    hi: int
    sizes: tuple[int, ...]  # tree sizes in (lo, hi] whose roots the caller checks
    skew: timedelta  # how far an event may be stamped before an earlier one


@dataclass(frozen=True)
class ChunkFailure:
    found_at: tuple[int, int]  # (position, check): orders problems as a serial scan meets them
    problem: str
    position: int | None
    event: str | None


@dataclass
class ChunkResult:
    lo: int
    hi: int
    failure: ChunkFailure | None = None
    subtree: bytes | None = None  # the chunk's root, when it is full and sound
    tiles: dict[int, list[bytes]] = field(default_factory=dict)  # size -> hashes tiling [lo, size)
    # (position, time, event, id) for each event stamped before every earlier one in the chunk:
    # the only ones that can be back-dated against earlier chunks.
    lows: list[tuple[int, str, str | None, int]] = field(default_factory=list)
    high: str = ""  # the latest time in the chunk


def name(event: str | None, event_id: int, position: int) -> str:
    return f"event {event} (id {event_id}, log position {position})"


def back_dated(event: str | None, event_id: int, position: int, stamped: str) -> ChunkFailure:
    return ChunkFailure((position, TIME), f"{name(event, event_id, position)} is back-dated: it "
                        f"is stamped {stamped}, before events earlier in the log",
                        position, event)


def _query(dialect: str, lo: int) -> str:
    """Constant SQL (nothing in it comes from data; the bounds are parameters). Chunk 0 has no
    lower bound, so a row moved to a negative position is met first, as in a serial scan."""
    mark = "?" if dialect == "sqlite" else "%s"
    low = f"seq >= {mark} AND " if lo else ""
    return (f"SELECT seq, id, leaf_hash, leaf_mac, {_COLUMNS[dialect]} "  # noqa: S608
            f"FROM audit_events WHERE seq IS NOT NULL AND {low}seq < {mark} ORDER BY seq")


def _next_row(dbapi: Any, dialect: str,
              position: int) -> tuple[int, int, str | None] | None:
    """The first event after a missing position (it can be in a later chunk)."""
    mark = "?" if dialect == "sqlite" else "%s"
    column = "event_uuid" if dialect == "sqlite" else "event_uuid::text"
    cursor = dbapi.cursor()
    try:
        cursor.execute(f"SELECT seq, id, {column} FROM audit_events "  # noqa: S608 (constant)
                       f"WHERE seq > {mark} ORDER BY seq LIMIT 1", (position,))
        row = cursor.fetchone()
    finally:
        cursor.close()
    return None if row is None else (int(row[0]), int(row[1]), uuid_text(row[2]))


def _missing(dbapi: Any, dialect: str, position: int) -> ChunkFailure:
    found = _next_row(dbapi, dialect, position)
    if found is None:
        return ChunkFailure((position, GAP), f"log position {position} onwards was deleted",
                            position, None)
    seq, event_id, event = found
    return ChunkFailure((position, GAP), f"log position {position} is missing (deleted?); the "
                        f"next event found is {name(event, event_id, seq)}", position, event)


def _cursor(dbapi: Any, dialect: str, task: ChunkTask) -> Any:
    """The chunk's rows, iterated straight off the driver's cursor (on PostgreSQL a server-side
    cursor fetching _FETCH rows per round trip; SQLite steps through them as they are read)."""
    if dialect == "postgresql":
        setup = dbapi.cursor()
        try:
            setup.execute("SET LOCAL DateStyle = 'ISO, MDY'")  # this transaction only
        finally:
            setup.close()
        # Binary rows: the leaf hash and MAC come as bytes, not hex text to decode.
        cursor = dbapi.cursor(name=f"audit_scan_{task.lo}", binary=True)
        cursor.itersize = _FETCH
    else:
        cursor = dbapi.cursor()
    cursor.execute(_query(dialect, task.lo), (task.lo, task.hi) if task.lo else (task.hi,))
    return cursor


def scan_chunk(dbapi: Any, dialect: str, task: ChunkTask, mac_key: bytes | None) -> ChunkResult:
    """Check log positions [task.lo, task.hi), stopping at the first problem."""
    # Each row makes a few short-lived containers and none outlives it, so the cyclic garbage
    # collector finds nothing; left on, it rescans the fetched batches over and over.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _scan_chunk(dbapi, dialect, task, mac_key)
    finally:
        if collecting:
            gc.enable()


def _scan_chunk(dbapi: Any, dialect: str, task: ChunkTask, mac_key: bytes | None) -> ChunkResult:
    cursor = _cursor(dbapi, dialect, task)
    try:
        return _check_rows(dbapi, dialect, task, mac_key, cursor)
    finally:
        cursor.close()


def _check_rows(dbapi: Any, dialect: str, task: ChunkTask, mac_key: bytes | None,
                rows: Any) -> ChunkResult:
    """Check one chunk's events in log order: no position missing, each event's fields match
    its leaf hash, each leaf is sealed (MAC) at its position, and no event is back-dated beyond
    the clock skew. Stops at the first failure; otherwise hashes the chunk's subtrees."""
    result = ChunkResult(task.lo, task.hi)
    leaves: list[bytes] = []
    position, high, low = task.lo, "", None
    check = _EventCheck(mac_key, trimmed_times=dialect == "postgresql")
    for (seq, event_id, leaf, mac, event_uuid, occurred_at, *fields) in rows:
        if seq != position:
            event = uuid_text(event_uuid)
            result.failure = ChunkFailure(
                (position, GAP), f"log position {position} is missing (deleted?); the next "
                f"event found is {name(event, event_id, seq)}", position, event)
            break
        stamped = check.stamp(occurred_at)
        problem = check.problem(position, leaf, mac, event_uuid, stamped, fields)
        if problem is not None:
            event = uuid_text(event_uuid)
            message = (f"{name(event, event_id, position)} was altered: its fields no longer "
                       "match its leaf hash" if problem == CONTENT else
                       f"{name(event, event_id, position)} was not sealed at this position: it "
                       "was inserted, moved, or altered and rehashed")
            result.failure = ChunkFailure((position, problem), message, position, event)
            break
        # ISO texts in UTC order as times do; parse only when one goes backwards.
        if stamped >= high:
            high = stamped
        elif datetime.fromisoformat(stamped) < datetime.fromisoformat(high) - task.skew:
            result.failure = back_dated(uuid_text(event_uuid), event_id, position, stamped)
            break
        if low is None or stamped < low:
            low = stamped
            result.lows.append((position, stamped, uuid_text(event_uuid), event_id))
        leaves.append(leaf)
        position += 1
    else:
        if position < task.hi:
            result.failure = _missing(dbapi, dialect, position)
    result.high = high
    _subtrees(result, task, leaves)
    return result


class _EventCheck:
    """The per-event checks of `_check_rows`, with their hash states made once per chunk:
    creating a hash object costs more than hashing an event, so the states with the fixed
    prefix (leaf hash) and the padded key (HMAC-SHA256, RFC 2104, as signer.leaf_mac computes
    it) already absorbed are copied per event."""

    def __init__(self, mac_key: bytes | None, *, trimmed_times: bool) -> None:
        self.leaf_prefix = hashlib.sha256(b"\x00")
        self.inner, self.outer = _mac_states(mac_key)
        self.trimmed_times = trimmed_times  # PostgreSQL drops trailing zeros of microseconds

    def stamp(self, occurred_at: Any) -> Any:
        """The event's time as its leaf hash covers it (time_text), inline for the form both
        engines give (see _COLUMNS); whatever cannot be read is returned for `problem` to
        refuse."""
        try:
            if self.trimmed_times and len(occurred_at) < 26:  # to SQLite's form
                occurred_at = f"{occurred_at[:19]}.{occurred_at[20:]:0<6}"
            if (isinstance(occurred_at, str) and len(occurred_at) == 26
                    and occurred_at[10] == " " and occurred_at[19] == "."):
                return (f"{occurred_at[:10]}T{occurred_at[11:19]}+00:00"
                        if occurred_at.endswith(".000000") else
                        f"{occurred_at[:10]}T{occurred_at[11:]}+00:00")
            return time_text(occurred_at)
        except (TypeError, ValueError, AttributeError):  # not even a time any more
            return None

    def problem(self, position: int, leaf: bytes, mac: Any, event_uuid: Any, stamped: Any,
                fields: list[Any]) -> int | None:
        """CONTENT if the fields no longer hash to the leaf, MAC if the leaf is not sealed at
        this position, else None."""
        try:
            data = None if stamped is None else stored_event_bytes(event_uuid, stamped, *fields)
        except (TypeError, ValueError, AttributeError):  # not even an event's values any more
            data = None
        if data is None:
            return CONTENT
        hashed = self.leaf_prefix.copy()
        hashed.update(data)
        if hashed.digest() != leaf:
            return CONTENT
        if self.inner is None:
            return None
        sealed = self.inner.copy()
        sealed.update(position.to_bytes(8, "big"))
        sealed.update(leaf)
        expected = self.outer.copy()
        expected.update(sealed.digest())
        try:
            return None if mac is not None and hmac.compare_digest(expected.digest(), mac) else MAC
        except TypeError:  # not even bytes (a column rewritten by hand): a wrong MAC
            return MAC


def _mac_states(key: bytes | None) -> tuple[Any, Any]:
    """The HMAC-SHA256 inner and outer hash states after the padded key (RFC 2104), made once
    rather than per event; (None, None) without a key."""
    if key is None:
        return None, None
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    padded = key.ljust(64, b"\0")
    return (hashlib.sha256(bytes(b ^ 0x36 for b in padded)),
            hashlib.sha256(bytes(b ^ 0x5C for b in padded)))


def _subtrees(result: ChunkResult, task: ChunkTask, leaves: list[bytes]) -> None:
    """The chunk's perfect subtrees, level by level (one list of pairs per level): the tiles for
    each size reached, and the whole chunk's root when it is full and sound."""
    levels = [leaves]
    node_prefix = hashlib.sha256(b"\x01")
    while len(levels[-1]) > 1:
        below = levels[-1]
        level = []
        for left, right in zip(below[0::2], below[1::2], strict=False):
            node = node_prefix.copy()
            node.update(left)
            node.update(right)
            level.append(node.digest())
        levels.append(level)
    end = task.lo + len(leaves)
    for size in task.sizes:
        if size <= end:
            result.tiles[size] = [levels[level][index - (task.lo >> level)]
                                  for level, index in perfect_nodes(task.lo, size)]
    if result.failure is None and leaves and len(leaves) == task.hi - task.lo:
        size = len(leaves)
        if size & (size - 1) == 0:
            result.subtree = levels[-1][0]


@dataclass(frozen=True)
class Database:
    """Where a worker process reads the log: a SQLite file's path, or a libpq connection string
    for psycopg. Workers connect with the driver alone: importing SQLAlchemy and the app cost
    each of them about a second of a verify meant to take a few."""

    dialect: str
    target: str


def connect(database: Database) -> Any:
    """A connection that only reads. SQLite: autocommit (no BEGIN), so each chunk's SELECT reads
    one snapshot of its own and never takes the write lock; query_only refuses any write."""
    if database.dialect == "sqlite":
        import sqlite3

        connection = sqlite3.connect(database.target, timeout=30, isolation_level=None)
        connection.execute("PRAGMA query_only = ON")
        return connection
    import psycopg

    return psycopg.connect(database.target)


# Worker-process state, set once per process by the pool's initialiser.
_WORKER: dict[str, Any] = {}


def init_worker(database: Database, mac_key: bytes | None) -> None:
    _WORKER.update(connection=connect(database), dialect=database.dialect, mac_key=mac_key)


def scan_in_worker(task: ChunkTask) -> ChunkResult:
    connection = _WORKER["connection"]
    try:
        return scan_chunk(connection, _WORKER["dialect"], task, _WORKER["mac_key"])
    finally:
        connection.rollback()
