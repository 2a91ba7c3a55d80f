"""The sequencer and sealer: lag reporting, one sealer at a time, and building only on a
stored tree that still matches the last signed root. Both engines."""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from caseshare.audit import checkpoints as audit_checkpoints
from caseshare.audit import merkle
from caseshare.audit import service as audit
from caseshare.audit import verify as audit_verify
from caseshare.audit.models import AuditEvent, AuditTreeNode, Checkpoint
from caseshare.runtime import Runtime
from tests.conftest import Clock, Demo


def seal(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=["caseshare", "audit", "seal", *args])


def add_events(rt: Runtime, n: int, clock: Clock) -> None:
    with rt.session_factory() as s:
        for i in range(n):
            audit.record(s, type="audit:summary:read", now=clock(), details={"i": i})
        s.commit()


def test_seal_reports_what_it_integrated_and_the_lag(
    app: Flask, rt: Runtime, demo: Demo, clock: Clock
) -> None:
    with rt.session_factory() as s:
        pending = s.scalar(select(func.count()).where(AuditEvent.seq.is_(None)))
    clock.advance(seconds=2.5)
    result = seal(app)
    assert result.exit_code == 0, result.output
    assert f"tree_size={pending} " in result.stdout
    assert f"integrated={pending} lag=2.500s" in result.stdout


def test_the_sequencer_loop_seals_each_round(app: Flask, rt: Runtime, demo: Demo,
                                             clock: Clock) -> None:
    result = seal(app, "--every", "0.1", "--count", "2")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 2 and "integrated=0" in lines[1]


def test_the_tree_is_stored_as_perfect_subtrees_and_sealing_reads_only_new_leaves(
    app: Flask, rt: Runtime, clock: Clock
) -> None:
    add_events(rt, 13, clock)
    assert seal(app).exit_code == 0
    add_events(rt, 8, clock)
    assert seal(app).exit_code == 0
    with rt.session_factory() as s:
        stored = {(n.level, n.idx): n.hash for n in s.scalars(select(AuditTreeNode))}
        leaves = list(s.scalars(select(AuditEvent.leaf_hash).order_by(AuditEvent.seq)))
        latest = audit_checkpoints.latest_checkpoint(s)
    assert latest is not None and latest.tree_size == 21 == len(leaves)
    # Every complete subtree of 21 leaves above the leaves: 10 + 5 + 2 + 1 = 18.
    expected: dict[merkle.Node, bytes] = {}
    compact = merkle.CompactRange()
    for leaf in leaves:
        expected.update(compact.append(leaf))
    assert stored == expected and len(stored) == 18
    assert latest.root_hash == merkle.root_of(leaves)


def test_sealing_refuses_a_stored_tree_that_no_longer_matches_the_signed_root(
    app: Flask, rt: Runtime, clock: Clock
) -> None:
    add_events(rt, 6, clock)
    assert seal(app).exit_code == 0
    with rt.session_factory() as s:
        node = s.get_one(AuditTreeNode, (2, 0))  # covers events 0-3, part of the compact range
        node.hash = bytes(32)
        s.commit()
    add_events(rt, 1, clock)
    result = seal(app)
    assert result.exit_code != 0
    assert "no longer matches the checkpoint at tree size 6" in result.stderr
    with rt.session_factory() as s:
        assert s.scalar(select(func.max(Checkpoint.tree_size))) == 6


def test_concurrent_sealers_give_every_event_one_position(
    app: Flask, rt: Runtime, clock: Clock
) -> None:
    errors: list[BaseException] = []

    def sealer() -> None:
        try:
            for _ in range(3):
                add_events(rt, 5, clock)
                with rt.session_factory() as s:
                    audit_checkpoints.seal(s, rt.audit_signer, clock())
        except BaseException as exc:  # reported below, on the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=sealer) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with rt.session_factory() as s:
        seqs = list(s.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)))
        result = audit_verify.verify(s, rt.audit_signer.public_key(),
                                  mac_key=rt.audit_signer.mac_key())
    assert seqs == list(range(45))
    assert result.ok, result.problem


def test_writer_streams_across_orm_and_core_writes_and_rollbacks_seal_and_verify(
    app: Flask, rt: Runtime, clock: Clock
) -> None:
    """ORM and Core events of one unit of work share its writer stream, in order; a unit of work
    that rolls back gives its numbers back, so the next one reuses them: no gap."""
    with rt.session_factory() as s:
        orm = audit.record(s, type="audit:summary:read", now=clock())
        core = audit.write(s, audit.new_event(type="audit:summary:read", now=clock()))
        s.commit()
    assert orm.writer == core.writer and orm.writer_no is not None
    assert core.writer_no == orm.writer_no + 1
    with rt.session_factory() as s:
        gone = audit.record(s, type="audit:summary:read", now=clock())
        s.flush()
        s.rollback()
    with rt.session_factory() as s:
        after = audit.record(s, type="audit:summary:read", now=clock())
        s.commit()
    assert after.writer == gone.writer and after.writer_no == gone.writer_no
    result = seal(app)
    assert result.exit_code == 0, result.output
    verified = app.test_cli_runner().invoke(args=["caseshare", "audit", "verify"])
    assert verified.exit_code == 0, verified.output


def test_a_sealed_checkpoint_is_also_a_signed_note_that_verify_checks(
    app: Flask, rt: Runtime, clock: Clock
) -> None:
    """The sealer signs the C2SP note too; `audit export --note` prints it, `--key` the key to
    check it with; a note stating another root under another key does not match the log."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from caseshare.audit import proofs
    from caseshare.audit.signed_note import sign_note, verify_note

    with rt.session_factory() as s:
        audit.record(s, type="audit:summary:read", now=clock())
        s.commit()
    assert seal(app).exit_code == 0
    runner = app.test_cli_runner()
    printed = runner.invoke(args=["caseshare", "audit", "export", "--note"])
    assert printed.exit_code == 0, printed.output
    signer = rt.audit_signer
    note = proofs.parse_checkpoint_note(printed.output)
    assert note.origin == signer.origin == rt.settings.audit_log_origin
    assert verify_note(printed.output, signer.origin, signer.public_bytes()) == note.text
    key = runner.invoke(args=["caseshare", "audit", "export", "--key"]).output.strip()
    assert key == proofs.verifier_key(signer.origin, signer.public_bytes())
    with rt.session_factory() as s:
        latest = audit_checkpoints.latest_checkpoint(s)
        assert latest is not None and latest.note == printed.output
        assert audit_checkpoints.checkpoint_json(latest)["note"] == printed.output
        forged = sign_note(proofs.checkpoint_note_text(signer.origin, note.tree_size,
                                                       bytes(32)),
                           signer.origin, Ed25519PrivateKey.generate())
        assert not audit_checkpoints.note_matches(
            audit_checkpoints.parse_checkpoint({**audit_checkpoints.checkpoint_json(latest),
                                                "note": forged}), signer.public_bytes())
