"""The sequencer, signed checkpoints and verification of the audit log (RFC 9162 hashing).

    record (request)  ->  integrate (one sequencer: seq + leaf MAC)  ->  seal (tree nodes,
    signed checkpoint)  ->  verify (recompute everything from the events; trust nothing stored)
"""

from __future__ import annotations

import hashlib
import hmac
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import chain
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import (
    Integer,
    and_,
    bindparam,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from caseshare.audit import merkle, proofs, scan
from caseshare.audit.canonical import CANONICAL_FIELDS, EventFields, canonical_bytes
from caseshare.audit.merkle import CompactRange, fold, leaf_hash, node_hash, root_of
from caseshare.audit.models import AuditEvent, AuditTreeNode, Checkpoint
from caseshare.audit.scan import ChunkFailure, ChunkResult, ChunkTask
from caseshare.crypto.keyring import write_private

__all__ = [
    "CANONICAL_FIELDS", "AuditSigner", "EventFields", "LogIntegrityError", "VerifyResult",
    "canonical_bytes", "checkpoint_message", "integrate", "leaf_hash", "node_hash", "root_of",
    "seal", "verify",
]

# Events are stamped when their request starts and sequenced when their transaction has
# committed, so a slow request's events can follow later-stamped ones. The allowance is longer
# than any request may run (the worker timeout); more than this is treated as back-dating.
# Sealed events cannot be re-dated anyway (hash and MAC); this guards what is not yet sealed.
CLOCK_SKEW = timedelta(minutes=2)


class LogIntegrityError(Exception):
    """The stored log no longer matches its last signed checkpoint; sealing refuses to build on
    it. Run `audit verify` to find the first bad event."""


@dataclass
class AuditSigner:
    """The checkpoint signing key (Ed25519), kept in its own file apart from the data keys."""

    path: Path

    @classmethod
    def create_if_missing(cls, path: Path) -> AuditSigner:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            pem = Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            write_private(path, pem.decode())
        return cls(path)

    def _private(self) -> Ed25519PrivateKey:
        key = serialization.load_pem_private_key(self.path.read_bytes(), password=None)
        assert isinstance(key, Ed25519PrivateKey)
        return key

    def public_key(self) -> Ed25519PublicKey:
        return self._private().public_key()

    def key_id(self) -> str:
        raw = self.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return hashlib.sha256(raw).hexdigest()[:16]

    def sign(self, message: bytes) -> bytes:
        return self._private().sign(message)

    def mac_key(self) -> bytes:
        """The sequencer's leaf MAC key, derived from (and as secret as) the signing key."""
        raw = self._private().private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        return HKDF(hashes.SHA256(), 32, salt=None, info=b"caseshare-audit-leaf-mac").derive(raw)

    def event_mac_key(self) -> bytes:
        """The writers' event MAC key (audit/service.py), derived from the signing key like the
        leaf MAC key but apart from it: whoever holds it can seal pending events, not the log."""
        raw = self._private().private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        return HKDF(hashes.SHA256(), 32, salt=None,
                    info=b"caseshare-audit-event-mac").derive(raw)


def leaf_mac(key: bytes, seq: int, leaf: bytes) -> bytes:
    """Binds a leaf hash to its log position, so edits, moves and insertions are each caught."""
    return hmac.digest(key, seq.to_bytes(8, "big") + leaf, "sha256")


def event_mac(key: bytes, writer: str, writer_no: int, leaf: bytes) -> bytes:
    """An event's MAC at write time: binds its leaf hash (every field, its uuid included) to
    its place in its writer stream, so an edit, or a deletion (a gap in the stream's numbers),
    of an event not yet integrated is caught. Integration then binds the log order (leaf_mac)."""
    return hmac.digest(key, EVENT_MAC_TAG + writer.encode("ascii") + b"\x00"
                       + writer_no.to_bytes(8, "big") + leaf, "sha256")


EVENT_MAC_TAG = b"caseshare-audit-event-v1\x00"


def checkpoint_message(tree_size: int, root: bytes, timestamp: datetime) -> bytes:
    return proofs.checkpoint_message(tree_size, root, timestamp.isoformat())


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
    """The ids of the pending events, each checked (`_StreamCheck`) in its writer stream's
    number order; LogIntegrityError names the first that fails."""
    streams = _StreamCheck(session, event_key)
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


class _StreamCheck:
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


def latest_checkpoint(session: Session) -> Checkpoint | None:
    return session.scalar(select(Checkpoint).order_by(Checkpoint.tree_size.desc()).limit(1))


def fetch_nodes(session: Session, wanted: Iterable[merkle.Node]) -> dict[merkle.Node, bytes]:
    """Stored hashes of these perfect nodes (leaves from the events, the rest from tree nodes),
    in one round trip per 500 nodes: a proof is two dozen nodes."""
    ordered = sorted(set(wanted))
    found: dict[merkle.Node, bytes] = {}
    for start in range(0, len(ordered), 500):
        chunk = ordered[start:start + 500]
        leaves = [i for level, i in chunk if level == 0]
        levels: dict[int, list[int]] = {}
        for level, i in chunk:
            if level > 0:
                levels.setdefault(level, []).append(i)
        parts: list[Any] = []
        if leaves:
            parts.append(select(literal(0, Integer).label("level"), AuditEvent.seq.label("idx"),
                                AuditEvent.leaf_hash.label("hash"))
                         .where(AuditEvent.seq.in_(leaves)))
        if levels:
            conditions = [and_(AuditTreeNode.level == level, AuditTreeNode.idx.in_(indexes))
                          for level, indexes in levels.items()]
            parts.append(select(AuditTreeNode.level, AuditTreeNode.idx, AuditTreeNode.hash)
                         .where(or_(*conditions)))
        query: Any = parts[0] if len(parts) == 1 else union_all(*parts)
        for row in session.execute(query):
            if row[1] is not None:
                found[(int(row[0]), int(row[1]))] = row[2]
    return found


def _insert_nodes(session: Session, nodes: list[tuple[merkle.Node, bytes]]) -> None:
    rows = [{"level": level, "idx": idx, "hash": h} for (level, idx), h in nodes]
    for start in range(0, len(rows), 10_000):
        session.connection().execute(insert(AuditTreeNode), rows[start:start + 10_000])


def _leaves(session: Session, lo: int, hi: int | None = None) -> Iterable[tuple[int, bytes]]:
    query = select(AuditEvent.seq, AuditEvent.leaf_hash).where(AuditEvent.seq >= lo)
    if hi is not None:
        query = query.where(AuditEvent.seq < hi)
    return session.execute(query.order_by(AuditEvent.seq).execution_options(yield_per=20_000))


def _extend(session: Session, compact: CompactRange, lo: int, hi: int | None = None) -> None:
    """Append the sequenced leaves from position `lo` on, storing every node they complete."""
    completed: list[tuple[merkle.Node, bytes]] = []
    for seq, leaf in _leaves(session, lo, hi):
        if seq != compact.size:
            raise LogIntegrityError(f"log position {compact.size} is missing")
        completed.extend(compact.append(leaf))
        if len(completed) >= 10_000:
            _insert_nodes(session, completed)
            completed = []
    _insert_nodes(session, completed)


def _resume(session: Session, latest: Checkpoint | None) -> CompactRange:
    """The compact range of the last signed tree, from stored nodes (rebuilt if absent), checked
    against its signed root so that nothing is ever sealed on top of a tampered history."""
    if latest is None:
        return CompactRange()
    tiles = merkle.perfect_nodes(0, latest.tree_size)
    stored = fetch_nodes(session, tiles)
    if all(t in stored for t in tiles):
        compact = CompactRange(latest.tree_size, [stored[t] for t in tiles])
    else:  # checkpoints made before tree nodes were stored: build the nodes once
        session.execute(delete(AuditTreeNode))
        compact = CompactRange()
        _extend(session, compact, 0, latest.tree_size)
    if compact.size != latest.tree_size or compact.root() != latest.root_hash:
        raise LogIntegrityError(
            f"the stored log no longer matches the checkpoint at tree size {latest.tree_size}")
    return compact


def seal(session: Session, signer: AuditSigner, now: datetime) -> Checkpoint | None:
    """Integrate pending events and sign a checkpoint of the whole log, reading only the new
    leaves and the previous tree's O(log n) edge nodes. Commits once."""
    integrate(session, signer)
    latest = latest_checkpoint(session)
    compact = _resume(session, latest)
    _extend(session, compact, compact.size)
    if latest is not None and compact.size == latest.tree_size:
        session.commit()
        return latest
    if compact.size == 0:
        session.commit()
        return None
    now = now.astimezone(UTC)
    timestamp = max(now, latest.timestamp) if latest is not None else now
    root = compact.root()
    checkpoint = Checkpoint(
        tree_size=compact.size,
        root_hash=root,
        timestamp=timestamp,
        signature=signer.sign(checkpoint_message(compact.size, root, timestamp)),
        key_id=signer.key_id(),
    )
    session.add(checkpoint)
    session.commit()
    return checkpoint


@dataclass
class VerifyResult:
    ok: bool
    events: int
    checkpoints: int
    problem: str | None = None
    bad_position: int | None = None
    bad_event: str | None = None  # the event's uuid, when one event is to blame
    pending: int = 0
    oldest_pending_at: datetime | None = None


class _Failure(Exception):
    """The first problem found, with where a serial scan would meet it (scan.ChunkFailure)."""

    def __init__(self, found: ChunkFailure) -> None:
        super().__init__(found.problem)
        self.found = found


def _fail(problem: str, position: int | None, *, at: int | None = None,
          check: int = scan.CHECKPOINT) -> _Failure:
    """A problem with a checkpoint (met after log position `at`) or with the log as a whole."""
    where = (position or 0) if at is None else at
    return _Failure(ChunkFailure((where, check), problem, position, None))


def parse_checkpoint(data: Mapping[str, Any]) -> Checkpoint:
    """A checkpoint as exported or served by the API (hex hashes, RFC 3339 time), unsaved."""
    try:
        timestamp = datetime.fromisoformat(data["timestamp"])
        if timestamp.tzinfo is None:
            raise ValueError("timestamp has no time zone")
        return Checkpoint(tree_size=int(data["tree_size"]),
                          root_hash=bytes.fromhex(data["root_hash"]),
                          timestamp=timestamp.astimezone(UTC),
                          signature=bytes.fromhex(data["signature"]),
                          key_id=str(data.get("key_id", "")))
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"not a checkpoint: {exc}") from None


