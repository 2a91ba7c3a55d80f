"""Reading audit events back in tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

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


def disable_append_only_triggers(s: Session) -> None:
    """What a database administrator can do, and tampering tests do: switch off the triggers
    that keep audit history append-only (for this transaction on PostgreSQL; dropped on
    SQLite)."""
    if s.get_bind().dialect.name == "postgresql":
        s.execute(text("SET LOCAL session_replication_role = replica"))
        return
    for trigger in ("audit_events_no_update", "audit_events_no_delete",
                    "audit_checkpoints_no_update", "audit_checkpoints_no_delete"):
        s.execute(text(f"DROP TRIGGER IF EXISTS {trigger}"))
