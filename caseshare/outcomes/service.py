"""Recording outcomes (typed by a worker or computed from records).

`record_outcome` is the one way an outcome row is written: the caller (a use case in
`access/`, which has checked the decision) passes the code's category and the evidence
reference in plain text; it is sealed here under the subject's data key. Recording the same
code for the same claimant on the same day twice is a conflict, never a second count.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from caseshare.crypto.sealing import FieldRef, seal
from caseshare.errors import ConflictError
from caseshare.outcomes.models import Outcome


def evidence_ref(outcome: Outcome) -> FieldRef:
    return FieldRef(outcome.subject_id, "outcome", str(outcome.id), "evidence_ref",
                    outcome.category)


def find_outcome(session: Session, subject_id: uuid.UUID, code: str,
                 achieved_on: date) -> Outcome | None:
    return session.scalars(select(Outcome).where(
        Outcome.subject_id == subject_id, Outcome.code == code,
        Outcome.achieved_on == achieved_on)).first()


def record_outcome(session: Session, data_key: bytes, *, subject_id: uuid.UUID, code: str,
                   category: str, achieved_on: date, org: str, purpose: str, now: datetime,
                   staff_id: uuid.UUID | None, service_line: str | None = None,
                   evidence: str | None = None, computed: bool = False,
                   source_record_id: uuid.UUID | None = None) -> Outcome:
    """Add one outcome (flushed, not committed). Attribution is added by the caller's use case
    once the outcome exists (outcomes/attribution.py)."""
    if find_outcome(session, subject_id, code, achieved_on) is not None:
        raise ConflictError("This outcome is already recorded for the claimant on that date.")
    outcome = Outcome(id=uuid.uuid4(), subject_id=subject_id, code=code, category=category,
                      achieved_on=achieved_on, service_line=service_line, computed=computed,
                      source_record_id=source_record_id, recorded_org=org,
                      recorded_by=staff_id, recorded_at=now, purpose=purpose)
    if evidence:
        outcome.evidence_ref = seal(data_key, 1, evidence_ref(outcome), evidence)
    session.add(outcome)
    session.flush()
    return outcome
