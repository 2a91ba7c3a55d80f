"""Sealing: signed checkpoints of the log's size and root, built on the stored tree nodes, and
the checkpoint's exchange forms (JSON as served and exported, and the C2SP signed note)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Integer, and_, delete, insert, literal, or_, select, union_all
from sqlalchemy.orm import Session

from caseshare.audit import merkle, proofs
from caseshare.audit.merkle import CompactRange
from caseshare.audit.models import AuditEvent, AuditTreeNode, Checkpoint
from caseshare.audit.sequencer import LogIntegrityError, integrate
from caseshare.audit.signed_note import verify_note
from caseshare.audit.signer import AuditSigner


def checkpoint_message(tree_size: int, root: bytes, timestamp: datetime) -> bytes:
    return proofs.checkpoint_message(tree_size, root, timestamp.isoformat())


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
    leaves and the previous tree's O(log n) edge nodes. Commits once, itself: one of the three
    batch steps that own their transactions rather than joining a caller's unit of work (with
    `subjects/rewrap.py`'s batches and `retire_kek`), because the sequencer's lock is held
    until this transaction ends and must never span anything else."""
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
        note=signer.sign_note(proofs.checkpoint_note_text(signer.origin, compact.size, root)),
    )
    session.add(checkpoint)
    session.commit()
    return checkpoint


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
                          key_id=str(data.get("key_id", "")),
                          note=_optional_text(data.get("note")))
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"not a checkpoint: {exc}") from None


def _optional_text(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise TypeError("note is not text")
    return value


def checkpoint_json(checkpoint: Checkpoint) -> dict[str, Any]:
    """The checkpoint as the API serves it and `audit export` prints it."""
    return {"tree_size": checkpoint.tree_size, "root_hash": checkpoint.root_hash.hex(),
            "timestamp": checkpoint.timestamp.isoformat().replace("+00:00", "Z"),
            "signature": checkpoint.signature.hex(), "key_id": checkpoint.key_id,
            "note": checkpoint.note}


def note_matches(checkpoint: Any, public_key: bytes) -> bool:
    """The checkpoint's signed note (if it has one) is signed by this key under the note's own
    origin, and states the checkpoint's size and root. True for a checkpoint without a note."""
    if checkpoint.note is None:
        return True
    try:
        parsed = proofs.parse_checkpoint_note(checkpoint.note)
        verify_note(checkpoint.note, parsed.origin, public_key)
    except ValueError:
        return False
    return (parsed.tree_size, parsed.root_hash) == (checkpoint.tree_size,
                                                   bytes(checkpoint.root_hash))