def checkpoint_json(checkpoint: Checkpoint) -> dict[str, Any]:
    return {"tree_size": checkpoint.tree_size, "root_hash": checkpoint.root_hash.hex(),
            "timestamp": checkpoint.timestamp.isoformat().replace("+00:00", "Z"),
            "signature": checkpoint.signature.hex(), "key_id": checkpoint.key_id}


def sealed_size(session: Session) -> int:
    """How many events have log positions (one past the last position; 0 when none)."""
    last = session.scalar(select(func.max(AuditEvent.seq)))
    return 0 if last is None else last + 1


def _worker_database(session: Session) -> scan.Database | None:
    """Where worker processes can read the same database; None for in-memory SQLite."""
    bind = session.get_bind()
    url = bind.engine.url
    if url.get_backend_name() == "sqlite":
        if url.database in (None, "", ":memory:"):
            return None
        return scan.Database("sqlite", url.database)
    from psycopg.conninfo import make_conninfo

    _args, params = bind.engine.dialect.create_connect_args(url)
    params.pop("context", None)  # SQLAlchemy's adapters, not a connection parameter
    return scan.Database(url.get_backend_name(), make_conninfo(**params))


CHUNK = 1 << 15  # log positions per chunk: one perfect subtree; memory is one chunk's leaves


