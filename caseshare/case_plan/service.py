"""Case plans and their entries: sealing on write, opening on read, optimistic concurrency."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select
from sqlalchemy.orm import Session

from caseshare.case_plan import read_model
from caseshare.case_plan.conflicts import flush_or_conflict
from caseshare.case_plan.models import SEALED_ENTRY_FIELDS, CasePlan, PlanEntry, PlanEntryVersion
from caseshare.crypto.sealing import FieldRef, open_sealed, seal
from caseshare.errors import ConflictError
from caseshare.facts import Principal

# The fields that hold someone's words (sealed). They are the words of the entry's author
# organisation (`created_org`) and are shared under its flows, so only it changes them; another
# case organisation may change the codes (status, due date, organisation responsible, service).
TEXT_FIELDS = SEALED_ENTRY_FIELDS

def entry_ref(entry: PlanEntry, field: str) -> FieldRef:
    return FieldRef(entry.subject_id, "plan_entry", str(entry.id), field, entry.category)


def find_plan(session: Session, subject_id: uuid.UUID) -> CasePlan | None:
    return session.scalar(select(CasePlan).where(CasePlan.subject_id == subject_id))


@dataclass(frozen=True)
class PlanView:
    """A plan as a read returns it: with the case members the decision was made on, so the
    response needs no second look at the database."""

    id: uuid.UUID
    subject_id: uuid.UUID
    lead_org_id: str
    members: list[str]


def plan_view(plan: CasePlan, members: frozenset[str]) -> PlanView:
    return PlanView(plan.id, plan.subject_id, plan.lead_org_id, sorted(members))


def entries_of(session: Session, plan: CasePlan) -> list[PlanEntry]:
    return read_model.entries_of(session, plan.id)


def find_entry(session: Session, plan: CasePlan, entry_id: uuid.UUID) -> PlanEntry | None:
    entry = session.get(PlanEntry, entry_id)
    return entry if entry is not None and entry.plan_id == plan.id else None


def create_plan(
    session: Session, *, subject_id: uuid.UUID, lead_org: str, principal: Principal, now: datetime
) -> CasePlan:
    if find_plan(session, subject_id) is not None:
        raise _plan_exists()
    plan = CasePlan(
        subject_id=subject_id, lead_org_id=lead_org, created_at=now,
        created_by=principal.actor_uuid,
    )
    session.add(plan)
    flush_or_conflict(session, _plan_exists, unique=True)
    return plan


def _plan_exists() -> ConflictError:
    return ConflictError("This claimant already has a case plan.")


def add_entry(
    session: Session,
    *,
    plan: CasePlan,
    data_key: bytes,
    principal: Principal,
    purpose: str,
    values: dict[str, Any],
    now: datetime,
    own_record: bool = False,
) -> PlanEntry:
    entry = PlanEntry(
        id=uuid.uuid4(),
        plan_id=plan.id,
        subject_id=plan.subject_id,
        kind=values["kind"],
        category=values["category"],
        owner_org=values.get("owner_org") or principal.org,
        created_org=principal.org,
        status=values.get("status") or "open",
        due_on=values.get("due_on"),
        service=values.get("service"),
        own_record=own_record,
        created_at=now,
        created_by=principal.actor_uuid,
        updated_at=now,
        updated_by=principal.actor_uuid,
        updated_purpose=purpose,
    )
    _seal_fields(entry, data_key, values)
    session.add(entry)
    session.flush()
    _record_version(session, entry, principal, purpose, "create", sorted(values), now)
    return entry


def update_entry(
    session: Session,
    *,
    entry: PlanEntry,
    data_key: bytes,
    principal: Principal,
    purpose: str,
    changes: dict[str, Any],
    now: datetime,
) -> PlanEntry:
    """Apply changes; the version column makes a concurrent update fail instead of overwrite
    (a ConflictError, see conflicts.flush_or_conflict)."""
    for name in ("status", "due_on", "owner_org", "service"):
        if name in changes:
            setattr(entry, name, changes[name])
    _seal_fields(entry, data_key, changes)
    entry.updated_at = now
    entry.updated_by = principal.actor_uuid
    entry.updated_purpose = purpose
    flush_or_conflict(session, EditConflictError)
    _record_version(session, entry, principal, purpose, "update", sorted(changes), now)
    return entry


class EditConflictError(ConflictError):
    def __init__(self) -> None:
        super().__init__("Another change to this entry was saved at the same moment; "
                         "reload it and apply your change again.")


def _record_version(session: Session, entry: PlanEntry, principal: Principal, purpose: str,
                    action: str, fields: list[str], now: datetime) -> None:
    session.add(PlanEntryVersion(
        entry_id=entry.id, subject_id=entry.subject_id, version=entry.version, action=action,
        changed_fields=fields, category=entry.category, owner_org=entry.owner_org,
        status=entry.status, due_on=entry.due_on, title=entry.title, detail=entry.detail,
        owner_name=entry.owner_name, service=entry.service, outcome=entry.outcome,
        changed_at=now, changed_by=principal.actor_uuid,
        changed_org=principal.org, purpose=purpose,
    ))
    session.flush()


def text_changes(entry: PlanEntry, data_key: bytes, changes: dict[str, Any]) -> list[str]:
    """The text fields `changes` would really change: a field sent back with the value it
    already holds (a form or client that sends the whole entry) changes no one's words."""
    changed = []
    for name in TEXT_FIELDS:
        if name not in changes:
            continue
        sealed = getattr(entry, name)
        current = None if sealed is None else open_sealed(data_key, entry_ref(entry, name), sealed)
        if changes[name] != current:
            changed.append(name)
    return changed


