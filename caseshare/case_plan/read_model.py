"""Plans and entries as reads load them: the plan with its entries in one statement."""

from __future__ import annotations

import uuid

from sqlalchemy import Uuid, bindparam, select
from sqlalchemy.orm import Session

from caseshare.case_plan.models import CasePlan, PlanEntry
from caseshare.errors import NotFoundError

_ORDER = (PlanEntry.created_at, PlanEntry.id)

# Built once: composing a statement costs more than running it. The parameters are typed here:
# a foreign-key column takes its type from the table it refers to, which may not be loaded yet
# when this module is imported.
_PLAN_WITH_ENTRIES = (
    select(CasePlan, PlanEntry)
    .outerjoin(PlanEntry, PlanEntry.plan_id == CasePlan.id)
    .where(CasePlan.subject_id == bindparam("subject_id", type_=Uuid()))
    .order_by(*_ORDER)
)
_ENTRIES_OF_PLAN = (
    select(PlanEntry).where(PlanEntry.plan_id == bindparam("plan_id", type_=Uuid()))
    .order_by(*_ORDER)
)


def get_plan_with_entries(session: Session,
                          subject_id: uuid.UUID) -> tuple[CasePlan, list[PlanEntry]]:
    """The subject's plan and its entries, oldest first, in one statement (the read path)."""
    rows = session.execute(_PLAN_WITH_ENTRIES, {"subject_id": subject_id}).all()
    if not rows:
        raise NotFoundError("This claimant has no case plan yet.")
    return rows[0][0], [entry for _plan, entry in rows if entry is not None]


def entries_of(session: Session, plan_id: uuid.UUID) -> list[PlanEntry]:
    return list(session.scalars(_ENTRIES_OF_PLAN, {"plan_id": plan_id}))
