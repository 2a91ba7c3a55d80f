"""Support records: sealing on write, a version row per change, monthly tenancy snapshots,
opening for reads. The caller (a use case in `access/`) has decided and audits; nothing here
commits."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select
from sqlalchemy.orm import Session

from caseshare.case_plan.conflicts import flush_or_conflict
from caseshare.crypto.sealing import FieldRef, open_sealed, seal
from caseshare.errors import ConflictError, ValidationError
from caseshare.facts import Principal
from caseshare.support_records import rent, validation
from caseshare.support_records.models import (
    RECORD_CATEGORIES,
    RENT_PAYERS,
    SupportRecord,
    SupportRecordVersion,
    TenancySnapshot,
)
from caseshare.uk_time import uk_today


def data_ref(record: SupportRecord) -> FieldRef:
    return FieldRef(record.subject_id, "support_record", str(record.id), "data", record.category)


def snapshot_ref(snapshot: TenancySnapshot) -> FieldRef:
    return FieldRef(snapshot.subject_id, "support_record", str(snapshot.id), "snapshot",
                    RECORD_CATEGORIES["tenancy"])


def records_of(session: Session, subject_id: uuid.UUID,
               kind: str | None = None) -> list[SupportRecord]:
    query = select(SupportRecord).where(SupportRecord.subject_id == subject_id)
    if kind is not None:
        query = query.where(SupportRecord.kind == kind)
    return list(session.scalars(query.order_by(SupportRecord.created_at, SupportRecord.id)))


def find_record(session: Session, subject_id: uuid.UUID,
                record_id: uuid.UUID) -> SupportRecord | None:
    record = session.get(SupportRecord, record_id)
    return record if record is not None and record.subject_id == subject_id else None


def create_record(session: Session, *, subject_id: uuid.UUID, kind: str, data: dict[str, Any],
                  data_key: bytes, principal: Principal, purpose: str, now: datetime,
                  own_record: bool = False) -> SupportRecord:
    """Add a record of `kind` with checked `data` (a ValidationError names each bad field)."""
    checked = validation.check(kind, data)
    record = SupportRecord(
        id=uuid.uuid4(), subject_id=subject_id, kind=kind, category=RECORD_CATEGORIES[kind],
        created_org=principal.org, review_on=validation.review_on(kind, checked),
        own_record=own_record, created_at=now, created_by=principal.actor_uuid,
        updated_at=now, updated_by=principal.actor_uuid, updated_purpose=purpose, data=b"")
    record.data = seal(data_key, 1, data_ref(record), json.dumps(checked, sort_keys=True))
    session.add(record)
    session.flush()
    _record_version(session, record, principal, purpose, "create", sorted(checked), now)
    return record


def update_record(session: Session, *, record: SupportRecord, changes: dict[str, Any],
                  data_key: bytes, principal: Principal, purpose: str,
                  now: datetime) -> list[str]:
    """Apply changed fields over the current data, check the whole again and seal it; the fields
    that really changed (none: nothing is written). An APA's status only moves forward."""
    current = open_data(record, data_key)
    merged = {**current, **changes}
    if record.kind == "apa" and "status" in changes:
        validation.check_apa_move(current["status"], merged["status"])
        if merged["status"] != current["status"] and "status_dates" not in changes:
            merged["status_dates"] = {**current["status_dates"],
                                      merged["status"]: now.date().isoformat()}
    checked = validation.check(record.kind, merged)
    changed = sorted(name for name in checked if checked[name] != current.get(name))
    if not changed:
        return []
    record.data = seal(data_key, 1, data_ref(record), json.dumps(checked, sort_keys=True))
    record.review_on = validation.review_on(record.kind, checked)
    record.updated_at = now
    record.updated_by = principal.actor_uuid
    record.updated_purpose = purpose
    flush_or_conflict(session, EditConflictError)
    _record_version(session, record, principal, purpose, "update", changed, now)
    return changed


class EditConflictError(ConflictError):
    def __init__(self) -> None:
        super().__init__("Another change to this record was saved at the same moment; "
                         "reload it and apply your change again.")


def _record_version(session: Session, record: SupportRecord, principal: Principal, purpose: str,
                    action: str, fields: list[str], now: datetime) -> None:
    # The ciphertext is copied byte for byte: its associated data names the record.
    session.add(SupportRecordVersion(
        record_id=record.id, subject_id=record.subject_id, version=record.version,
        action=action, changed_fields=fields, data=record.data, review_on=record.review_on,
        changed_at=now, changed_by=principal.actor_uuid, changed_org=principal.org,
        purpose=purpose))
    session.flush()


def open_data(record: SupportRecord, data_key: bytes | AESGCM) -> dict[str, Any]:
    opened: dict[str, Any] = json.loads(open_sealed(data_key, data_ref(record), record.data))
    return opened


