"""The adversarial suite: a database administrator changes sealed audit history in every way
they could, and `flask --app wsgi caseshare audit verify` catches each change, exits non-zero and
names the first bad event (or checkpoint). Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from click.testing import Result
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session

from caseshare.audit import canonical as audit_canonical
from caseshare.audit import checkpoints as audit_checkpoints
from caseshare.audit import merkle as audit_merkle
from caseshare.audit import sequencer as audit_sequencer
from caseshare.audit import service as audit
from caseshare.audit import verify as audit_verify
from caseshare.audit.models import AuditEvent, Checkpoint
from caseshare.runtime import Runtime
from tests.audit_helpers import disable_append_only_triggers
from tests.conftest import Clock, Demo


@pytest.fixture(autouse=True, params=["one chunk", "chunks of 4"])
def chunking(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every case twice: the log scanned as one chunk, and in chunks of 4 positions (by two
    worker processes from the command line), so that problems fall at, just after and across
    chunk boundaries and the chunks' results must be joined correctly."""
    if request.param == "chunks of 4":
        monkeypatch.setattr(audit_verify, "CHUNK", 4)


def cli(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=["caseshare", "audit", *args])


def verify(app: Flask) -> Result:
    return cli(app, "verify")


@pytest.fixture
def log(app: Flask, rt: Runtime, demo: Demo, clock: Clock) -> list[AuditEvent]:
    """The demo's log sealed into two checkpoints, plus events sealed after them; returns the
    sealed events in log order."""
    assert cli(app, "seal").exit_code == 0
    for n in range(3):
        clock.advance(seconds=30)
        with rt.session_factory() as s:
            audit.record(s, type="audit:summary:read", now=clock(), subject_id=demo.lee,
                         decision="allow", categories=["employment"], details={"n": n})
            s.commit()
        assert cli(app, "seal").exit_code == 0
    with rt.session_factory() as s:
        sealed = list(s.scalars(select(AuditEvent).order_by(AuditEvent.seq)))
        assert len(list(s.scalars(select(Checkpoint)))) == 4
    assert all(e.seq is not None for e in sealed) and len(sealed) > 10
    return sealed


def tamper(rt: Runtime, change: Callable[[Session], None]) -> None:
    """Change the database as its administrator could: first out of the way go the triggers
    that keep audit history append-only against the application."""
    with rt.session_factory() as s:
        disable_append_only_triggers(s)
        change(s)
        s.commit()


def rehash(event: AuditEvent) -> None:
    """What a careful attacker does after editing: recompute the public leaf hash."""
    event.leaf_hash = audit_merkle.leaf_hash(audit_canonical.canonical_bytes(event))


def assert_caught(app: Flask, *names: object) -> str:
    result = verify(app)
    assert result.exit_code != 0, result.output
    message = result.stderr
    assert message.startswith("FAILED: ")
    for name in names:
        assert str(name) in message, message
    return message


def test_the_application_cannot_change_or_delete_sealed_history(
    rt: Runtime, log: list[AuditEvent]
) -> None:
    attempts = [
        update(AuditEvent).where(AuditEvent.id == log[2].id).values(decision="deny"),
        update(AuditEvent).where(AuditEvent.id == log[2].id).values(seq=999),
        delete(AuditEvent).where(AuditEvent.id == log[2].id),
        update(Checkpoint).values(root_hash=bytes(32)),
        delete(Checkpoint),
    ]
    for attempt in attempts:
        with rt.session_factory() as s:
            with pytest.raises(DatabaseError, match="append-only"):
                s.execute(attempt)
            s.rollback()


def test_a_pending_event_cannot_be_changed_either(rt: Runtime, clock: Clock) -> None:
    with rt.session_factory() as s:
        event = audit.record(s, type="audit:summary:read", now=clock())
        s.commit()
        with pytest.raises(DatabaseError, match="append-only"):
            s.execute(update(AuditEvent).where(AuditEvent.id == event.id)
                      .values(reasons=["forged"]))


def test_an_untouched_log_verifies(app: Flask, log: list[AuditEvent]) -> None:
    result = verify(app)
    assert result.exit_code == 0, result.output
    assert f"OK: {len(log)} events, 4 checkpoint(s) verified" in result.stdout


def test_editing_an_event_field_is_caught_at_that_event(
    app: Flask, rt: Runtime, log: list[AuditEvent]
) -> None:
    target = log[5]

    def edit(s: Session) -> None:
        s.get_one(AuditEvent, target.id).decision = "deny"

    tamper(rt, edit)
    message = assert_caught(app, target.event_uuid, "log position 5", "altered")
    assert str(log[6].event_uuid) not in message


