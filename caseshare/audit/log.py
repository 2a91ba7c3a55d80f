"""The sequencer, signed checkpoints and verification of the audit log (RFC 9162 hashing).

    record (request)  ->  integrate (one sequencer: seq + leaf MAC)  ->  seal (tree nodes,
    signed checkpoint)  ->  verify (recompute everything from the events; trust nothing stored)
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import (
    Integer,
    String,
    Text,
    and_,
    bindparam,
    cast,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    type_coerce,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from caseshare.audit import merkle, proofs
from caseshare.audit.merkle import CompactRange, leaf_hash, node_hash, root_of
from caseshare.audit.models import AuditEvent, AuditTreeNode, Checkpoint
from caseshare.audit.proofs import verify_consistency
from caseshare.crypto.keyring import write_private

__all__ = [
    "AuditSigner", "LogIntegrityError", "VerifyResult", "canonical_bytes", "checkpoint_message",
    "integrate", "leaf_hash", "node_hash", "root_of", "seal", "verify",
]

# Events are stamped when their request starts and sequenced when their transaction has
# committed, so a slow request's events can follow later-stamped ones. The allowance is longer
# than any request may run (the worker timeout); more than this is treated as back-dating.
# Sealed events cannot be re-dated anyway (hash and MAC); this guards what is not yet sealed.
CLOCK_SKEW = timedelta(minutes=2)


class LogIntegrityError(Exception):
    """The stored log no longer matches its last signed checkpoint; sealing refuses to build on
    it. Run `audit verify` to find the first bad event."""


class EventFields(Protocol):
    """What the canonical bytes cover: an AuditEvent, or a row selected with the same columns."""

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


def uuid_text(value: uuid.UUID | str | None) -> str | None:
    """A UUID in its canonical text form, from a UUID or SQLite's stored 32-digit hex."""
    if value is None:
        return None
    if isinstance(value, str) and len(value) == 32:
        return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
    return str(value)


def time_text(value: datetime | str) -> str:
    """An event time as the hash covers it (isoformat in UTC), from a datetime or from SQLite's
    stored text, which verify reads raw because parsing a million timestamps is slow."""
    if isinstance(value, str):
        if len(value) == 26 and value[10] == " ":
            micro = value[20:]
            return f"{value[:10]}T{value[11:19]}{'' if micro == '000000' else '.' + micro}+00:00"
        value = datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()


def _encode(values: tuple[Any, ...]) -> bytes:
    body = dict(zip(CANONICAL_FIELDS, values, strict=True))
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def canonical_bytes(event: EventFields) -> bytes:
    """The exact bytes an event's leaf hash covers: every field except its log position."""
    return _encode((
        uuid_text(event.event_uuid), time_text(event.occurred_at), event.type, event.actor,
        event.org, event.role, event.purpose, uuid_text(event.subject_id),
        list(event.categories), event.decision, list(event.reasons), uuid_text(event.consent_id),
        event.protocol, uuid_text(event.override_id), event.request_id, event.details,
    ))


CANONICAL_FIELDS = tuple(EventFields.__annotations__)
_UUID_FIELDS = {"event_uuid", "subject_id", "consent_id", "override_id"}


_JSON_FIELDS = {"categories", "reasons", "details"}


def _raw_columns(dialect: str) -> list[Any]:
    """The canonical columns for verify, as stored: UUIDs, JSON (and on SQLite, times) as text,
    parsed here in bulk rather than value by value, which is most of verify's time."""
    columns: list[Any] = []
    for name in CANONICAL_FIELDS:
        column = getattr(AuditEvent, name)
        if name in _JSON_FIELDS and dialect == "postgresql":
            column = cast(column, Text).label(name)
        elif name in _UUID_FIELDS | _JSON_FIELDS or (name == "occurred_at" and dialect == "sqlite"):
            column = type_coerce(column, String()).label(name)
        columns.append(column)
    return columns


def _row_bytes(values: tuple[Any, ...]) -> tuple[bytes, str]:
    """An event row's canonical bytes, and its time as text."""
    (event_uuid, occurred_at, type_, actor, org, role, purpose, subject_id, categories_json,
     decision, reasons_json, consent_id, protocol, override_id, request_id, details_json) = values
    categories, reasons, details = json.loads(f"[{categories_json},{reasons_json},{details_json}]")
    stamped = time_text(occurred_at)
    return _encode((
        uuid_text(event_uuid), stamped, type_, actor, org, role, purpose,
        uuid_text(subject_id), categories, decision, reasons, uuid_text(consent_id), protocol,
        uuid_text(override_id), request_id, details,
    )), stamped


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


