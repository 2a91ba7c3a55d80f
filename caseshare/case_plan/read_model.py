"""Plans and entries as reads see them: frozen rows selected with SQLAlchemy Core, no ORM state.

Loading a plan's entries as ORM objects costs several times the statement itself (identity
map, instrumented attributes, every UUID column parsed; figures in docs/performance.md, third
pass). Reads never change an entry, so they take these rows; writes keep `PlanEntry`,
whose version column makes a concurrent edit fail instead of overwrite. Functions that only
look at an entry (open it, name its fields, tag it) accept either through `EntryFields`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import Uuid, bindparam, select
from sqlalchemy.orm import Session

from caseshare.case_plan.models import CasePlan, PlanEntry
from caseshare.driver_sql import DriverSelect
from caseshare.errors import NotFoundError


class EntryFields(Protocol):
    """What reading an entry needs: a `PlanEntry` or an `EntryRow`."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def subject_id(self) -> uuid.UUID: ...
    @property
    def kind(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def owner_org(self) -> str: ...
    @property
    def created_org(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def due_on(self) -> date | None: ...
    @property
    def service(self) -> str | None: ...
    @property
    def version(self) -> int: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def updated_at(self) -> datetime: ...
    @property
    def title(self) -> bytes: ...
    @property
    def detail(self) -> bytes | None: ...
    @property
    def owner_name(self) -> bytes | None: ...
    @property
    def outcome(self) -> bytes | None: ...


@dataclass(frozen=True, slots=True)
class EntryRow:
    """One plan entry as stored (sealed fields still sealed), detached from any session."""

    id: uuid.UUID
    subject_id: uuid.UUID
    kind: str
    category: str
    owner_org: str
    created_org: str
    status: str
    due_on: date | None
    service: str | None
    version: int
    created_at: datetime
    updated_at: datetime
    title: bytes
    detail: bytes | None
    owner_name: bytes | None
    outcome: bytes | None


@dataclass(frozen=True, slots=True)
class PlanRow:
    id: uuid.UUID
    subject_id: uuid.UUID
    lead_org_id: str


_ENTRIES, _PLANS = PlanEntry.__table__, CasePlan.__table__
_E, _P = _ENTRIES.c, _PLANS.c
# In EntryRow's field order; selected from the table, not the mapped class, so the statement is
# plain Core (no ORM compilation or loading).
_ENTRY_COLUMNS = (_E.id, _E.subject_id, _E.kind, _E.category, _E.owner_org, _E.created_org,
                  _E.status, _E.due_on, _E.service, _E.version, _E.created_at, _E.updated_at,
                  _E.title, _E.detail, _E.owner_name, _E.outcome)
_ORDER = (_E.created_at, _E.id)

# Built once: composing a statement costs more than running it. The parameters are typed here:
# a foreign-key column takes its type from the table it refers to, which may not be loaded yet
# when this module is imported.
# Both run on the driver's cursor (driver_sql.py): every read runs the first.
_PLAN_WITH_ENTRIES = DriverSelect(
    select(_P.id, _P.lead_org_id, *_ENTRY_COLUMNS)
    .select_from(_PLANS.outerjoin(_ENTRIES, _E.plan_id == _P.id))
    .where(_P.subject_id == bindparam("subject_id", type_=Uuid()))
    .order_by(*_ORDER)
)
_ENTRIES_OF_PLAN = DriverSelect(
    select(*_ENTRY_COLUMNS).where(_E.plan_id == bindparam("plan_id", type_=Uuid()))
    .order_by(*_ORDER)
)


def get_plan_with_entries(session: Session,
                          subject_id: uuid.UUID) -> tuple[PlanRow, list[EntryRow]]:
    """The subject's plan and its entries, oldest first, in one statement (the read path)."""
    rows = _PLAN_WITH_ENTRIES.rows(session, {"subject_id": subject_id})
    if not rows:
        raise NotFoundError("This claimant has no case plan yet.")
    plan = PlanRow(rows[0][0], subject_id, rows[0][1])
    return plan, [_entry(row[2:]) for row in rows if row[2] is not None]


def entries_of(session: Session, plan_id: uuid.UUID) -> list[EntryRow]:
    return [_entry(row) for row in _ENTRIES_OF_PLAN.rows(session, {"plan_id": plan_id})]


def _entry(values: Sequence[Any]) -> EntryRow:
    return EntryRow(*values)