def test_text_moved_between_json_columns_is_caught(
    app: Flask, rt: Runtime, log: list[AuditEvent]
) -> None:
    """SQLite keeps the JSON columns as text, so an administrator can move text from one to the
    next (categories '["a", "b"]' and reasons '[]' become '["a"' and ' "b"],[]'). Read one after
    the other the columns say the same as before; read one at a time they are no JSON at all."""
    if rt.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's jsonb refuses text that is not JSON")
    target = next(e for e in log if len(e.categories) >= 2)
    with rt.session_factory() as s:
        categories, reasons = s.execute(
            text("SELECT categories, reasons FROM audit_events WHERE id = :id"),
            {"id": target.id}).one()
    head, tail = categories.split(",", 1)

    def move(s: Session) -> None:
        s.execute(text("UPDATE audit_events SET categories = :c, reasons = :r WHERE id = :id"),
                  {"c": head, "r": f"{tail},{reasons}", "id": target.id})

    tamper(rt, move)
    assert_caught(app, target.event_uuid, f"log position {target.seq}", "altered")


def test_editing_and_rehashing_an_event_is_still_caught_at_that_event(
    app: Flask, rt: Runtime, log: list[AuditEvent]
) -> None:
    target = log[7]

    def edit(s: Session) -> None:
        event = s.get_one(AuditEvent, target.id)
        event.categories = [*event.categories, "substance_misuse"]
        rehash(event)

    tamper(rt, edit)
    assert_caught(app, target.event_uuid, "log position 7", "not sealed at this position")


def test_deleting_an_event_is_caught(app: Flask, rt: Runtime, log: list[AuditEvent]) -> None:
    tamper(rt, lambda s: s.delete(s.get_one(AuditEvent, log[4].id)))
    assert_caught(app, "log position 4 is missing", log[5].event_uuid)


def test_deleting_an_event_and_closing_the_gap_is_caught(
    app: Flask, rt: Runtime, log: list[AuditEvent]
) -> None:
    def delete_and_renumber(s: Session) -> None:
        s.delete(s.get_one(AuditEvent, log[4].id))
        s.flush()
        for event in log[5:]:
            s.execute(update(AuditEvent).where(AuditEvent.id == event.id)
                      .values(seq=event.seq - 1))  # type: ignore[operator]

    tamper(rt, delete_and_renumber)
    assert_caught(app, log[5].event_uuid, "log position 4", "not sealed at this position")


def test_truncating_the_end_of_the_log_is_caught(
    app: Flask, rt: Runtime, log: list[AuditEvent]
) -> None:
    def truncate(s: Session) -> None:
        for event in log[-2:]:
            s.delete(s.get_one(AuditEvent, event.id))

    tamper(rt, truncate)
    assert_caught(app, f"log position {len(log) - 2} onwards was deleted")


def _forged(template: AuditEvent, seq: int) -> AuditEvent:
    forged = AuditEvent(
        event_uuid=uuid.uuid4(), occurred_at=template.occurred_at, type="case_plan:plan:read",
        actor=template.actor, org=template.org, role=template.role, purpose="case_management",
        subject_id=template.subject_id, categories=["employment"], decision="allow",
        reasons=[], consent_id=None, protocol=None, override_id=None, request_id="forged",
        details={}, seq=seq, leaf_mac=b"\x00" * 32)
    rehash(forged)
    return forged


def test_inserting_a_forged_event_at_the_end_is_caught(
    app: Flask, rt: Runtime, log: list[AuditEvent]
) -> None:
    forged = _forged(log[-1], len(log))
    tamper(rt, lambda s: s.add(forged))
    assert_caught(app, forged.event_uuid, f"log position {len(log)}")


def test_inserting_a_forged_event_in_the_middle_is_caught(
    app: Flask, rt: Runtime, log: list[AuditEvent]
) -> None:
    forged = _forged(log[3], 3)

    def insert_at_3(s: Session) -> None:
        for event in reversed(log[3:]):
            s.execute(update(AuditEvent).where(AuditEvent.id == event.id)
                      .values(seq=event.seq + 1))  # type: ignore[operator]
        s.add(forged)

    tamper(rt, insert_at_3)
    assert_caught(app, forged.event_uuid, "log position 3", "not sealed at this position")