def verify(session: Session, public_key: Ed25519PublicKey, *,
           mac_key: bytes | None = None, witnessed: Sequence[Checkpoint] = (),
           workers: int = 1, chunk: int | None = None, event_key: bytes | None = None,
           now: datetime | None = None, max_lag: float | None = None) -> VerifyResult:
    """Recompute the whole tree from the stored events and check every checkpoint against it,
    in log order, so the problem reported is the first one in the history.

    Checks, per event: its position follows the last (nothing deleted or moved), its leaf hash
    is the hash of its fields (nothing edited), its MAC binds that hash to that position (nothing
    edited and rehashed, inserted or reordered), its time is not before its predecessors'
    (nothing back-dated). Per checkpoint: its signature, its root against the recomputed tree,
    and its time. Consistency between consecutive checkpoints follows: both roots are checked
    against one tree recomputed from one sequence of events, so the older tree is a prefix of
    the newer. Witnessed checkpoints (copies a partner kept) must match the log too: they catch
    a log cut short together with its own later checkpoints, which nothing inside the database
    can reveal.

    Events not yet integrated are checked too: each against its leaf hash and, with
    `event_key`, its write-time MAC and its writer stream's numbering (an edit or a deletion
    before sealing). With `now` and `max_lag` (seconds), events waiting longer than that to be
    integrated fail the verification: the sealer is down or not keeping up.

    It streams: the log is scanned in chunks of `chunk` positions (a power of two, by default
    CHUNK; scan.py),
    in `workers` processes when there are more chunks than one, and only the Merkle frontier
    (one hash per level) and one chunk's results at a time are kept here. The problem reported
    is the one a serial scan would meet first.
    """
    chunk = chunk or CHUNK
    if chunk < 1 or chunk & (chunk - 1):
        raise ValueError("chunk must be a power of two")
    witness_at: dict[int, list[Checkpoint]] = {}
    for copy in witnessed:
        witness_at.setdefault(copy.tree_size, []).append(copy)
    # Checkpoints first, then the log's size: a sealer commits positions and their checkpoint
    # together, so every checkpoint read here is covered by a size read after it.
    last_checkpoint = session.scalar(select(func.max(Checkpoint.tree_size)))
    size = sealed_size(session)
    state = _Walk(session, public_key, size, last_checkpoint)
    try:
        if session.scalar(select(Checkpoint.tree_size).where(Checkpoint.tree_size <= 0)
                          .limit(1)) is not None:
            raise _fail("a checkpoint claims an empty log", 0)
        for result in _scan(session, _tasks(session, size, chunk, witness_at), mac_key,
                            workers):
            state.take(result, witness_at)
        state.finish(witnessed)
        last_time = datetime.fromisoformat(state.high) if state.high else None
        _check_pending(session, event_key)
        pending, oldest_pending = _pending(session, last_time)
        _check_lag(session, pending, oldest_pending, now, max_lag)
    except _Failure as failure:
        found = failure.found
        return VerifyResult(False, state.events, state.checked, found.problem,
                            found.position, found.event)
    return VerifyResult(True, state.events, state.checked, pending=pending,
                        oldest_pending_at=oldest_pending)


