"""Backup and restore keep every consent and audit event, and the restored log verifies."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, text

from caseshare import create_app
from caseshare.audit.models import AuditEvent
from caseshare.consent.models import Consent
from caseshare.runtime import Runtime
from tests.audit_helpers import count
from tests.conftest import Clock, Demo


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