def test_reordering_two_events_is_caught_at_the_first(
    app: Flask, rt: Runtime, log: list[AuditEvent]
) -> None:
    a, b = log[2], log[8]

    def swap(s: Session) -> None:
        s.execute(update(AuditEvent).where(AuditEvent.id == a.id).values(seq=-1))
        s.execute(update(AuditEvent).where(AuditEvent.id == b.id).values(seq=a.seq))
        s.execute(update(AuditEvent).where(AuditEvent.id == a.id).values(seq=b.seq))

    tamper(rt, swap)
    assert_caught(app, b.event_uuid, "log position 2", "not sealed at this position")


def test_back_dating_an_event_is_caught(app: Flask, rt: Runtime, log: list[AuditEvent]) -> None:
    target = log[-1]

    def back_date(s: Session) -> None:
        s.get_one(AuditEvent, target.id).occurred_at -= timedelta(days=3)

    tamper(rt, back_date)
    assert_caught(app, target.event_uuid, "altered")


def test_back_dating_and_rehashing_an_event_is_caught(
    app: Flask, rt: Runtime, log: list[AuditEvent]
) -> None:
    target = log[-2]

    def back_date(s: Session) -> None:
        event = s.get_one(AuditEvent, target.id)
        event.occurred_at -= timedelta(days=3)
        rehash(event)

    tamper(rt, back_date)
    assert_caught(app, target.event_uuid, f"log position {len(log) - 2}")


@pytest.mark.parametrize("position", [4, 6])
def test_back_dating_is_caught_at_that_event_by_an_outside_verifier(
    rt: Runtime, log: list[AuditEvent], position: int
) -> None:
    """Without the MAC key a rehashed back-dated event passes the content check; the time order
    still names it, whether it opens a chunk or sits inside one (chunks of 4)."""
    target = log[position]

    def back_date(s: Session) -> None:
        event = s.get_one(AuditEvent, target.id)
        event.occurred_at -= timedelta(days=3)
        rehash(event)

    tamper(rt, back_date)
    with rt.session_factory() as s:
        result = audit_verify.verify(s, rt.audit_signer.public_key())
    assert not result.ok
    assert result.problem and "back-dated" in result.problem
    assert (result.bad_position, result.bad_event) == (position, str(target.event_uuid))


def test_a_back_dated_pending_event_is_caught_before_it_is_sealed(
    app: Flask, rt: Runtime, log: list[AuditEvent], clock: Clock
) -> None:
    with rt.session_factory() as s:
        event = audit.record(s, type="case_plan:plan:read", now=clock() - timedelta(days=2),
                             decision="allow")
        s.commit()
    assert_caught(app, event.event_uuid, "pending", "back-dated")


def test_editing_a_checkpoint_root_is_caught(
    app: Flask, rt: Runtime, log: list[AuditEvent]
) -> None:
    def edit(s: Session) -> None:
        checkpoint = s.scalars(select(Checkpoint).order_by(Checkpoint.tree_size)).all()[1]
        checkpoint.root_hash = audit_merkle.root_of([e.leaf_hash for e in log[:5]])

    tamper(rt, edit)
    with rt.session_factory() as s:
        size = s.scalars(select(Checkpoint.tree_size).order_by(Checkpoint.tree_size)).all()[1]
    assert_caught(app, f"checkpoint at tree size {size} has a bad signature")


def test_a_forged_checkpoint_signature_is_caught(
    app: Flask, rt: Runtime, log: list[AuditEvent]
) -> None:
    """A whole checkpoint forged with the attacker's own key: well-formed, wrong signer."""
    attacker = Ed25519PrivateKey.generate()
    size = len(log)
    root = audit_merkle.root_of([*(e.leaf_hash for e in log[:-1]),
                                 audit_merkle.leaf_hash(b"forged")])

    def forge(s: Session) -> None:
        original = s.get_one(Checkpoint, size)
        s.delete(original)
        s.flush()
        s.add(Checkpoint(tree_size=size, root_hash=root, timestamp=original.timestamp,
                         key_id=original.key_id, signature=attacker.sign(
                             audit_checkpoints.checkpoint_message(size, root, original.timestamp))))

    tamper(rt, forge)
    assert_caught(app, f"checkpoint at tree size {size} has a bad signature")


def test_without_the_mac_key_a_rehashed_edit_is_still_caught_by_the_checkpoints(
    rt: Runtime, log: list[AuditEvent]
) -> None:
    """An outside verifier holding only the public key still detects it, to the range of events
    between two checkpoints."""
    target = log[-2]

    def edit(s: Session) -> None:
        event = s.get_one(AuditEvent, target.id)
        event.reasons = ["consent_withdrawn"]
        rehash(event)

    tamper(rt, edit)
    with rt.session_factory() as s:
        result = audit_verify.verify(s, rt.audit_signer.public_key())
    assert not result.ok
    assert result.problem and "does not match the events" in result.problem
    assert result.bad_position == len(log) - 2