def entry_history(session: Session, entry: PlanEntry) -> list[PlanEntryVersion]:
    """Every recorded state of the entry, newest first."""
    return list(session.scalars(
        select(PlanEntryVersion).where(PlanEntryVersion.entry_id == entry.id)
        .order_by(PlanEntryVersion.version.desc())
    ))


def text_writers(versions: Sequence[PlanEntryVersion]) -> dict[int, dict[str, str]]:
    """For each version, the organisation whose words each text field holds in it: the
    organisation of the latest version (up to it) that wrote that field. A version copies the
    fields it did not change from the one before, so a later version by the author can still
    carry words another organisation wrote before the author-only rule (older databases)."""
    writers: dict[str, str] = {}
    out: dict[int, dict[str, str]] = {}
    for version in sorted(versions, key=lambda v: v.version):
        for name in TEXT_FIELDS:
            if version.action == "create" or name in version.changed_fields:
                writers[name] = version.changed_org
        out[version.version] = dict(writers)
    return out


def open_version(entry: PlanEntry, version: PlanEntryVersion, data_key: bytes,
                 withhold: Collection[str] = ()) -> dict[str, Any]:
    """One version opened; the text fields named in `withhold` stay shut (None)."""
    opened: dict[str, Any] = {
        "version": version.version,
        "action": version.action,
        "changed_fields": version.changed_fields,
        "changed_at": version.changed_at,
        "changed_by": version.changed_by,
        "changed_org": version.changed_org,
        "purpose": version.purpose,
        "category": version.category,
        "owner_org": version.owner_org,
        "status": version.status,
        "due_on": version.due_on,
        "service": version.service,
    }
    for name in SEALED_ENTRY_FIELDS:
        sealed = getattr(version, name)
        opened[name] = None if sealed is None or name in withhold else open_sealed(
            data_key, entry_ref(entry, name), sealed)
    return opened


def _seal_fields(entry: PlanEntry, data_key: bytes, values: dict[str, Any]) -> None:
    for name in SEALED_ENTRY_FIELDS:
        if name in values:
            value = values[name]
            sealed = None if value is None else seal(data_key, 1, entry_ref(entry, name), value)
            setattr(entry, name, sealed)


def open_entry(entry: PlanEntry, data_key: bytes | AESGCM) -> dict[str, Any]:
    opened: dict[str, Any] = {
        "id": entry.id,
        "kind": entry.kind,
        "category": entry.category,
        "owner_org": entry.owner_org,
        "status": entry.status,
        "due_on": entry.due_on,
        "service": entry.service,
        "version": entry.version,
        "updated_at": entry.updated_at,
    }
    for name in SEALED_ENTRY_FIELDS:
        sealed = getattr(entry, name)
        opened[name] = None if sealed is None else open_sealed(data_key, entry_ref(entry, name),
                                                               sealed)
    return opened


def entry_etag(entry: PlanEntry) -> str:
    return f'"e-{entry.id.hex[:12]}-{entry.version}"'


def view_etag(entries: Sequence[PlanEntry]) -> str:
    """An ETag over what this caller can see (not the whole plan), so it leaks nothing."""
    digest = hashlib.sha256()
    for entry in sorted(entries, key=lambda e: e.id):
        digest.update(f"{entry.id}:{entry.version};".encode())
    return f'"p-{digest.hexdigest()[:24]}"'
