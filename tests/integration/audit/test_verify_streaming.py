"""`audit verify` reads the stored columns raw and encodes them with the fast encoder: events
holding what that encoder writes differently from json.dumps (non-ASCII, DEL, small floats, big
integers) still verify, scanned whole or in chunks by worker processes, on both engines."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from caseshare.audit import checkpoints as audit_checkpoints
from caseshare.audit import sequencer as audit_sequencer
from caseshare.audit import service as audit
from caseshare.audit import verify as audit_verify
from caseshare.audit.models import AuditEvent
from caseshare.runtime import Runtime
from tests.conftest import Clock

AWKWARD = [
    {"note": "Siân, Ynys Môn ✓", "ctl": "\x7f\n\t\x01"},
    {"ratio": 1e-05, "half": 0.5, "third": 1 / 3, "big": 2**70, "negative": -(2**63) - 1},
    {"nested": {"b": [1, 2.25, None, True], "a": {"z": "é", "y": ""}}},
    {"key é": "value", "": "empty key"},
]


def test_events_with_awkward_values_verify(app: Flask, rt: Runtime, clock: Clock) -> None:
    with rt.session_factory() as s:
        for n, details in enumerate(AWKWARD * 3):
            clock.advance(seconds=1)
            audit.record(s, type="audit:summary:read", now=clock(), details=details,
                         categories=["employment"], reasons=[f"r{n}"])
        s.commit()
        audit_checkpoints.seal(s, rt.audit_signer, clock())
    public, key = rt.audit_signer.public_key(), rt.audit_signer.mac_key()
    with rt.session_factory() as s:
        size = audit_sequencer.sealed_size(s)
        stored = [e.details for e in s.scalars(select(AuditEvent).where(
            AuditEvent.type == "audit:summary:read").order_by(AuditEvent.seq))]
        whole = audit_verify.verify(s, public, mac_key=key)
    with rt.session_factory() as s:
        chunked = audit_verify.verify(s, public, mac_key=key, workers=2, chunk=2)
    assert stored == AWKWARD * 3
    assert whole.ok, whole.problem
    assert chunked.ok, chunked.problem
    assert whole.events == chunked.events == size
    assert whole.checkpoints == chunked.checkpoints == 1


def test_verify_does_not_wait_for_the_sqlite_write_lock(app: Flask, rt: Runtime,
                                                        clock: Clock) -> None:
    """A request holding the write lock (as every audited request does) does not hold up
    verify, and verify does not hold up requests: it reads one snapshot without the lock."""
    if rt.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's single writer lock; PostgreSQL readers never take it")
    with rt.session_factory() as s:
        for _ in range(2):  # one event sealed, then a second on top: position 0 is a position
            audit.record(s, type="audit:summary:read", now=clock())
            s.commit()
            audit_checkpoints.seal(s, rt.audit_signer, clock())
    writer = rt.engine.raw_connection()
    try:
        writer.driver_connection.execute("BEGIN IMMEDIATE")  # type: ignore[union-attr]
        # Had verify needed the lock, it would fail after the busy timeout: database is locked.
        result = app.test_cli_runner().invoke(args=["caseshare", "audit", "verify"])
    finally:
        writer.rollback()
        writer.close()
    assert result.exit_code == 0, result.output
