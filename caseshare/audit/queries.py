"""Reading the audit log for information-governance officers: events by filter, a subject's
access history, the latest checkpoint, and inclusion and consistency proofs. No commits here:
the access layer audits each query and commits."""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from caseshare.audit import merkle, proofs, unusual
from caseshare.audit.checkpoints import fetch_nodes, latest_checkpoint
from caseshare.audit.models import AuditEvent, Checkpoint
from caseshare.audit.scope import EVENT_PROTOCOL, AuditScope, EventView, with_protocol
from caseshare.errors import BadCursorError, NotFoundError, ServiceUnavailableError, ValidationError

MAX_LIMIT = 200


class ProofUnavailableError(ServiceUnavailableError):
    """A stored tree node is missing: the log needs `audit verify` before proofs can be served."""

    slug, title = "audit-proof-unavailable", "Audit proof unavailable"


@dataclass(frozen=True)
class EventFilter:
    subject_id: uuid.UUID | None = None
    actor: str | None = None
    org: str | None = None
    purpose: str | None = None
    decision: str | None = None
    type: str | None = None
    from_: datetime | None = None
    to: datetime | None = None

    def as_details(self) -> dict[str, str]:
        """The filter as recorded in the audit event of the query (ids and codes only)."""
        out = {"subject_id": self.subject_id, "actor": self.actor, "org": self.org,
               "purpose": self.purpose, "decision": self.decision, "type": self.type,
               "from": self.from_.isoformat() if self.from_ else None,
               "to": self.to.isoformat() if self.to else None}
        return {k: str(v) for k, v in out.items() if v is not None}


def encode_cursor(event_id: int) -> str:
    return base64.urlsafe_b64encode(f"ev:{event_id}".encode()).decode().rstrip("=")


# Event ids are 64-bit signed integers on both engines; a cursor past that is not one we issued.
_MAX_EVENT_ID = 2**63 - 1


def decode_cursor(cursor: str) -> int:
    """The event id in a cursor `encode_cursor` made; anything else (not base64, not `ev:`,
    not plain ASCII digits, past a 64-bit id) is a 400 naming `cursor`."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        prefix, _, value = raw.partition(":")
        if prefix != "ev" or not (value.isascii() and value.isdigit()) or len(value) > 19:
            raise ValueError("not an event cursor")
        event_id = int(value)
        if event_id > _MAX_EVENT_ID:
            raise ValueError("out of range")
        return event_id
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise BadCursorError() from None


def find_events(session: Session, *, scope: AuditScope, filters: EventFilter,
                cursor: str | None, limit: int) -> tuple[list[EventView], str | None]:
    """Events this viewer sees (caseshare.audit.scope) matching the filters, oldest first, a
    page at a time, as the viewer sees them."""
    query = with_protocol(select(AuditEvent, EVENT_PROTOCOL)).where(scope.condition())
    conditions = {
        AuditEvent.subject_id: filters.subject_id, AuditEvent.actor: filters.actor,
        AuditEvent.org: filters.org, AuditEvent.purpose: filters.purpose,
        AuditEvent.decision: filters.decision, AuditEvent.type: filters.type,
    }
    for column, value in conditions.items():
        if value is not None:
            query = query.where(column == value)
    if filters.from_ is not None:
        query = query.where(AuditEvent.occurred_at >= filters.from_)
    if filters.to is not None:
        query = query.where(AuditEvent.occurred_at < filters.to)
    if cursor is not None:
        query = query.where(AuditEvent.id > decode_cursor(cursor))
    limit = max(1, min(limit, MAX_LIMIT))
    rows = list(session.execute(query.order_by(AuditEvent.id).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return scope.views(rows), encode_cursor(rows[-1][0].id) if more else None


# Events that record a decision about a subject's data (allow or deny), for the access report.
DECISIONS = ("allow", "deny")


def subject_access_history(session: Session, *, subject_id: uuid.UUID,
                           scope: AuditScope) -> list[EventView]:
    """Every allowed and denied access to this subject's data that this viewer sees."""
    query = with_protocol(select(AuditEvent, EVENT_PROTOCOL)).where(
        scope.condition(), AuditEvent.subject_id == subject_id,
        AuditEvent.decision.in_(DECISIONS))
    return scope.views(session.execute(query.order_by(AuditEvent.id)))


