"""Support records on a real database (both engines): sealed data with a version per change,
one snapshot per tenancy and month (also when the check is raced, by the unique constraint),
and ciphertext that opens only as its own record."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from caseshare.crypto.sealing import SealError
from caseshare.errors import ConflictError, ValidationError
from caseshare.facts import Principal
from caseshare.runtime import Runtime
from caseshare.subjects import service as subjects
from caseshare.subjects.models import Subject
from caseshare.support_records import service
from caseshare.support_records.models import SupportRecordVersion, TenancySnapshot
from tests.conftest import Clock, Demo

HOUSING = Principal(actor_id=str(uuid.uuid4()), actor_type="staff", org="derby-housing",
                    roles=frozenset({"housing_officer"}))
TENANCY = {"landlord_type": "council", "rent_pence": 45000, "rent_frequency": "monthly",
           "paid_by": "claimant", "start_on": "2025-04-01"}
APA = {"trigger": "debt", "type": "split_payment", "status": "identified",
       "status_dates": {"identified": "2026-01-05"}}


def _key(session: Session, rt: Runtime, subject_id: uuid.UUID) -> bytes:
    subject = session.get(Subject, subject_id)
    assert subject is not None
    return subjects.data_key(subject, rt.keyring)


def test_create_and_update_write_sealed_versions(session: Session, rt: Runtime, demo: Demo,
                                                 clock: Clock) -> None:
    key = _key(session, rt, demo.lee)
    apa = service.create_record(session, subject_id=demo.lee, kind="apa", data=APA,
                                data_key=key, principal=HOUSING, purpose="tenancy_sustainment",
                                now=clock.now)
    session.commit()
    clock.advance(days=1)
    changed = service.update_record(session, record=apa, changes={"status": "requested"},
                                    data_key=key, principal=HOUSING,
                                    purpose="tenancy_sustainment", now=clock.now)
    session.commit()
    assert changed == ["status", "status_dates"] and apa.version == 2
    assert service.open_data(apa, key)["status_dates"]["requested"] == "2026-11-24"
    # Sending back what it already says changes nothing and writes no version.
    assert service.update_record(session, record=apa, changes={"type": "split_payment"},
                                 data_key=key, principal=HOUSING,
                                 purpose="tenancy_sustainment", now=clock.now) == []
    versions = session.scalars(select(SupportRecordVersion).where(
        SupportRecordVersion.record_id == apa.id)).all()
    assert sorted(v.version for v in versions) == [1, 2]
    assert all(b"split_payment" not in v.data for v in versions)
    with pytest.raises(ValidationError):
        service.update_record(session, record=apa, changes={"status": "identified"},
                              data_key=key, principal=HOUSING, purpose="tenancy_sustainment",
                              now=clock.now)


def test_ciphertext_opens_only_as_its_own_record(session: Session, rt: Runtime, demo: Demo,
                                                 clock: Clock) -> None:
    key = _key(session, rt, demo.lee)
    one, two = (service.create_record(session, subject_id=demo.lee, kind="tenancy",
                                      data=TENANCY, data_key=key, principal=HOUSING,
                                      purpose="tenancy_sustainment", now=clock.now)
                for _ in range(2))
    two.data = one.data
    with pytest.raises(SealError):
        service.open_data(two, key)


def test_one_snapshot_per_month_even_when_the_check_is_raced(
    session: Session, rt: Runtime, demo: Demo, clock: Clock
) -> None:
    key = _key(session, rt, demo.lee)
    tenancy = service.create_record(session, subject_id=demo.lee, kind="tenancy", data=TENANCY,
                                    data_key=key, principal=HOUSING,
                                    purpose="tenancy_sustainment", now=clock.now)
    session.commit()
    june = service.SnapshotIn(date(2026, 6, 1), 45000, 45000, 0, "claimant")
    service.add_snapshot(session, record=tenancy, figures=june, data_key=key,
                         principal=HOUSING, now=clock.now)
    session.commit()
    with pytest.raises(ConflictError):
        service.add_snapshot(session, record=tenancy, figures=june, data_key=key,
                             principal=HOUSING, now=clock.now)
    # Past the check (another writer committed between check and insert): the constraint.
    session.rollback()
    racer = TenancySnapshot(record_id=tenancy.id, subject_id=demo.lee, month=date(2026, 6, 1),
                            data=b"x", recorded_at=clock.now, recorded_by=HOUSING.actor_uuid,
                            recorded_org="derby-housing")
    session.add(racer)
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()
    [stored] = service.snapshots_of(session, tenancy.id)
    assert service.open_snapshot(stored, key).rent_paid == 45000


def test_the_domain_checks_a_months_figures_not_only_the_edge(
    session: Session, rt: Runtime, demo: Demo, clock: Clock
) -> None:
    # Review 24 finding 15: the page allowed £9,999,999.99 and the domain checked nothing.
    key = _key(session, rt, demo.lee)
    tenancy = service.create_record(session, subject_id=demo.lee, kind="tenancy", data=TENANCY,
                                    data_key=key, principal=HOUSING,
                                    purpose="tenancy_sustainment", now=clock.now)
    session.commit()
    bad = service.SnapshotIn(date(2026, 6, 1), 999_999_999, -1, 100_000_001, "landlord")
    with pytest.raises(ValidationError) as caught:
        service.add_snapshot(session, record=tenancy, figures=bad, data_key=key,
                             principal=HOUSING, now=clock.now)
    assert sorted(caught.value.extra["errors"]) == [
        "arrears_pence", "paid_by", "rent_due_pence", "rent_paid_pence"]
    most = service.SnapshotIn(date(2026, 6, 1), 100_000_000, 0, 0, "claimant")
    service.add_snapshot(session, record=tenancy, figures=most, data_key=key,
                         principal=HOUSING, now=clock.now)