def _tasks(session: Session, size: int, chunk: int,
           witness_at: Mapping[int, list[Checkpoint]]) -> Iterator[ChunkTask]:
    for lo in range(0, size, chunk):
        hi = min(lo + chunk, size)
        sizes = set(session.scalars(select(Checkpoint.tree_size)
                                    .where(Checkpoint.tree_size > lo, Checkpoint.tree_size <= hi)))
        sizes.update(s for s in witness_at if lo < s <= hi)
        yield ChunkTask(lo, hi, tuple(sorted(sizes)), CLOCK_SKEW)


def _scan(session: Session, tasks: Iterator[ChunkTask], mac_key: bytes | None,
          workers: int) -> Iterator[ChunkResult]:
    """Chunk results in log order. With `workers` > 1, `workers` - 1 worker processes take the
    chunks a few ahead (bounded, so results never pile up) and this process, rather than wait
    for the next result, scans the next chunk no worker has started: the load balances itself
    and one process fewer imports the application (about 70 MB). All here when one process is
    asked for, the log is one chunk, or the database cannot be opened twice (in-memory SQLite).
    """
    database = _worker_database(session) if workers > 1 else None
    connection = session.connection()
    dialect, dbapi = connection.dialect.name, connection.connection.driver_connection
    first = next(tasks, None)
    if first is None:
        return
    second = next(tasks, None)
    if database is None or second is None:
        for task in chain([first], [] if second is None else [second], tasks):
            yield scan.scan_chunk(dbapi, dialect, task, mac_key)
        return
    with ProcessPoolExecutor(workers - 1, mp_context=get_context("spawn"),
                             initializer=scan.init_worker, initargs=(database, mac_key)) as pool:
        ahead: deque[_Pending] = deque()
        pending = chain([first, second], tasks)
        try:
            while True:
                while len(ahead) < 2 * workers and (more := next(pending, None)) is not None:
                    ahead.append(_Pending(more, pool.submit(scan.scan_in_worker, more)))
                if not ahead:
                    return
                head = ahead[0]
                if head.result is None and not head.future.done():
                    # Take a chunk no worker has started (cancel succeeds only then), else wait.
                    idle = next((p for p in ahead if p.result is None and p.future.cancel()),
                                None)
                    if idle is not None:
                        idle.result = scan.scan_chunk(dbapi, dialect, idle.task, mac_key)
                        continue
                ahead.popleft()
                yield head.result if head.result is not None else head.future.result()
        finally:
            for entry in ahead:
                entry.future.cancel()


