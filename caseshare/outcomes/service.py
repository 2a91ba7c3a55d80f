"""Recording outcomes (typed by a worker or computed from records).

`record_outcome` is the one way an outcome row is written: the caller (a use case in
`access/`, which has checked the decision) passes the code's category and the evidence
reference in plain text; it is sealed here under the subject's data key. Recording the same
code for the same claimant on the same day twice is a conflict, never a second count: the
check before inserting answers the ordinary case, the table's unique key the race (two
requests at once), as a 409 too. `record_once` is for the computed path, where a duplicate
is not an error but nothing to do.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from caseshare.case_plan.conflicts import flush_or_conflict
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


def _already_recorded() -> ConflictError:
    return ConflictError("This outcome is already recorded for the claimant on that date.")


def record_outcome(session: Session, data_key: bytes, **fields: Any) -> Outcome:
    """Add one outcome (flushed, not committed): `fields` are `new_outcome`'s. Attribution
    is added by the caller's use case once the outcome exists (outcomes/attribution.py)."""
    outcome = new_outcome(data_key, **fields)
    if find_outcome(session, outcome.subject_id, outcome.code, outcome.achieved_on):
        raise _already_recorded()
    session.add(outcome)
    # A concurrent request may have inserted the same key since the check: 409, not a 503.
    flush_or_conflict(session, _already_recorded, unique=True)
    return outcome


def record_once(session: Session, data_key: bytes, **fields: Any) -> Outcome | None:
    """`record_outcome`, except that an outcome the claimant already has that day is no
    error but None, and the insert is in a savepoint: a concurrent insert of the same key
    undoes only this one, and the caller's unit of work (the record that earned the
    outcome) goes on. For the outcomes Caseshare computes, where a duplicate means the
    outcome is already counted."""
    outcome = new_outcome(data_key, **fields)
    if find_outcome(session, outcome.subject_id, outcome.code, outcome.achieved_on):
        return None
    try:
        with session.begin_nested():
            session.add(outcome)
    except IntegrityError:
        return None
    return outcome


def new_outcome(data_key: bytes, *, subject_id: uuid.UUID, code: str, category: str,
                achieved_on: date, org: str, purpose: str, now: datetime,
                staff_id: uuid.UUID | None, service_line: str | None = None,
                evidence: str | None = None, computed: bool = False,
                source_record_id: uuid.UUID | None = None, own_record: bool = False) -> Outcome:
    """The outcome row, its evidence reference sealed under the subject's data key."""
    outcome = Outcome(id=uuid.uuid4(), subject_id=subject_id, code=code, category=category,
                      achieved_on=achieved_on, service_line=service_line, computed=computed,
                      source_record_id=source_record_id, recorded_org=org,
                      recorded_by=staff_id, recorded_at=now, purpose=purpose,
                      own_record=own_record)
    if evidence:
        outcome.evidence_ref = seal(data_key, 1, evidence_ref(outcome), evidence)
    return outcome
