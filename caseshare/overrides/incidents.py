"""Information-governance incidents about overrides: the one an IG officer's review opens when it
finds a break-glass override not justified (called from the access layer; no commit here)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from caseshare.facts import Principal
from caseshare.overrides.models import Incident

OVERRIDE_NOT_JUSTIFIED = "override_not_justified"


def open_for_override(session: Session, *, override_id: uuid.UUID, subject_id: uuid.UUID,
                      org: str, actor: str, reviewer: Principal, now: datetime) -> Incident:
    """An incident for a break-glass override found not justified. Adds to the session."""
    incident = Incident(id=uuid.uuid4(), kind=OVERRIDE_NOT_JUSTIFIED, status="open",
                        subject_id=subject_id, org_id=org, actor=actor, override_id=override_id,
                        opened_at=now, opened_by=reviewer.actor_id, opened_org=reviewer.org)
    session.add(incident)
    session.flush()
    return incident
