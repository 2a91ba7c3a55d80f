"""When each organisation had a relationship with each claimant (case membership, referrals,
overrides), for the unusual-access rules in `caseshare.audit.unusual`, which are pure and take
this as a plain value."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from caseshare.audit import unusual
from caseshare.case_plan.models import Referral
from caseshare.overrides.models import OverrideRecord
from caseshare.subjects.models import CaseMember, Subject

_CHUNK = 500  # ids per IN list


def case_relationships(session: Session, subject_ids: Iterable[uuid.UUID]) -> unusual.Relationships:
    """When each organisation had a relationship with each of these claimants: case membership
    (from joining), a referral to or from it (until declined or suspended), an override (while
    in force); and which of the ids are claimants at all."""
    ids = sorted(set(subject_ids), key=str)
    periods: dict[tuple[uuid.UUID, str], list[unusual.Period]] = {}
    existing: set[uuid.UUID] = set()

    def add(subject_id: uuid.UUID, org: str, start: datetime, end: datetime | None) -> None:
        periods.setdefault((subject_id, org), []).append((start, end))

    for at in range(0, len(ids), _CHUNK):
        chunk = ids[at:at + _CHUNK]
        existing |= set(session.scalars(select(Subject.id).where(Subject.id.in_(chunk))))
        for m in session.scalars(select(CaseMember).where(CaseMember.subject_id.in_(chunk))):
            add(m.subject_id, m.org_id, m.joined_at, None)
        for r in session.scalars(select(Referral).where(Referral.subject_id.in_(chunk))):
            ended = r.decided_at if r.status in ("declined", "suspended") else None
            for org in (r.from_org, r.to_org):
                add(r.subject_id, org, r.created_at, ended)
        for o in session.scalars(select(OverrideRecord)
                                 .where(OverrideRecord.subject_id.in_(chunk))):
            add(o.subject_id, o.org_id, o.starts_at, o.expires_at)
    return unusual.Relationships(periods, frozenset(existing))