@dataclass
class _Pending:
    task: ChunkTask
    future: Future[ChunkResult]
    result: ChunkResult | None = None  # when this process scanned it instead


class _Walk:
    """The verifier's state between chunks: the Merkle frontier over the chunks so far, the
    latest event time, and the last checkpoint checked."""

    def __init__(self, session: Session, public_key: Ed25519PublicKey, size: int,
                 last_checkpoint: int | None) -> None:
        self.session, self.public_key, self.size = session, public_key, size
        self.last_checkpoint = last_checkpoint or 0
        self.frontier = CompactRange()
        self.events = 0  # log positions verified
        self.high = ""
        self.previous: Any = None  # the last checkpoint checked
        self.checked = 0

    def take(self, result: ChunkResult, witness_at: Mapping[int, list[Checkpoint]]) -> None:
        """Carry on through one chunk, raising the first problem in it."""
        problems = [] if result.failure is None else [result.failure]
        threshold = datetime.fromisoformat(self.high) - CLOCK_SKEW if self.high else None
        for position, stamped, event, event_id in result.lows:
            if threshold is not None and stamped < self.high and (
                    datetime.fromisoformat(stamped) < threshold):
                problems.append(scan.back_dated(event, event_id, position, stamped))
                break
        first = min(problems, key=lambda p: p.found_at) if problems else None
        checkpoints = self.session.execute(
            select(Checkpoint.tree_size, Checkpoint.root_hash, Checkpoint.timestamp,
                   Checkpoint.signature)
            .where(Checkpoint.tree_size > result.lo, Checkpoint.tree_size <= result.hi)
            .order_by(Checkpoint.tree_size)).all()
        by_size = {row.tree_size: row for row in checkpoints}
        for size in sorted(result.tiles):
            if first is not None and (size - 1, scan.CHECKPOINT) > first.found_at:
                break
            root = fold(self.frontier.hashes() + result.tiles[size])
            if size in by_size:
                self._check_checkpoint(by_size[size], root)
            for copy in witness_at.get(size, ()):
                _check_witnessed(copy, root, self.public_key)
        if first is not None:
            self.events = first.found_at[0]
            raise _Failure(first)
        if result.subtree is not None:  # else the last, partial chunk: only its checkpoints
            self.frontier.append_subtree((result.hi - result.lo).bit_length() - 1,
                                         result.subtree)
        self.events = result.hi
        self.high = max(self.high, result.high)

    def _check_checkpoint(self, checkpoint: Any, root: bytes) -> None:
        size = checkpoint.tree_size
        if not _signed(self.public_key, checkpoint):
            raise _fail(f"checkpoint at tree size {size} has a bad signature (edited or "
                        "forged)", size, at=size - 1)
        previous = self.previous
        first = previous.tree_size if previous is not None else 0
        if root != checkpoint.root_hash:
            raise _fail(f"checkpoint at tree size {size} does not match the events: one of log "
                        f"positions {first} to {size - 1} was inserted, deleted, reordered or "
                        f"altered (first possible: log position {first})", first, at=size - 1)
        if previous is not None and checkpoint.timestamp < previous.timestamp:
            raise _fail(f"checkpoint at tree size {size} is dated before the checkpoint at "
                        f"tree size {first}", size, at=size - 1)
        self.previous = checkpoint
        self.checked += 1

    def finish(self, witnessed: Sequence[Checkpoint]) -> None:
        """After the last chunk: nothing signed or witnessed may cover positions beyond it."""
        end = self.size
        cut = [c.tree_size for c in witnessed if c.tree_size > end]
        if cut:
            raise _fail(f"the log was cut short: a witnessed checkpoint at tree size "
                        f"{min(cut)} covers events that are gone; log position {end} onwards "
                        "was deleted", end)
        beyond = self.session.scalar(
            select(func.min(Checkpoint.tree_size))
            .where(Checkpoint.tree_size > end, Checkpoint.tree_size <= self.last_checkpoint))
        if beyond is not None:
            raise _fail(f"checkpoint at tree size {beyond} covers events that are missing: the "
                        f"log ends at {end}, so log position {end} onwards was deleted", end)


