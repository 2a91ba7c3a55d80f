"""Backup and restore keep every consent and audit event, and the restored log verifies."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, text

from caseshare import create_app
from caseshare.audit.models import AuditEvent
from caseshare.consent.models import Consent
from caseshare.identity import service as identity
from caseshare.runtime import Runtime
from caseshare.subjects.models import Subject
from tests.audit_helpers import count, events
from tests.builders import assert_problem, consent, register
from tests.conftest import COACH, HOUSING, IG, KEY_WORKER, Clock, Demo, issue_token

JCP_IG = "morgan.ellis@jcp-derby.example"


def _restored_app(app: Flask, tmp_path: Path, url: str, clock: Clock) -> Flask:
    rt: Runtime = app.extensions["caseshare"]
    # The keys travel with the backup (from the secrets store); the restored app uses them.
    instance = tmp_path / "restored-instance"
    shutil.copytree(rt.settings.instance_path, instance)
    return create_app({"instance_path": instance, "database_url": url, "clock": clock})


def _verify(app: Flask) -> Any:
    return app.test_cli_runner().invoke(args=["caseshare", "audit", "verify"])


def test_sqlite_online_backup_restores_and_verifies(
    app: Flask, rt: Runtime, demo: Demo, tmp_path: Path, clock: Clock, engine: str
) -> None:
    runner = app.test_cli_runner()
    assert runner.invoke(args=["caseshare", "audit", "seal"]).exit_code == 0
    target = tmp_path / "backup" / "caseshare-backup.db"
    result = runner.invoke(args=["caseshare", "backup", "--to", str(target)])
    if engine == "postgresql":
        assert result.exit_code == 1 and "pg_dump" in result.output
        return
    assert result.exit_code == 0, result.output
    assert target.stat().st_mode & 0o777 == 0o600
    restored = _restored_app(app, tmp_path, f"sqlite:///{target}", clock)
    r_rt: Runtime = restored.extensions["caseshare"]
    assert count(r_rt, Consent) == count(rt, Consent) > 0
    # Events written after the backup (the backup's own audit event) are not in it.
    assert count(r_rt, AuditEvent) == count(rt, AuditEvent) - 1
    verified = _verify(restored)
    assert verified.exit_code == 0, verified.output


def test_postgresql_dump_and_restore_procedure(
    app: Flask, rt: Runtime, demo: Demo, tmp_path: Path, clock: Clock, engine: str
) -> None:
    """The documented procedure (docs/backup.md): pg_dump -Fc, then pg_restore into a new
    database, then audit verify."""
    if engine != "postgresql":
        pytest.skip("the PostgreSQL procedure")
    assert app.test_cli_runner().invoke(args=["caseshare", "audit", "seal"]).exit_code == 0
    url = rt.engine.url
    bindir = Path(shutil.which("pg_dump") or "/usr/bin/pg_dump").parent
    dump = tmp_path / "caseshare.dump"
    conn_args = ["-h", "127.0.0.1", "-p", str(url.port), "-U", "postgres"]
    subprocess.run([str(bindir / "pg_dump"), "-Fc", *conn_args, "-f", str(dump),
                    str(url.database)], check=True)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{url.database}_restored"'))
    admin.dispose()
    subprocess.run([str(bindir / "pg_restore"), *conn_args, "-d", f"{url.database}_restored",
                    "--no-owner", str(dump)], check=True)
    restored_url = url.set(database=f"{url.database}_restored")
    restored = _restored_app(app, tmp_path,
                             restored_url.render_as_string(hide_password=False), clock)
    r_rt: Runtime = restored.extensions["caseshare"]
    assert count(r_rt, Consent) == count(rt, Consent)
    assert count(r_rt, AuditEvent) == count(rt, AuditEvent)
    verified = _verify(restored)
    assert verified.exit_code == 0, verified.output
    r_rt.engine.dispose()


def _pg_backup(rt: Runtime, tmp_path: Path) -> Path:
    url = rt.engine.url
    dump = tmp_path / "caseshare.dump"
    bindir = Path(shutil.which("pg_dump") or "/usr/bin/pg_dump").parent
    subprocess.run([str(bindir / "pg_dump"), "-Fc", "-h", "127.0.0.1", "-p", str(url.port),
                    "-U", "postgres", "-f", str(dump), str(url.database)], check=True)
    return dump


def _pg_restore(rt: Runtime, dump: Path) -> str:
    url = rt.engine.url
    bindir = Path(shutil.which("pg_restore") or "/usr/bin/pg_restore").parent
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{url.database}_restored"'))
    admin.dispose()
    subprocess.run([str(bindir / "pg_restore"), "-h", "127.0.0.1", "-p", str(url.port),
                    "-U", "postgres", "-d", f"{url.database}_restored", "--no-owner",
                    str(dump)], check=True)
    return url.set(database=f"{url.database}_restored").render_as_string(hide_password=False)


def test_restoring_a_backup_from_before_an_erasure_never_reopens_the_claimant(
    app: Flask, rt: Runtime, demo: Demo, client: Any, auth: Any, tmp_path: Path, clock: Clock,
    engine: str
) -> None:
    """Backup, erase, restore the backup with the current keys: the claimant reads as erased
    for every organisation before `shreds apply`, and is tombstoned again by it (audited)."""
    coach = auth(COACH)
    subject = register(client, coach, nino="AB 12 34 56 C")
    consent(client, coach, subject, clock.now)
    with rt.session_factory() as s:
        identity.add_or_update_staff(s, protocols=rt.protocols, email=JCP_IG,
                                     name="Morgan Ellis", org="jcp-derby", roles=["ig_officer"],
                                     now=rt.now())
        s.commit()
    runner = app.test_cli_runner()
    if engine == "sqlite":
        backup = tmp_path / "backup" / "before-erasure.db"
        done = runner.invoke(args=["caseshare", "backup", "--to", str(backup)])
        assert done.exit_code == 0, done.output
    else:
        dump = _pg_backup(rt, tmp_path)
    erased = client.post(f"/api/v1/subjects/{subject}/erasure?purpose=subject_access",
                         headers=auth(JCP_IG), json={"reason": "subject_request"})
    assert erased.status_code == 200, erased.json

    url = f"sqlite:///{backup}" if engine == "sqlite" else _pg_restore(rt, dump)
    restored = _restored_app(app, tmp_path, url, clock)
    r_rt: Runtime = restored.extensions["caseshare"]
    try:
        with r_rt.session_factory() as s:  # the backup holds the claimant's data key
            row = s.get(Subject, uuid.UUID(subject))
            assert row is not None and row.dek_wrapped is not None and row.erased_at is None
        r_client = restored.test_client()

        def headers(email: str) -> dict[str, str]:
            return {"Authorization": f"Bearer {issue_token(r_rt, email)}"}

        reads = [
            (COACH, f"/api/v1/subjects/{subject}?purpose=case_management"),
            (COACH, f"/api/v1/subjects/{subject}/case-plan?purpose=case_management"),
            (HOUSING, f"/api/v1/subjects/{subject}?purpose=tenancy_sustainment"),
            (KEY_WORKER, f"/api/v1/subjects/{subject}/case-plan?purpose=recovery_support"),
            (IG, f"/api/v1/subjects/{subject}/access-report?purpose=audit"),
        ]

        def all_read_erased() -> None:
            before = len(events(r_rt, type="access:subject:deny", subject_id=uuid.UUID(subject)))
            for email, path in reads:
                r = r_client.get(path, headers=headers(email))
                assert_problem(r, 410)
                assert r.json["type"].endswith("/erased")
            denials = events(r_rt, type="access:subject:deny", subject_id=uuid.UUID(subject))
            assert len(denials) == before + len(reads)
            assert all(e.reasons == ["subject_erased"] for e in denials[before:])
            found = r_client.get("/api/v1/subjects?purpose=case_management&nino=AB123456C",
                                 headers=headers(COACH))
            assert found.status_code == 200 and found.json["items"] == []

        all_read_erased()  # the register is consulted before any unwrap
        applied = restored.test_cli_runner().invoke(args=["caseshare", "shreds", "apply"])
        assert applied.exit_code == 0, applied.output
        assert applied.output.startswith("OK: 1 erasure(s) re-applied")
        with r_rt.session_factory() as s:
            row = s.get(Subject, uuid.UUID(subject))
            assert row is not None and row.dek_wrapped is None and row.erased_at is not None
            assert row.nino_index is None and row.name_dob_index is None
        [again] = events(r_rt, type="subject:record:erase_reapplied")
        assert again.subject_id == uuid.UUID(subject) and again.decision == "allow"
        all_read_erased()
        checked = restored.test_cli_runner().invoke(args=["caseshare", "shreds", "verify"])
        assert checked.exit_code == 0, checked.output
        verified = _verify(restored)
        assert verified.exit_code == 0, verified.output
    finally:
        r_rt.engine.dispose()