def leaf_mac(key: bytes, seq: int, leaf: bytes) -> bytes:
    """Binds a leaf hash to its log position, so edits, moves and insertions are each caught."""
    return hmac.digest(key, seq.to_bytes(8, "big") + leaf, "sha256")


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
    Returns how many. Works in batches, so a large backlog never sits in memory at once; the
    caller commits."""
    _lock_sequencer(session)
    key = signer.mac_key()
    next_seq = (session.scalar(select(func.max(AuditEvent.seq))) or -1) + 1
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
        rows = [{"b_id": event_id, "b_seq": next_seq + done + offset,
                 "b_mac": leaf_mac(key, next_seq + done + offset, leaf)}
                for offset, (event_id, leaf) in enumerate(batch)]
        session.connection().execute(statement, rows)
        done, after = done + len(rows), batch[-1][0]


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
    """The first problem found. `found_at` orders problems as a serial scan would meet them:
    (log position, check), checks in the order the scan makes them at one position."""

    GAP, CONTENT, MAC, TIME, CHECKPOINT = range(5)

    def __init__(self, problem: str, position: int | None = None,
                 event: uuid.UUID | str | None = None,
                 found_at: tuple[int, int] | None = None) -> None:
        super().__init__(problem)
        self.problem, self.position, self.event = problem, position, event
        self.found_at = found_at or (position or 0, self.CHECKPOINT)


def _name(row: Any, position: int) -> str:
    return f"event {uuid_text(row.event_uuid)} (id {row.id}, log position {position})"


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


def _altered(event_id: int, event: str | None, position: int) -> _Failure:
    return _Failure(f"event {event} (id {event_id}, log position {position}) was altered: its "
                    "fields no longer match its leaf hash", position, event,
                    (position, _Failure.CONTENT))


def check_contents(url: str, lo: int, hi: int) -> tuple[int, str | None, int] | None:
    """The first event in log positions [lo, hi) whose fields no longer match its leaf hash, as
    (position, event uuid, id); run in a worker process with its own connection."""
    from caseshare.db import make_engine

    engine = make_engine(url, read_only=True)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(AuditEvent.seq, AuditEvent.id, AuditEvent.leaf_hash,
                       *_raw_columns(engine.dialect.name))
                .where(AuditEvent.seq >= lo, AuditEvent.seq < hi).order_by(AuditEvent.seq)
                .execution_options(yield_per=20_000))
            for seq, event_id, leaf, *fields in rows:
                if leaf_hash(_row_bytes(tuple(fields))[0]) != leaf:
                    return seq, uuid_text(fields[0]), event_id
    finally:
        engine.dispose()
    return None


def sealed_size(session: Session) -> int:
    return (session.scalar(select(func.max(AuditEvent.seq))) or -1) + 1


def _shareable_url(session: Session) -> str | None:
    bind = session.get_bind()
    url = bind.engine.url
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        return None
    return url.render_as_string(hide_password=False)


def verify(session: Session, public_key: Ed25519PublicKey, *,
           mac_key: bytes | None = None, witnessed: Sequence[Checkpoint] = (),
           workers: int = 1) -> VerifyResult:
    """Recompute the whole tree from the stored events and check every checkpoint against it,
    in log order, so the problem reported is the first one in the history.

    Checks, per event: its position follows the last (nothing deleted or moved), its leaf hash
    is the hash of its fields (nothing edited), its MAC binds that hash to that position (nothing
    edited and rehashed, inserted or reordered), its time is not before its predecessors'
    (nothing back-dated). Per checkpoint: its signature, its root against the recomputed tree,
    its time, and a consistency proof from the previous checkpoint, checked by the standalone
    verifier. Witnessed checkpoints (copies a partner kept) must match the log too: they catch
    a log cut short together with its own later checkpoints, which nothing inside the database
    can reveal.

    With `workers` > 1, recomputing leaf hashes (most of the work) runs in that many processes
    while this one checks positions, MACs, times and the tree; the problem reported is the same
    one a serial scan would report first.
    """
    url = _shareable_url(session) if workers > 1 else None
    pool, futures = None, []
    if url is not None:
        size = sealed_size(session)
        step = max(1, -(-size // (workers * 4)))
        pool = ProcessPoolExecutor(workers, mp_context=get_context("spawn"))
        futures = [pool.submit(check_contents, url, lo, min(lo + step, size))
                   for lo in range(0, size, step)]
    try:
        result = _verify(session, public_key, mac_key, witnessed, parallel=pool is not None)
        return _merge(result, futures)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)


def _merge(result: tuple[VerifyResult, _Failure | None],
           futures: list[Future[tuple[int, str | None, int] | None]]) -> VerifyResult:
    """The serial verdict, unless a worker found an altered event before that problem."""
    verdict, failure = result
    for future in futures:
        found = future.result()
        if found is None:
            continue
        altered = _altered(found[2], found[1], found[0])
        if failure is None or altered.found_at < failure.found_at:
            failure = altered
        break  # chunks are in log order: the first chunk with a problem has the earliest
    if failure is None:
        return verdict
    return VerifyResult(False, verdict.events, verdict.checkpoints, failure.problem,
                        failure.position, str(failure.event) if failure.event else None)


def _verify(session: Session, public_key: Ed25519PublicKey, mac_key: bytes | None,
            witnessed: Sequence[Checkpoint], *,
            parallel: bool) -> tuple[VerifyResult, _Failure | None]:
    witness_at: dict[int, list[Checkpoint]] = {}
    for copy in witnessed:
        witness_at.setdefault(copy.tree_size, []).append(copy)
    checkpoints = list(session.scalars(select(Checkpoint).order_by(Checkpoint.tree_size)))
    wanted = {
        node
        for older, newer in pairwise(checkpoints)
        for node in merkle.nodes_for(merkle.consistency_ranges(older.tree_size, newer.tree_size))
    }
    at_size = {c.tree_size: i for i, c in enumerate(checkpoints)}
    compact, kept = CompactRange(), {}
    pending, oldest_pending = 0, None
    try:
        if 0 in at_size:
            raise _Failure("a checkpoint claims an empty log", 0)
        last_text = ""
        columns = _raw_columns(session.get_bind().dialect.name)
        if parallel:  # the workers check contents; here only the uuid and time are needed
            columns = columns[:2]
        rows = session.connection().execute(
            select(AuditEvent.id, AuditEvent.seq, AuditEvent.leaf_hash, AuditEvent.leaf_mac,
                   *columns)
            .where(AuditEvent.seq.is_not(None)).order_by(AuditEvent.seq)
            .execution_options(yield_per=20_000)
        )
        for row in rows:
            position = compact.size
            event_id, seq, leaf, mac, *fields = row
            event = uuid_text(fields[0])
            if seq != position:
                raise _Failure(f"log position {position} is missing (deleted?); the next event "
                               f"found is {_name(row, seq)}", position, event,
                               (position, _Failure.GAP))
            if parallel:
                stamped = time_text(fields[1])
            else:
                data, stamped = _row_bytes(tuple(fields))
                if leaf_hash(data) != leaf:
                    raise _altered(event_id, event, position)
            if mac_key is not None and (
                mac is None or not hmac.compare_digest(leaf_mac(mac_key, position, leaf), mac)
            ):
                raise _Failure(f"{_name(row, position)} was not sealed at this position: it "
                               "was inserted, moved, or altered and rehashed", position,
                               event, (position, _Failure.MAC))
            # ISO texts in UTC order as times do; parse only when one goes backwards.
            if stamped >= last_text:
                last_text = stamped
            elif (datetime.fromisoformat(stamped)
                  < datetime.fromisoformat(last_text) - CLOCK_SKEW):
                raise _Failure(f"{_name(row, position)} is back-dated: it is stamped "
                               f"{stamped}, before events earlier in the log", position,
                               event, (position, _Failure.TIME))
            if (0, position) in wanted:
                kept[(0, position)] = leaf
            for node, h in compact.append(leaf):
                if node in wanted:
                    kept[node] = h
            if compact.size in at_size:
                _check_checkpoint(checkpoints, at_size[compact.size], compact, kept, public_key)
            for copy in witness_at.get(compact.size, ()):
                _check_witnessed(copy, compact, public_key)
        cut = [c.tree_size for c in witnessed if c.tree_size > compact.size]
        if cut:
            raise _Failure(f"the log was cut short: a witnessed checkpoint at tree size "
                           f"{min(cut)} covers events that are gone; log position "
                           f"{compact.size} onwards was deleted", compact.size)
        beyond = [c for c in checkpoints if c.tree_size > compact.size]
        if beyond:
            raise _Failure(f"checkpoint at tree size {beyond[0].tree_size} covers events that "
                           f"are missing: the log ends at {compact.size}, so log position "
                           f"{compact.size} onwards was deleted", compact.size)
        last_time = datetime.fromisoformat(last_text) if last_text else None
        pending, oldest_pending = _pending(session, last_time)
    except _Failure as failure:
        return VerifyResult(False, compact.size, len(checkpoints), failure.problem,
                            failure.position, str(failure.event) if failure.event
                            else None), failure
    return VerifyResult(True, compact.size, len(checkpoints), pending=pending,
                        oldest_pending_at=oldest_pending), None


def _check_checkpoint(checkpoints: list[Checkpoint], i: int, compact: CompactRange,
                      kept: dict[merkle.Node, bytes], public_key: Ed25519PublicKey) -> None:
    checkpoint = checkpoints[i]
    size = checkpoint.tree_size
    try:
        public_key.verify(checkpoint.signature,
                          checkpoint_message(size, checkpoint.root_hash, checkpoint.timestamp))
    except InvalidSignature:
        raise _Failure(f"checkpoint at tree size {size} has a bad signature (edited or forged)",
                       size, found_at=(size - 1, _Failure.CHECKPOINT)) from None
    previous = checkpoints[i - 1] if i else None
    first = previous.tree_size if previous else 0
    if compact.root() != checkpoint.root_hash:
        raise _Failure(
            f"checkpoint at tree size {size} does not match the events: one of log positions "
            f"{first} to {size - 1} was inserted, deleted, reordered or altered (first possible: "
            f"log position {first})", first, found_at=(size - 1, _Failure.CHECKPOINT))
    if previous is None:
        return
    if checkpoint.timestamp < previous.timestamp:
        raise _Failure(f"checkpoint at tree size {size} is dated before the checkpoint at tree "
                       f"size {first}", size, found_at=(size - 1, _Failure.CHECKPOINT))
    proof = [merkle.range_hash(lo, hi, kept)
             for lo, hi in merkle.consistency_ranges(first, size)]
    if not verify_consistency(first, size, previous.root_hash, checkpoint.root_hash, proof):
        raise _Failure(f"checkpoint at tree size {size} is not consistent with the checkpoint "
                       f"at tree size {first}", first,
                       found_at=(size - 1, _Failure.CHECKPOINT))


def _check_witnessed(copy: Checkpoint, compact: CompactRange,
                     public_key: Ed25519PublicKey) -> None:
    size = copy.tree_size
    try:
        public_key.verify(copy.signature,
                          checkpoint_message(size, copy.root_hash, copy.timestamp))
    except InvalidSignature:
        raise _Failure(f"the witnessed checkpoint at tree size {size} was not signed by this "
                       "log's key", size, found_at=(size - 1, _Failure.CHECKPOINT)) from None
    if compact.root() != copy.root_hash:
        raise _Failure(f"the log no longer matches the witnessed checkpoint at tree size {size}: "
                       f"history up to log position {size - 1} was rewritten", size,
                       found_at=(size - 1, _Failure.CHECKPOINT))


def _pending(session: Session, last_time: datetime | None) -> tuple[int, datetime | None]:
    """Events not yet sequenced (the integration lag), refusing any back-dated among them."""
    count = session.scalar(select(func.count()).where(AuditEvent.seq.is_(None))) or 0
    row = session.execute(
        select(AuditEvent.id, AuditEvent.event_uuid, AuditEvent.occurred_at)
        .where(AuditEvent.seq.is_(None)).order_by(AuditEvent.occurred_at).limit(1)).first()
    if row is None:
        return 0, None
    if last_time is not None and row.occurred_at < last_time - CLOCK_SKEW:
        raise _Failure(f"pending event {row.event_uuid} (id {row.id}) is back-dated: stamped "
                       f"{row.occurred_at.isoformat()}, before events already in the log", None,
                       row.event_uuid, found_at=(2**62, 0))
    return int(count), row.occurred_at
