"""The benchmark's bulk loader writes what the app itself would have written: a sealed audit
history that `audit seal` builds on and `audit verify` passes, rows the app reads back with their
types, and data keys `keys rewrap` can rewrap (both engines)."""

from __future__ import annotations

import uuid
from datetime import UTC
from pathlib import Path

from sqlalchemy import func, select

from bench import dataset
from bench.load import CHECKPOINT_EVERY, Workdir, load
from caseshare import create_app
from caseshare.audit import log as audit_log
from caseshare.audit.models import AuditEvent, AuditTreeNode, Checkpoint
from caseshare.consent.models import Consent
from caseshare.crypto.rewrap import rewrap_all, subjects_by_kek
from caseshare.runtime import Runtime
from caseshare.subjects.models import Subject

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
        checkpoint = audit_log.seal(s, signer, bench_rt.now())
        assert checkpoint is not None
        assert checkpoint.tree_size == sizes.audit_events + pending
        result = audit_log.verify(s, signer.public_key(), mac_key=signer.mac_key())
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