def open_record(record: SupportRecord, data_key: bytes | AESGCM) -> dict[str, Any]:
    return {
        "id": record.id, "kind": record.kind, "category": record.category,
        "created_org": record.created_org, "review_on": record.review_on,
        "own_record": record.own_record, "version": record.version,
        "created_at": record.created_at, "updated_at": record.updated_at,
        "data": open_data(record, data_key),
    }


def record_etag(record: SupportRecord) -> str:
    return f'"r-{record.id.hex[:12]}-{record.version}"'


def history(session: Session, record: SupportRecord) -> list[SupportRecordVersion]:
    """Every recorded state, newest first."""
    return list(session.scalars(
        select(SupportRecordVersion).where(SupportRecordVersion.record_id == record.id)
        .order_by(SupportRecordVersion.version.desc())))


def open_version(record: SupportRecord, version: SupportRecordVersion,
                 data_key: bytes) -> dict[str, Any]:
    return {
        "version": version.version, "action": version.action,
        "changed_fields": version.changed_fields, "changed_at": version.changed_at,
        "changed_by": version.changed_by, "changed_org": version.changed_org,
        "purpose": version.purpose, "review_on": version.review_on,
        "data": json.loads(open_sealed(data_key, data_ref(record), version.data)),
    }


# Monthly snapshots -------------------------------------------------------------------------


@dataclass(frozen=True)
class SnapshotIn:
    month: date
    rent_due: int
    rent_paid: int
    arrears: int
    paid_by: str


def snapshots_of(session: Session, record_id: uuid.UUID) -> list[TenancySnapshot]:
    return list(session.scalars(select(TenancySnapshot).where(
        TenancySnapshot.record_id == record_id).order_by(TenancySnapshot.month)))


def add_snapshot(session: Session, *, record: SupportRecord, figures: SnapshotIn,
                 data_key: bytes, principal: Principal, now: datetime) -> TenancySnapshot:
    """One month of a tenancy's rent account; a month already recorded is a 409, a month
    outside the tenancy (before its start, or after the current month) a ValidationError."""
    check_figures(figures)
    check_month(record, figures.month, data_key, uk_today(now))
    for existing in snapshots_of(session, record.id):
        if existing.month == figures.month:
            raise _month_exists()
    snapshot = TenancySnapshot(
        id=uuid.uuid4(), record_id=record.id, subject_id=record.subject_id,
        month=figures.month, recorded_at=now, recorded_by=principal.actor_uuid,
        recorded_org=principal.org, data=b"")
    body = {"rent_due": figures.rent_due, "rent_paid": figures.rent_paid,
            "arrears": figures.arrears, "paid_by": figures.paid_by}
    snapshot.data = seal(data_key, 1, snapshot_ref(snapshot), json.dumps(body, sort_keys=True))
    session.add(snapshot)
    flush_or_conflict(session, _month_exists, unique=True)
    return snapshot


def check_figures(figures: SnapshotIn) -> None:
    """The month's amounts are whole pence within the limit, and the payer one we know: checked
    here, not only at the edge, so the page and the API cannot disagree."""
    errors = {f"{name}_pence": [problem] for name, value in (
        ("rent_due", figures.rent_due), ("rent_paid", figures.rent_paid),
        ("arrears", figures.arrears)) if (problem := validation.pence_problem(value))}
    if figures.paid_by not in RENT_PAYERS:
        errors["paid_by"] = [f"Must be one of: {', '.join(RENT_PAYERS)}."]
    if errors:
        raise ValidationError(errors)


def check_month(record: SupportRecord, month: date, data_key: bytes, today: date) -> None:
    """A tenancy's months run from the month it started to the current month: no figures for
    a month before it began or one still to come (an outcome would be dated in the future)."""
    start = date.fromisoformat(open_data(record, data_key)["start_on"]).replace(day=1)
    latest = today.replace(day=1)
    if not start <= month <= latest:
        raise ValidationError({"month": [
            f"Must be a month from {start:%Y-%m} (the tenancy's start) to {latest:%Y-%m} "
            "(this month)."]})


def _month_exists() -> ConflictError:
    return ConflictError("This month is already recorded for the tenancy.")


def open_snapshot(snapshot: TenancySnapshot, data_key: bytes | AESGCM) -> rent.MonthFigures:
    body = json.loads(open_sealed(data_key, snapshot_ref(snapshot), snapshot.data))
    return rent.MonthFigures(snapshot.month, body["rent_due"], body["rent_paid"],
                             body["arrears"], body["paid_by"])


def apa_ended_on(record: SupportRecord, data_key: bytes | AESGCM) -> date | None:
    data = open_data(record, data_key)
    ended = data.get("status_dates", {}).get("ended") if data.get("status") == "ended" else None
    return date.fromisoformat(ended) if ended else None