def _signed(public_key: Ed25519PublicKey, checkpoint: Any) -> bool:
    try:
        public_key.verify(checkpoint.signature, checkpoint_message(
            checkpoint.tree_size, checkpoint.root_hash, checkpoint.timestamp))
    except InvalidSignature:
        return False
    return True


def _check_witnessed(copy: Checkpoint, root: bytes, public_key: Ed25519PublicKey) -> None:
    size = copy.tree_size
    if not _signed(public_key, copy):
        raise _fail(f"the witnessed checkpoint at tree size {size} was not signed by this "
                    "log's key", size, at=size - 1)
    if root != copy.root_hash:
        raise _fail(f"the log no longer matches the witnessed checkpoint at tree size {size}: "
                    f"history up to log position {size - 1} was rewritten", size, at=size - 1)


def _pending(session: Session, last_time: datetime | None) -> tuple[int, datetime | None]:
    """Events not yet sequenced (the integration lag), refusing any back-dated among them."""
    count = session.scalar(select(func.count()).where(AuditEvent.seq.is_(None))) or 0
    row = session.execute(
        select(AuditEvent.id, AuditEvent.event_uuid, AuditEvent.occurred_at)
        .where(AuditEvent.seq.is_(None)).order_by(AuditEvent.occurred_at).limit(1)).first()
    if row is None:
        return 0, None
    if last_time is not None and row.occurred_at < last_time - CLOCK_SKEW:
        raise _Failure(ChunkFailure(
            (2**62, 0), f"pending event {row.event_uuid} (id {row.id}) is back-dated: stamped "
            f"{row.occurred_at.isoformat()}, before events already in the log", None,
            str(row.event_uuid)))
    return int(count), row.occurred_at


def _check_pending(session: Session, event_key: bytes | None) -> None:
    """Every event not yet integrated: its fields against its leaf hash, then (with the key) its
    write-time MAC and its place in its writer stream. Raises the problem at the lowest id."""
    streams = _StreamCheck(session, event_key)
    found: tuple[int, str, str] | None = None
    rows = session.scalars(
        select(AuditEvent).where(AuditEvent.seq.is_(None))
        .order_by(AuditEvent.writer, AuditEvent.writer_no, AuditEvent.id)
        .execution_options(yield_per=2_000))
    for row in rows:
        if found is not None and row.id > found[0]:
            continue
        try:
            intact = leaf_hash(canonical_bytes(row)) == row.leaf_hash
        except (TypeError, ValueError, AttributeError):
            intact = False
        problem = None if intact else (
            f"pending event {row.event_uuid} (id {row.id}) was altered: its fields no longer "
            "match its leaf hash")
        problem = problem or streams.check(row.id, row.event_uuid, row.leaf_hash, row.writer,
                                           row.writer_no, row.event_mac)
        if problem is not None:
            found = (row.id, problem, str(row.event_uuid))
    if found is not None:
        raise _Failure(ChunkFailure((2**62, 0), found[1], None, found[2]))


def _check_lag(session: Session, pending: int, oldest: datetime | None, now: datetime | None,
               max_lag: float | None) -> None:
    """Events waiting longer than `max_lag` seconds to be integrated: the sealer is down."""
    if oldest is None or now is None or max_lag is None:
        return
    age = (now - oldest).total_seconds()
    if age <= max_lag:
        return
    row = session.execute(
        select(AuditEvent.id, AuditEvent.event_uuid).where(AuditEvent.seq.is_(None))
        .order_by(AuditEvent.occurred_at).limit(1)).first()
    name = f"event {row.event_uuid} (id {row.id})" if row is not None else "an event"
    raise _Failure(ChunkFailure(
        (2**62, 1), f"{pending} audit event(s) are not sealed yet and the oldest, {name}, has "
        f"waited {age:.0f} s, longer than the allowed {max_lag:g} s "
        "(CASESHARE_AUDIT_MAX_LAG_SECONDS): the sealer is not running or not keeping up; run "
        "`flask --app wsgi caseshare worker`", None,
        str(row.event_uuid) if row is not None else None))
