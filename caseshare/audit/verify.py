"""Full verification of the audit log (`audit verify`): recompute everything from the events and
check every checkpoint, witnessed copy and pending event against it; trust nothing stored."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from itertools import chain
from multiprocessing import get_context
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from caseshare.audit import scan
from caseshare.audit.canonical import canonical_bytes
from caseshare.audit.checkpoints import checkpoint_message, note_matches
from caseshare.audit.merkle import CompactRange, fold, leaf_hash
from caseshare.audit.models import AuditEvent, Checkpoint
from caseshare.audit.scan import ChunkFailure, ChunkResult, ChunkTask
from caseshare.audit.sequencer import CLOCK_SKEW, StreamCheck, sealed_size


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
                   Checkpoint.signature, Checkpoint.note)
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
    """Both signatures: over the checkpoint message, and the signed note's (when it has one)."""
    try:
        public_key.verify(checkpoint.signature, checkpoint_message(
            checkpoint.tree_size, checkpoint.root_hash, checkpoint.timestamp))
    except InvalidSignature:
        return False
    return note_matches(checkpoint, public_key.public_bytes(Encoding.Raw, PublicFormat.Raw))


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
    streams = StreamCheck(session, event_key)
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
