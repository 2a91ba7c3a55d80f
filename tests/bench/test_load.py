"""The benchmark's bulk loader writes what the app itself would have written: a sealed audit
history that `audit seal` builds on and `audit verify` passes, rows the app reads back with their
types, and data keys `keys rewrap` can rewrap (both engines)."""

from __future__ import annotations

import uuid
from datetime import UTC
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench import dataset
from bench.load import (
    CHECKPOINT_EVERY,
    SUBJECT_TABLES,
    Target,
    Workdir,
    copy_tables,
    copy_text,
    encode,
    load,
    load_many,
    sample_stride,
    subject_chunks,
)
from caseshare import create_app
from caseshare.audit import checkpoints as audit_checkpoints
from caseshare.audit import verify as audit_verify
from caseshare.audit.models import AuditEvent, AuditTreeNode, Checkpoint
from caseshare.case_plan.models import PlanEntry
from caseshare.case_plan.service import entry_ref
from caseshare.consent.models import Consent
from caseshare.crypto.keyring import LocalKeyring
from caseshare.crypto.sealing import open_sealed
from caseshare.runtime import Runtime
from caseshare.subjects import service as subject_service
from caseshare.subjects.models import Subject
from caseshare.subjects.rewrap import rewrap_all, subjects_by_kek
from tests.conftest import _database_url

SCALE = 0.0002  # 20 subjects, 200 consents, 200 past audit events


def test_loaded_data_set_verifies_and_reads_back(rt: Runtime, tmp_path: Path) -> None:
    url = rt.settings.database_url
    rt.engine.dispose()  # the loader needs the database to itself
    workdir = Workdir(tmp_path / "bench")
    report = load(workdir, url, SCALE, jobs=2)
    sizes = dataset.Sizes.scaled(SCALE)
    assert report["counts"]["subjects"] == sizes.subjects
    assert report["counts"]["consents"] == sizes.consents
    assert report["counts"]["audit_events"] == sizes.audit_events

    bench_rt: Runtime = create_app({
        "instance_path": workdir.instance, "database_url": url,
        "policies_dir": workdir.policies, "forms_dir": workdir.forms}).extensions["caseshare"]
    signer = bench_rt.audit_signer
    with bench_rt.session_factory() as s:
        # As the sealer leaves it: a checkpoint at the end (fewer events than CHECKPOINT_EVERY
        # here), and every perfect node of the loaded tree stored: n - popcount(n) of them.
        assert sizes.audit_events < CHECKPOINT_EVERY
        assert s.scalars(select(Checkpoint.tree_size)).all() == [sizes.audit_events]
        assert s.scalar(select(func.count()).select_from(AuditTreeNode)) == (
            sizes.audit_events - bin(sizes.audit_events).count("1"))
        assert s.scalar(select(func.count()).where(AuditEvent.leaf_mac.is_(None),
                                                   AuditEvent.seq.is_not(None))) == 0
        # The demo seed's events came first but are not yet sequenced: seal puts them after the
        # loaded history, on top of its last checkpoint.
        pending = s.scalar(select(func.count()).where(AuditEvent.seq.is_(None)))
        assert pending and pending > 0
        checkpoint = audit_checkpoints.seal(s, signer, bench_rt.now())
        assert checkpoint is not None
        assert checkpoint.tree_size == sizes.audit_events + pending
        result = audit_verify.verify(s, signer.public_key(), mac_key=signer.mac_key())
        assert result.ok, result.problem
        assert result.events == checkpoint.tree_size
        assert result.checkpoints == 2  # the loader's and the seal's

        sample = report["samples"][0]
        consent = s.get(Consent, uuid.UUID(sample["consent_id"]))
        assert consent is not None
        assert consent.subject_id == uuid.UUID(sample["subject_id"])
        assert consent.valid_from.tzinfo is UTC
        assert sample["lead"] in consent.recipients
        assert consent.categories == dataset.CATEGORIES

        bench_rt.keyring.rotate()
        rewrapped = rewrap_all(s, bench_rt.keyring, batch=7, now=bench_rt.now())
        assert rewrapped == s.scalar(select(func.count()).select_from(Subject))
        assert set(subjects_by_kek(s)) == {bench_rt.keyring.current_version()}
    bench_rt.engine.dispose()


def test_subject_batches_never_straddle_a_smaller_database() -> None:
    assert subject_chunks([1200], 500) == [(0, 500), (500, 500), (1000, 200)]
    assert subject_chunks([50, 20, 50], 500) == [(0, 20), (20, 30)]


