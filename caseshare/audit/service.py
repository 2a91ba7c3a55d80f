"""Writing audit events. Every event is added to the caller's transaction; the caller commits."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from caseshare.access.decision import Principal
from caseshare.audit.log import canonical_bytes, leaf_hash
from caseshare.audit.models import AuditEvent


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
    """Add one audit event (`source:subject:action`). It holds ids and codes, never plaintext."""
    event = AuditEvent(
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
    session.add(event)
    return event
