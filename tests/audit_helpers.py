"""Reading audit events back in tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from caseshare.audit.models import AuditEvent
from caseshare.runtime import Runtime


def events(rt: Runtime, **filters: Any) -> list[AuditEvent]:
    with rt.session_factory() as s:
        query = select(AuditEvent).order_by(AuditEvent.id)
        for key, value in filters.items():
            query = query.where(getattr(AuditEvent, key) == value)
        return list(s.scalars(query))


def count(rt: Runtime, model: Any) -> int:
    with rt.session_factory() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)
