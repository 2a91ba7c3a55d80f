"""Retention use cases: what is due for deletion (and soon due), and the pass's step that
deletes one subject's due copies (`process_subject`; the loop over subjects, each in its own
unit of work, is the edge's: caseshare/jobs/retention.py).

The pass takes one subject per unit of work: its due copies each get a `DeletedCopy` row and a
deletion certificate (`retention:copy:deleted`); a category no organisation keeps any more has
its sealed values removed (`retention:category:purged`); a subject of whom nothing is kept is
crypto-shredded as erasure does (`retention:subject:shredded`). A pass killed midway loses and
repeats nothing: a subject is either done with all of its certificates or not at all, and a
second pass finds nothing more due for it. A subject under a legal hold is skipped (counted as
held). Certificates hold codes and ids only.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from caseshare.audit import service as audit
from caseshare.audit.event_types import EventType
from caseshare.crypto.keyring import KeyProvider
from caseshare.policy.models import ProtocolSet
from caseshare.retention import holdings, purge, schedule, shredding
from caseshare.retention.models import DeletedCopy
from caseshare.retention.schedule import DueItem
from caseshare.subjects.models import Subject
from caseshare.subjects.service import lock_subject


def _sort_key(item: DueItem) -> tuple[date, str, str, str]:
    return (item.due_on, str(item.subject_id), item.org, item.category)


def _scheduled(session: Session, protocols: ProtocolSet, *, as_of: date, until: date,
               orgs: frozenset[str] | None) -> list[DueItem]:
    """Every copy not yet deleted whose due date is on or before `until` (the basis as it stands
    on `as_of`), of the organisations `orgs` (all when None), in the listing's order."""
    flows = holdings.shared_flows(protocols)
    items: list[DueItem] = []
    for holding in holdings.load(session, holdings.candidates(session, until)).values():
        items.extend(
            item for item in holding.schedule(flows, as_of)
            if item.due_on <= until and (item.org, item.category) not in holding.deleted
            and (orgs is None or item.org in orgs))
    return sorted(items, key=_sort_key)


def cursor_of(item: DueItem) -> tuple[date, str]:
    """The keyset cursor after `item` for `list_due(after=...)`: its due date and
    "subject id|org|category"."""
    return item.due_on, f"{item.subject_id}|{item.org}|{item.category}"


def list_due(session: Session, protocols: ProtocolSet, *, as_of: date,
             orgs: frozenset[str] | None = None, after: tuple[date, str] | None = None,
             limit: int = 100) -> list[DueItem]:
    """Copies due for deletion on `as_of` and not yet deleted, ordered by (due_on, subject_id,
    org, category); held ones included, marked `hold`. `orgs`: only copies these organisations
    hold (an IG officer sees their own partnership's). `after`: `cursor_of` the last item of the
    previous page (a bare subject id as its string skips that subject's items of that day)."""
    items = _scheduled(session, protocols, as_of=as_of, until=as_of, orgs=orgs)
    if after is not None:
        last = (after[0], *after[1].split("|", 2))
        items = [i for i in items if _sort_key(i) > last]
    return items[:limit]


def upcoming(session: Session, protocols: ProtocolSet, *, as_of: date,
             orgs: frozenset[str] | None = None, within_days: int = 90) -> list[DueItem]:
    """Copies that become due after `as_of` and within `within_days` of it, if nothing changes
    (a reopened case or a new consent puts them back)."""
    items = _scheduled(session, protocols, as_of=as_of,
                       until=as_of + timedelta(days=within_days), orgs=orgs)
    return [item for item in items if item.due_on > as_of]


def is_deleted(session: Session, subject_id: uuid.UUID, org: str, category: str) -> bool:
    """Whether the pass deleted `org`'s copy of `category` for this subject."""
    return session.scalar(select(DeletedCopy.id).where(
        DeletedCopy.subject_id == subject_id, DeletedCopy.org_id == org,
        DeletedCopy.category == category)) is not None


def process_subject(session: Session, keyring: KeyProvider, flows: Sequence[schedule.SharedFlow],
             subject_id: uuid.UUID, *, as_of: date, now: datetime) -> dict[str, int]:
    """One subject's share of the pass, inside the caller's unit of work (one per subject:
    caseshare/jobs/retention.py), the counts it adds: deleted, subjects_shredded, held. The
    subject's row is locked first, so a legal hold or a reopening of this claimant committing
    meanwhile is either seen here or waits until this subject is done (PostgreSQL)."""
    if lock_subject(session, subject_id) is None:
        return {}  # gone
    holding = holdings.load(session, [subject_id]).get(subject_id)
    if holding is None:
        return {}  # erased since the candidates were read
    deliveries = holding.deliveries(flows, as_of)
    due = [item for item in schedule.due_items(subject_id, deliveries, holding.closed_on,
                                               holding.held)
           if item.due_on <= as_of and (item.org, item.category) not in holding.deleted]
    if not due:
        return {}
    if holding.held:
        return {"held": 1}
    for item in due:
        _delete_copy(session, item, schedule.basis_of(item, deliveries, holding.closed_on),
                     now=now)
    copies = {(d.org, d.category) for d in deliveries}
    deleted = holding.deleted | {(item.org, item.category) for item in due}
    if copies <= deleted:
        _shred(session, keyring, subject_id, now=now)
        return {"deleted": len(due), "subjects_shredded": 1}
    before = _gone_categories(copies, holding.deleted)
    for category in sorted(_gone_categories(copies, deleted) - before
                           - schedule.RECORD_CATEGORIES):
        removed = purge.purge_category(session, subject_id, category)
        audit.record(session, type=EventType.RETENTION_CATEGORY_PURGED, now=now,
                     subject_id=subject_id, categories=[category], decision="allow",
                     details={"category": category, "removed": removed})
    return {"deleted": len(due)}


def _gone_categories(copies: set[tuple[str, str]], deleted: set[tuple[str, str]]) -> set[str]:
    """Categories of which every copy is deleted."""
    categories = {category for _org, category in copies}
    return {c for c in categories if all((o, c) in deleted for o, cc in copies if cc == c)}


def _delete_copy(session: Session, item: DueItem, basis: str, *, now: datetime) -> None:
    """The DeletedCopy row and its deletion certificate: what (category), whose copy (org),
    under which rule, due when, and which basis ended (`case_closed` or `consent_ended`)."""
    session.add(DeletedCopy(subject_id=item.subject_id, org_id=item.org,
                            category=item.category, due_on=item.due_on, rule=item.rule,
                            deleted_at=now))
    audit.record(session, type=EventType.RETENTION_COPY_DELETED, now=now,
                 subject_id=item.subject_id, categories=[item.category], decision="allow",
                 details={"org": item.org, "category": item.category, "rule": item.rule,
                          "due_on": item.due_on.isoformat(), "basis": basis})


def _shred(session: Session, keyring: KeyProvider, subject_id: uuid.UUID, *,
           now: datetime) -> None:
    """No copy of anything remains: crypto-shred the subject as erasure does, register first."""
    subject = session.get(Subject, subject_id)
    assert subject is not None
    suspended = shredding.tombstone(session, subject, now=now)
    audit.record(session, type=EventType.RETENTION_SUBJECT_SHREDDED, now=now,
                 subject_id=subject_id, decision="allow",
                 details={"method": "crypto_shred", "reason": "retention",
                          "referrals_suspended": [str(r) for r in suspended]})
    shredding.register(session, keyring, subject_id)
