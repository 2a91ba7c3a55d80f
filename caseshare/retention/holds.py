"""Legal holds: an IG officer pauses the deletion of one claimant's data (litigation, a
complaint, an inquiry) with a reason, and lifts the hold when it is no longer needed.

One active hold per subject: placing a second is a conflict (409), checked here and enforced by
a partial unique index (migration retention_ig_one_active_hold), so two officers placing a hold
at once cannot both succeed. A hold pauses every copy of the subject's data (the retention pass
lists the due items marked `hold` and deletes none of them). The reason is a reference and a
short explanation, never claimant detail: it is shown on the IG pages and kept out of the
audit event (which records the hold's id).

Plain values in, rows out; nothing here commits (the caller's unit of work does).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from caseshare.errors import ConflictError, NotFoundError, ValidationError
from caseshare.facts import Principal
from caseshare.retention.models import LegalHold
from caseshare.subjects.service import lock_subject

REASON_MIN, REASON_MAX = 10, 500


def clean_reason(reason: str | None) -> str:
    """The reason with runs of whitespace folded, or a 422 naming `reason`."""
    folded = " ".join((reason or "").split())
    if len(folded) < REASON_MIN:
        raise ValidationError({"reason": [f"Must be at least {REASON_MIN} characters."]})
    if len(folded) > REASON_MAX:
        raise ValidationError({"reason": [f"Must be at most {REASON_MAX} characters."]})
    return folded


def active_hold(session: Session, subject_id: uuid.UUID) -> LegalHold | None:
    return session.scalars(select(LegalHold).where(
        LegalHold.subject_id == subject_id, LegalHold.lifted_at.is_(None))).first()


def held_subjects(session: Session, subject_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these subjects have an active hold (one query)."""
    wanted = list(set(subject_ids))
    if not wanted:
        return set()
    return set(session.scalars(select(LegalHold.subject_id).where(
        LegalHold.subject_id.in_(wanted), LegalHold.lifted_at.is_(None))))


def place(session: Session, *, subject_id: uuid.UUID, reason: str, by: Principal,
          now: datetime) -> LegalHold:
    """Place a hold on the subject (409 when one is already active). The subject's row is
    locked first: a retention pass deleting this claimant's copies finishes before the hold is
    placed, and one starting after sees it (lock_subject)."""
    text = clean_reason(reason)
    lock_subject(session, subject_id)
    if active_hold(session, subject_id) is not None:
        raise ConflictError("This claimant already has a legal hold. Lift it before placing "
                            "another.")
    hold = LegalHold(id=uuid.uuid4(), subject_id=subject_id, reason=text, placed_at=now,
                     placed_by=by.actor_uuid, placed_org=by.org)
    try:
        with session.begin_nested():
            session.add(hold)
            session.flush()
    except IntegrityError:  # another officer's hold committed between the check and here
        raise ConflictError("This claimant already has a legal hold. Lift it before placing "
                            "another.") from None
    return hold


def get_hold(session: Session, subject_id: uuid.UUID, hold_id: uuid.UUID) -> LegalHold:
    hold = session.get(LegalHold, hold_id)
    if hold is None or hold.subject_id != subject_id:
        raise NotFoundError("No such legal hold.")
    return hold


def lift(session: Session, hold: LegalHold, *, by: Principal, now: datetime) -> LegalHold:
    """Lift an active hold (409 when it was already lifted)."""
    if hold.lifted_at is not None:
        raise ConflictError("This legal hold has already been lifted.")
    hold.lifted_at, hold.lifted_by = now, by.actor_uuid
    session.flush()
    return hold


@dataclass(frozen=True)
class HoldPage:
    holds: list[LegalHold]
    more: bool  # another page follows


def list_holds(session: Session, *, orgs: Iterable[str], active: bool, offset: int = 0,
               limit: int = 50) -> HoldPage:
    """Holds placed by these organisations' IG officers, active or lifted, newest first."""
    query = select(LegalHold).where(LegalHold.placed_org.in_(sorted(set(orgs))))
    if active:
        query = query.where(LegalHold.lifted_at.is_(None)).order_by(
            LegalHold.placed_at.desc(), LegalHold.id)
    else:
        query = query.where(LegalHold.lifted_at.is_not(None)).order_by(
            LegalHold.lifted_at.desc(), LegalHold.id)
    found = list(session.scalars(query.offset(max(offset, 0)).limit(limit + 1)))
    return HoldPage(found[:limit], len(found) > limit)