def events_for_review(session: Session, *, scope: AuditScope, from_: datetime,
                      to: datetime, up_to_now: bool = False) -> list[EventView]:
    """The events the unusual access rules read: subject accesses and NINO searches that this
    viewer sees, in [from_, to) (or [from_, to] when `to` is now), oldest first."""
    query = with_protocol(select(AuditEvent, EVENT_PROTOCOL)).where(
        scope.condition(), AuditEvent.occurred_at >= from_,
        AuditEvent.occurred_at <= to if up_to_now else AuditEvent.occurred_at < to,
        or_(AuditEvent.subject_id.is_not(None), AuditEvent.type == unusual.NINO_SEARCH))
    return scope.views(session.execute(
        query.order_by(AuditEvent.occurred_at, AuditEvent.id)))


def get_latest_checkpoint(session: Session) -> Checkpoint:
    checkpoint = latest_checkpoint(session)
    if checkpoint is None:
        raise NotFoundError("No checkpoint has been signed yet.")
    return checkpoint


@dataclass(frozen=True)
class InclusionProof:
    leaf_index: int
    tree_size: int
    leaf_hash: bytes
    audit_path: list[bytes]
    root_hash: bytes


@dataclass(frozen=True)
class ConsistencyProof:
    first: int
    second: int
    consistency_path: list[bytes]
    first_root: bytes
    second_root: bytes


def _hashes(session: Session, ranges: list[tuple[int, int]]) -> list[bytes]:
    nodes = fetch_nodes(session, merkle.nodes_for(ranges))
    try:
        return [merkle.range_hash(lo, hi, nodes) for lo, hi in ranges]
    except KeyError:
        raise ProofUnavailableError("The audit log's stored tree is incomplete; an operator "
                                    "must run audit verify.") from None


DAMAGED = ("The audit log's stored tree does not match its signed checkpoints; an operator must "
           "run audit verify.")


def _check_signed_root(session: Session, size: int, root: bytes) -> None:
    """Never serve a proof that would not verify, or against a root that contradicts the
    checkpoint of that size: the stored nodes are a cache, and a damaged cache must not look like
    a forked log to the partner who checks the proof."""
    checkpoint = session.get(Checkpoint, size)
    if checkpoint is not None and checkpoint.root_hash != root:
        raise ProofUnavailableError(DAMAGED)


def _signed_size(latest: Checkpoint, field: str, size: int) -> None:
    if not 1 <= size <= latest.tree_size:
        raise ValidationError({field: [f"Must be between 1 and {latest.tree_size}, the size of "
                                       "the latest checkpoint."]})


def inclusion_proof(session: Session, *, index: int, tree_size: int | None) -> InclusionProof:
    """PATH(index, D[tree_size]) (RFC 9162 2.1.3.1); by default against the latest checkpoint."""
    latest = get_latest_checkpoint(session)
    if tree_size is None:
        tree_size = latest.tree_size
    _signed_size(latest, "tree_size", tree_size)
    if not 0 <= index < tree_size:
        raise ValidationError({"index": [f"Must be below tree_size ({tree_size})."]})
    leaf, root, *path = _hashes(session, [(index, index + 1), (0, tree_size),
                                          *merkle.inclusion_ranges(index, tree_size)])
    _check_signed_root(session, tree_size, root)
    if not proofs.verify_inclusion(leaf, index, tree_size, path, root):
        raise ProofUnavailableError(DAMAGED)
    return InclusionProof(index, tree_size, leaf, path, root)


def consistency_proof(session: Session, *, first: int, second: int) -> ConsistencyProof:
    """PROOF(first, D[second]) (RFC 9162 2.1.4.1) between two sizes of the signed log."""
    _signed_size(get_latest_checkpoint(session), "second", second)
    if not 1 <= first <= second:
        raise ValidationError({"first": ["Must be between 1 and second."]})
    first_root, second_root, *path = _hashes(
        session, [(0, first), (0, second), *merkle.consistency_ranges(first, second)])
    _check_signed_root(session, first, first_root)
    _check_signed_root(session, second, second_root)
    if not proofs.verify_consistency(first, second, first_root, second_root, path):
        raise ProofUnavailableError(DAMAGED)
    return ConsistencyProof(first, second, path, first_root, second_root)
