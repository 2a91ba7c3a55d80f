"""The audit sequencer (`audit seal`) killed with SIGKILL in the middle of integration.

With many events pending, the test starts `flask caseshare audit seal`, waits until it holds the
sequencer's advisory lock on PostgreSQL (so it is integrating), and SIGKILLs it. Afterwards no
event has a log position (the integration was one transaction and rolled back); the next run
integrates every event exactly once (positions 0..n-1, none skipped or doubled) and
`audit verify` passes. CASESHARE_SEQ_KILLS and CASESHARE_SEQ_EVENTS size the run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select, text

from caseshare.audit import service as audit
from caseshare.audit.models import AuditEvent
from caseshare.runtime import Runtime
from tests.conftest import ROOT

KILLS = int(os.environ.get("CASESHARE_SEQ_KILLS", "2"))
EVENTS = int(os.environ.get("CASESHARE_SEQ_EVENTS", "2000"))
LOCK_ID = 4242001  # caseshare.audit.sequencer._lock_sequencer


def _env(rt: Runtime) -> dict[str, str]:
    return {**os.environ, "CASESHARE_INSTANCE_PATH": str(rt.settings.instance_path),
            "CASESHARE_DATABASE_URL": str(rt.settings.database_url)}


def _add_events(rt: Runtime, n: int) -> None:
    with rt.session_factory() as s:
        for _ in range(n):
            audit.record(s, type="case_plan:plan:read", now=rt.now(),
                         request_id=f"seq-{uuid.uuid4().hex}", details={"n": 1})
        s.commit()


def _sequencer_holds_lock(rt: Runtime) -> bool:
    with rt.engine.connect() as conn:
        return bool(conn.scalar(text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = :id "
            "AND granted"), {"id": LOCK_ID}))


@pytest.mark.parametrize("engine", ["postgresql"])
def test_sequencer_killed_mid_integration_resumes_without_skips_or_doubles(
    app: Flask, rt: Runtime
) -> None:
    env = _env(rt)
    kills_landed = 0
    for _ in range(KILLS):
        _add_events(rt, EVENTS)
        with rt.session_factory() as s:
            sequenced_before = s.scalar(select(func.count()).where(AuditEvent.seq.is_not(None)))
        sealer = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "caseshare",
                                   "audit", "seal"], cwd=ROOT, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.time() + 120
        while sealer.poll() is None and not _sequencer_holds_lock(rt):
            assert time.time() < deadline, "the sealer never took the sequencer lock"
            time.sleep(0.01)
        sealer.send_signal(signal.SIGKILL)
        sealer.wait()
        if sealer.returncode == -signal.SIGKILL:
            kills_landed += 1
            # The server notices the dead client and rolls its transaction back.
            deadline = time.time() + 30
            while _sequencer_holds_lock(rt):
                assert time.time() < deadline, "the killed sealer's lock was never released"
                time.sleep(0.05)
            with rt.session_factory() as s:
                assert s.scalar(select(func.count()).where(
                    AuditEvent.seq.is_not(None))) == sequenced_before, "half-sequenced log"
    assert kills_landed >= 1, "no kill landed while the sequencer was integrating"

    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "caseshare", "audit",
                           "seal"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    with rt.session_factory() as s:
        total = s.scalar(select(func.count()).select_from(AuditEvent))
        seqs = list(s.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)))
    assert seqs == list(range(total)), "an event was skipped or doubled"
    verified = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "caseshare",
                               "audit", "verify"], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=600)
    assert verified.returncode == 0 and verified.stdout.startswith("OK:"), verified.stdout
    out = os.environ.get("CASESHARE_RELIABILITY_REPORT")
    if out:
        with Path(out).open("a") as f:
            f.write(json.dumps({"sequencer_kill": {
                "kills": KILLS, "kills_mid_integration": kills_landed, "events": total,
                "skipped_or_doubled": 0, "verify": verified.stdout.strip()}}) + "\n")