def test_sealing_refuses_to_build_on_a_tampered_history(
    rt: Runtime, log: list[AuditEvent], clock: Clock
) -> None:
    def edit(s: Session) -> None:
        event = s.get_one(AuditEvent, log[1].id)
        event.type = "access:subject:deny"
        rehash(event)
        s.execute(update(AuditEvent).where(AuditEvent.seq > 0).values(leaf_mac=None))
        from caseshare.audit.models import AuditTreeNode

        s.execute(AuditTreeNode.__table__.delete())

    tamper(rt, edit)
    with rt.session_factory() as s:
        audit.record(s, type="audit:summary:read", now=clock())
        s.commit()
        with pytest.raises(audit_sequencer.LogIntegrityError, match="no longer matches"):
            audit_checkpoints.seal(s, rt.audit_signer, clock())


def test_a_log_cut_short_with_its_checkpoints_is_caught_by_a_witnessed_checkpoint(
    app: Flask, rt: Runtime, log: list[AuditEvent], tmp_path: Any
) -> None:
    exported = cli(app, "export")
    assert exported.exit_code == 0, exported.output
    witness = tmp_path / "witnessed.json"
    witness.write_text(exported.stdout)
    assert json.loads(exported.stdout)["tree_size"] == len(log)

    def cut_short(s: Session) -> None:
        """Delete the last two events and every checkpoint that covered them."""
        for event in log[-2:]:
            s.delete(s.get_one(AuditEvent, event.id))
        for checkpoint in s.scalars(select(Checkpoint)
                                    .where(Checkpoint.tree_size > len(log) - 2)):
            s.delete(checkpoint)

    tamper(rt, cut_short)
    # Inside the database nothing is left to contradict the shorter log...
    assert verify(app).exit_code == 0
    # ...but the partner's copy of the checkpoint does.
    result = cli(app, "verify", "--witness", str(witness))
    assert result.exit_code != 0
    assert "cut short" in result.stderr and f"log position {len(log) - 2}" in result.stderr


def test_a_witnessed_checkpoint_must_carry_this_logs_signature(
    app: Flask, log: list[AuditEvent], tmp_path: Any
) -> None:
    copy = json.loads(cli(app, "export").stdout)
    good = tmp_path / "good.json"
    good.write_text(json.dumps(copy))
    assert cli(app, "verify", "--witness", str(good)).exit_code == 0

    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps({**copy, "root_hash": "00" * 32}))
    result = cli(app, "verify", "--witness", str(forged))
    assert result.exit_code != 0 and "not signed by this log's key" in result.stderr

    junk = tmp_path / "junk.json"
    junk.write_text('{"tree_size": 3}')
    result = cli(app, "verify", "--witness", str(junk))
    assert result.exit_code != 0 and "--witness" in result.stderr


def _tamper_cases(log: list[AuditEvent]) -> dict[str, Callable[[Session], None]]:
    def edit(s: Session) -> None:
        s.get_one(AuditEvent, log[9].id).decision = "deny"

    def edit_rehash_early_and_plain_edit_late(s: Session) -> None:
        early = s.get_one(AuditEvent, log[3].id)
        early.purpose = "audit"
        rehash(early)
        s.get_one(AuditEvent, log[-1].id).type = "forged:event:type"

    def plain_edit_just_after_a_checkpoint_root_edit(s: Session) -> None:
        first = s.scalars(select(Checkpoint).order_by(Checkpoint.tree_size)).first()
        assert first is not None
        first.root_hash = bytes(32)
        s.get_one(AuditEvent, log[first.tree_size].id).org = "derby-housing"

    return {"edit": edit, "mixed": edit_rehash_early_and_plain_edit_late,
            "checkpoint-then-edit": plain_edit_just_after_a_checkpoint_root_edit}


@pytest.mark.parametrize("case", ["edit", "mixed", "checkpoint-then-edit"])
def test_parallel_verify_reports_the_same_first_problem_as_a_serial_scan(
    rt: Runtime, log: list[AuditEvent], case: str
) -> None:
    """Chunks of 4 positions, so the problems and checkpoints fall in different chunks, scanned
    by two worker processes."""
    key, public = rt.audit_signer.mac_key(), rt.audit_signer.public_key()
    with rt.session_factory() as s:
        assert audit_verify.verify(s, public, mac_key=key, workers=2, chunk=4).ok
    tamper(rt, _tamper_cases(log)[case])
    with rt.session_factory() as s:
        serial = audit_verify.verify(s, public, mac_key=key)
    with rt.session_factory() as s:
        parallel = audit_verify.verify(s, public, mac_key=key, workers=2, chunk=4)
    assert not serial.ok
    assert (parallel.problem, parallel.bad_position, parallel.bad_event) == (
        serial.problem, serial.bad_position, serial.bad_event)


