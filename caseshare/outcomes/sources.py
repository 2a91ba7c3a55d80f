"""Outcomes computed from a record: what a record page shows and what stops a second count."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from caseshare.outcomes.models import Outcome


def from_record(session: Session, record_id: uuid.UUID,
                code: str | None = None) -> list[Outcome]:
    """The computed outcomes whose source is `record_id` (of `code`, if given), oldest first."""
    query = select(Outcome).where(Outcome.source_record_id == record_id,
                                  Outcome.computed.is_(True))
    if code is not None:
        query = query.where(Outcome.code == code)
    return list(session.scalars(query.order_by(Outcome.achieved_on)))
