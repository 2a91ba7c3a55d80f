"""Deletion certificates as the IG pages list them: one row per copy the retention pass deleted
(`DeletedCopy`: which claimant, whose copy, which category, under which rule, due and deleted
when). The pass writes the row and its audit event together; this module only reads the rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from caseshare.cases.models import Case
from caseshare.retention.models import DeletedCopy


@dataclass(frozen=True)
class CertificatePage:
    copies: list[DeletedCopy]
    more: bool  # another page follows


def list_deleted(session: Session, *, orgs: Iterable[str], offset: int = 0,
                 limit: int = 50) -> CertificatePage:
    """Copies held by these organisations that the retention pass deleted, newest first."""
    query = (select(DeletedCopy).where(DeletedCopy.org_id.in_(sorted(set(orgs))))
             .order_by(DeletedCopy.deleted_at.desc(), DeletedCopy.id)
             .offset(max(offset, 0)).limit(limit + 1))
    found = list(session.scalars(query))
    return CertificatePage(found[:limit], len(found) > limit)


def retention_started(session: Session, subject_id: uuid.UUID) -> bool:
    """The retention pass has deleted some organisation's copy of this claimant's data since
    the case closed (a closed case can no longer be reopened: caseshare/access/cases.py). A
    copy deleted earlier, because a consent ended while the case was open, does not count: it
    says nothing about the closure, and must not stop the case being reopened."""
    return bool(session.scalar(select(exists().where(
        DeletedCopy.subject_id == subject_id, Case.subject_id == subject_id,
        Case.status == "closed", Case.closed_at.is_not(None),
        DeletedCopy.deleted_at >= Case.closed_at))))