# Events not yet integrated into the Merkle log (no sealer has run since they were written) are
# tamper-evident from the moment they are written: a MAC over their writer stream, their number
# in it and their leaf hash (caseshare/audit/service.py).

def _pending(rt: Runtime, clock: Clock, n: int) -> list[AuditEvent]:
    """n events written after the log was last sealed, in one unit of work."""
    clock.advance(seconds=5)
    with rt.session_factory() as s:
        made = [audit.record(s, type="audit:summary:read", now=clock(), subject_id=uuid.uuid4(),
                             decision="allow", details={"n": n}) for n in range(n)]
        s.commit()
    assert all(e.seq is None and e.event_mac is not None for e in made)
    return made


def test_editing_a_pending_event_is_caught_naming_it(
    app: Flask, rt: Runtime, log: list[AuditEvent], clock: Clock
) -> None:
    target = _pending(rt, clock, 3)[1]
    assert verify(app).exit_code == 0
    tamper(rt, lambda s: s.execute(update(AuditEvent).where(AuditEvent.id == target.id)
                                   .values(decision="deny")))
    assert_caught(app, f"pending event {target.event_uuid} (id {target.id})", "altered")


def test_editing_and_rehashing_a_pending_event_is_caught_by_its_write_time_mac(
    app: Flask, rt: Runtime, log: list[AuditEvent], clock: Clock
) -> None:
    target = _pending(rt, clock, 3)[1]

    def edit(s: Session) -> None:
        event = s.get_one(AuditEvent, target.id)
        event.reasons = ["forged"]
        rehash(event)

    tamper(rt, edit)
    message = assert_caught(app, f"pending event {target.event_uuid} (id {target.id})")
    assert "write-time MAC" in message
    # The sequencer will not vouch for it either: sealing refuses, naming it.
    sealed = cli(app, "seal")
    assert sealed.exit_code != 0 and str(target.event_uuid) in sealed.stderr
    assert_caught(app, target.event_uuid)


def test_deleting_a_pending_event_is_caught_naming_the_next(
    app: Flask, rt: Runtime, log: list[AuditEvent], clock: Clock
) -> None:
    _first, gone, after = _pending(rt, clock, 3)
    tamper(rt, lambda s: s.execute(delete(AuditEvent).where(AuditEvent.id == gone.id)))
    message = assert_caught(app, f"pending event {after.event_uuid} (id {after.id})")
    assert "deleted before they were sealed" in message and "missing number" in message
    sealed = cli(app, "seal")
    assert sealed.exit_code != 0 and str(after.event_uuid) in sealed.stderr
    assert_caught(app, after.event_uuid, "deleted")


def test_deleting_the_oldest_pending_event_is_caught_against_the_last_sealed_one(
    app: Flask, rt: Runtime, log: list[AuditEvent], clock: Clock
) -> None:
    gone, after = _pending(rt, clock, 2)
    tamper(rt, lambda s: s.execute(delete(AuditEvent).where(AuditEvent.id == gone.id)))
    assert_caught(app, f"pending event {after.event_uuid} (id {after.id})", "deleted")


def test_a_pending_event_inserted_by_hand_is_caught(
    app: Flask, rt: Runtime, log: list[AuditEvent], clock: Clock
) -> None:
    forged = _forged(log[-1], 0)
    forged.seq = None
    tamper(rt, lambda s: s.add(forged))
    assert_caught(app, forged.event_uuid, "no write-time MAC")


def test_verify_fails_when_events_wait_longer_than_the_allowed_lag(
    app: Flask, rt: Runtime, log: list[AuditEvent], clock: Clock
) -> None:
    oldest = _pending(rt, clock, 2)[0]
    clock.advance(seconds=rt.settings.audit_max_lag_seconds - 10)
    result = verify(app)
    assert result.exit_code == 0 and "2 pending" in result.stdout, result.output
    clock.advance(seconds=20)
    # Three: the two, and the first verify's own outcome event.
    message = assert_caught(app, oldest.event_uuid, "CASESHARE_AUDIT_MAX_LAG_SECONDS",
                            "3 audit event(s) are not sealed yet", "caseshare worker")
    assert "sealer is not running" in message
    assert cli(app, "seal").exit_code == 0
    assert verify(app).exit_code == 0
