"""Recording which protocol versions were in use: an IG officer can prove, from the audit log
alone, the exact text of the protocol version that governed any past decision."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from caseshare.audit import service as audit
from caseshare.audit.event_types import EventType
from caseshare.audit.models import AuditEvent
from caseshare.errors import PolicyFileError
from caseshare.policy.models import Protocol, ProtocolSet

LOAD_EVENT = EventType.POLICY_PROTOCOL_LOAD


@dataclass(frozen=True)
class LoadReport:
    recorded: list[str]  # protocol versions seen for the first time, now in the audit log
    known: list[str]  # versions recorded earlier with the same content hash


def recorded_hashes(session: Session) -> dict[str, str]:
    """protocol ref -> content hash, for every version the audit log says was loaded."""
    rows = session.execute(
        select(AuditEvent.protocol, AuditEvent.details)
        .where(AuditEvent.type == LOAD_EVENT)
        .order_by(AuditEvent.id)
    )
    hashes: dict[str, str] = {}
    for ref, details in rows:
        if ref and ref not in hashes:
            hashes[ref] = str(details.get("content_hash", ""))
    return hashes


def _details(protocol: Protocol) -> dict[str, object]:
    return {
        "file": protocol.source_file,
        "content_hash": protocol.content_hash,
        "hash_algorithm": "sha256",
        "status": protocol.status,
        "framework": protocol.framework,
        "effective_from": protocol.effective_from.isoformat(),
        "expires_on": protocol.expires_on.isoformat(),
        "qa_reference": protocol.qa_reference,
    }


def record_loaded(session: Session, *, protocols: ProtocolSet, now: datetime) -> LoadReport:
    """Audit every protocol version not seen before. A version whose file changed since it was
    first recorded is refused: a version is immutable once in use, changes need a new version.
    Adds events to the session; the caller commits."""
    known = recorded_hashes(session)
    changed = [
        f"{p.source_file}: version: {p.ref} was first loaded with content hash "
        f"{known[p.ref]} but the file now hashes to {p.content_hash}; a protocol version "
        "cannot change once loaded, publish it as a new version"
        for p in protocols.protocols if p.ref in known and known[p.ref] != p.content_hash
    ]
    if changed:
        raise PolicyFileError(changed)
    recorded, unchanged = [], []
    for protocol in protocols.protocols:
        if protocol.ref in known:
            unchanged.append(protocol.ref)
            continue
        audit.record(session, type=LOAD_EVENT, now=now, protocol=protocol.ref,
                     details=_details(protocol))
        recorded.append(protocol.ref)
    return LoadReport(recorded=recorded, known=unchanged)