def test_copy_text_made_column_by_column_is_the_same(tmp_path: Path) -> None:
    keyring = LocalKeyring.create_if_missing(tmp_path / "keyring.json")
    sizes = dataset.Sizes.scaled(0.0002)
    now = dataset.utcnow()
    batch = dataset.subject_batch(dataset.BatchSpec(0, 0, 20, sizes, now, "hash", 1), keyring,
                                  b"k" * 32)
    events = dataset.audit_batch(0, 100, 100, sizes, now, 1)
    for tables in ([(t, batch[t]) for t in SUBJECT_TABLES], [("audit_events", events)]):
        assert copy_tables(tables).tables == copy_text(encode(tables, "postgresql")).tables


def _runtime(target: Target) -> Runtime:
    w = target.workdir
    app = create_app({"instance_path": w.instance, "database_url": target.database_url,
                      "policies_dir": w.policies, "forms_dir": w.forms})
    rt: Runtime = app.extensions["caseshare"]
    return rt


def _rows(rt: Runtime) -> dict[str, Any]:
    """What must be the same wherever the same rows were loaded."""
    with rt.session_factory() as s:
        bench = select(Subject).where(Subject.lead_org_id.like("bench-%"))
        return {
            "subjects": {(x.id, x.dek_wrapped, x.given_name, x.nino_index)
                         for x in s.scalars(bench)},
            "entries": {(e.id, e.subject_id, e.title, e.detail) for e in s.scalars(
                select(PlanEntry).where(PlanEntry.owner_org.like("bench-%")))},
            "history": s.execute(select(AuditEvent.seq, AuditEvent.leaf_hash,
                                        AuditEvent.leaf_mac).where(AuditEvent.seq.is_not(None))
                                 .order_by(AuditEvent.seq)).all(),
        }


def test_one_generation_loads_both_engines_and_both_sizes(
    templates: dict[str, Any], tmp_path: Path
) -> None:
    """load_many: the same sealed rows in SQLite and PostgreSQL, the smaller data set made of
    the first subjects' very rows, and each database a log `audit verify` passes whose sealed
    fields open under the subject's data key."""
    full, small = 0.0005, 0.00005  # 50 subjects and 500 events; 20 subjects and 100 events
    targets = []
    for scale, suffix in ((full, ""), (small, "-small")):
        for engine in ("sqlite", "postgresql"):
            where = tmp_path / f"{engine}{suffix}"
            where.mkdir()
            targets.append(Target(Workdir(where / "bench"),
                                  _database_url(engine, templates, where), scale))
    reports = load_many(targets, jobs=2)

    rows = []
    for target, report in zip(targets, reports, strict=True):
        sizes = dataset.Sizes.scaled(target.scale)
        assert report["counts"]["subjects"] == sizes.subjects
        assert report["counts"]["plan_entries"] == sizes.plan_entries
        assert report["counts"]["audit_events"] == sizes.audit_events
        rt = _runtime(target)
        rows.append(_rows(rt))
        with rt.session_factory() as s:
            sample = report["samples"][-1]
            subject = s.get(Subject, uuid.UUID(sample["subject_id"]))
            assert subject is not None
            key = subject_service.data_key(subject, rt.keyring)
            entries = s.scalars(select(PlanEntry).where(PlanEntry.subject_id == subject.id))
            titles = {open_sealed(key, entry_ref(e, "title"), e.title) for e in entries}
            assert titles and titles <= set(dataset.TITLES)
            assert audit_checkpoints.seal(s, rt.audit_signer, rt.now()) is not None
            result = audit_verify.verify(s, rt.audit_signer.public_key(),
                                      mac_key=rt.audit_signer.mac_key())
            assert result.ok, result.problem
        rt.engine.dispose()
    sqlite_full, pg_full, sqlite_small, pg_small = rows
    assert len(sqlite_full["subjects"]) == 50 and len(sqlite_small["subjects"]) == 20
    assert sqlite_full == pg_full
    assert sqlite_small == pg_small
    assert sqlite_small["entries"] < sqlite_full["entries"]
    assert sqlite_small["subjects"] < sqlite_full["subjects"]
    assert len(sqlite_small["history"]) == 100 and len(sqlite_full["history"]) == 500


def test_full_and_smaller_samples_read_the_same_mix_of_protocols_and_organisations() -> None:
    # The full-size and 10x smaller reads are compared to show cost does not grow with data
    # size, so their 2,000 sampled claimants must spread over the same protocols and lead
    # organisations (the stride used to be 25 at full size: 2 protocols and 6 organisations).
    mixes = []
    for scale in (1.0, 0.1):
        sizes = dataset.Sizes.scaled(scale)
        stride = sample_stride(sizes.subjects)
        picked = range(0, 2000 * stride, stride)
        mixes.append(({n % sizes.protocols for n in picked},
                      {dataset.case_orgs_of(n, sizes)[0] for n in picked}))
    (protocols, leads), (small_protocols, small_leads) = mixes
    assert len(protocols) == 50 and len(leads) == 150
    assert (protocols, leads) == (small_protocols, small_leads)
