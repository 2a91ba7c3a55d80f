"""RFC 9162 Merkle tree hashing, the sequencer, signed checkpoints and verification."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from caseshare.audit.models import AuditEvent, Checkpoint
from caseshare.crypto.keyring import write_private


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_of(leaves: list[bytes]) -> bytes:
    """Merkle tree head of leaf hashes (RFC 9162 section 2.1.1), in one pass."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    stack: list[tuple[int, bytes]] = []  # (subtree size, hash) with sizes strictly decreasing
    for leaf in leaves:
        size, h = 1, leaf
        while stack and stack[-1][0] == size:
            left_size, left = stack.pop()
            size, h = left_size + size, node_hash(left, h)
        stack.append((size, h))
    h = stack[-1][1]
    for _size, left in reversed(stack[:-1]):
        h = node_hash(left, h)
    return h


def _json_default(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(type(value).__name__)


def canonical_bytes(event: AuditEvent) -> bytes:
    """The exact bytes an event's leaf hash covers: every field except its log position."""
    body = {
        "event_uuid": event.event_uuid,
        "occurred_at": event.occurred_at,
        "type": event.type,
        "actor": event.actor,
        "org": event.org,
        "role": event.role,
        "purpose": event.purpose,
        "subject_id": event.subject_id,
        "categories": list(event.categories),
        "decision": event.decision,
        "reasons": list(event.reasons),
        "consent_id": event.consent_id,
        "protocol": event.protocol,
        "override_id": event.override_id,
        "request_id": event.request_id,
        "details": event.details,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), default=_json_default).encode()


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


def checkpoint_message(tree_size: int, root: bytes, timestamp: datetime) -> bytes:
    text = f"caseshare-audit-checkpoint\n{tree_size}\n{root.hex()}\n{timestamp.isoformat()}\n"
    return text.encode()


def _lock_sequencer(session: Session) -> None:
    """Only one sequencer at a time: a PostgreSQL advisory lock; SQLite serialises writers."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(4242001)"))


def integrate(session: Session) -> int:
    """Give pending events their log positions, in insertion order. Returns how many."""
    _lock_sequencer(session)
    next_seq = (session.scalar(select(func.max(AuditEvent.seq))) or -1) + 1
    pending = session.scalars(
        select(AuditEvent).where(AuditEvent.seq.is_(None)).order_by(AuditEvent.id)
    ).all()
    for offset, event in enumerate(pending):
        event.seq = next_seq + offset
    session.flush()
    return len(pending)


def seal(session: Session, signer: AuditSigner, now: datetime) -> Checkpoint | None:
    """Integrate pending events and sign a checkpoint of the whole log. Commits once."""
    integrate(session)
    leaves = list(session.scalars(select(AuditEvent.leaf_hash).order_by(AuditEvent.seq)))
    size = len(leaves)
    latest = session.scalar(select(Checkpoint).order_by(Checkpoint.tree_size.desc()).limit(1))
    if latest is not None and latest.tree_size == size:
        session.commit()
        return latest
    root = root_of(leaves)
    checkpoint = Checkpoint(
        tree_size=size,
        root_hash=root,
        timestamp=now,
        signature=signer.sign(checkpoint_message(size, root, now)),
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


def verify(session: Session, public_key: Ed25519PublicKey) -> VerifyResult:
    """Recompute every leaf and every checkpoint root; name the first problem found."""
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.seq.is_not(None)).order_by(AuditEvent.seq)
    )
    leaves: list[bytes] = []
    last_time: datetime | None = None
    for position, event in enumerate(events):
        if event.seq != position:
            return VerifyResult(False, position, 0, f"log position {position} is missing "
                                f"(found event {event.id} at position {event.seq})")
        if leaf_hash(canonical_bytes(event)) != event.leaf_hash:
            return VerifyResult(False, position, 0,
                                f"event {event.id} (position {position}) was altered")
        if last_time is not None and event.occurred_at < last_time and (
            last_time - event.occurred_at
        ).total_seconds() > 5:
            return VerifyResult(False, position, 0,
                                f"event {event.id} (position {position}) is back-dated")
        last_time = max(last_time, event.occurred_at) if last_time else event.occurred_at
        leaves.append(event.leaf_hash)
    checkpoints = session.scalars(select(Checkpoint).order_by(Checkpoint.tree_size)).all()
    for checkpoint in checkpoints:
        message = checkpoint_message(checkpoint.tree_size, checkpoint.root_hash,
                                     checkpoint.timestamp)
        try:
            public_key.verify(checkpoint.signature, message)
        except InvalidSignature:
            return VerifyResult(False, len(leaves), len(checkpoints),
                                f"checkpoint {checkpoint.tree_size} has a bad signature")
        if checkpoint.tree_size > len(leaves):
            return VerifyResult(False, len(leaves), len(checkpoints),
                                f"checkpoint {checkpoint.tree_size} covers events that are "
                                f"missing (log has {len(leaves)})")
        if root_of(leaves[: checkpoint.tree_size]) != checkpoint.root_hash:
            return VerifyResult(False, len(leaves), len(checkpoints),
                                f"checkpoint {checkpoint.tree_size} does not match the events "
                                "(an event was inserted, deleted, reordered or altered)")
    return VerifyResult(True, len(leaves), len(checkpoints))
