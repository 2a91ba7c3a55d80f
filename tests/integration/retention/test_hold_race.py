"""A legal hold placed while the retention pass reaches the same claimant is honoured
(PostgreSQL, where the two really run at once): holds.place and the pass's step
(retention.service.process_subject) both lock the subject's row first, so the pass waits for
the hold's transaction and then sees the hold (review finding 1)."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import text

from caseshare.facts import Principal
from caseshare.retention import holdings, holds
from caseshare.retention.models import DeletedCopy
from caseshare.retention.service import process_subject
from caseshare.runtime import Runtime
from caseshare.unit_of_work import UnitOfWork
from tests.conftest import Demo
from tests.integration.retention.test_pass import CLOSED, _close, _protocols

IG = Principal(actor_id=str(uuid.uuid4()), actor_type="staff", org="derby-housing",
               roles=frozenset({"ig_officer"}))


def _waiting_on_a_lock(rt: Runtime) -> int:
    with rt.session_factory() as s:
        n = int(s.scalar(text("SELECT count(*) FROM pg_stat_activity "
                              "WHERE wait_event_type = 'Lock'")) or 0)
        s.rollback()
        return n


def test_a_hold_placed_while_the_pass_reaches_the_claimant_is_honoured(
    engine: str, demo: Demo, rt: Runtime
) -> None:
    if engine != "postgresql":
        pytest.skip("SQLite runs one writing transaction at a time: no race to lose")
    _close(rt, demo.lee)
    flows = holdings.shared_flows(_protocols(rt))
    day = CLOSED + timedelta(days=800)  # everything of Lee's is due
    outcome: list[dict[str, int]] = []

    def the_pass() -> None:
        with rt.session_factory() as s, UnitOfWork(s):
            outcome.append(process_subject(s, rt.keyring, flows, demo.lee, as_of=day,
                                           now=rt.now()))

    with rt.session_factory() as officer:
        holds.place(officer, subject_id=demo.lee, reason="IG-2026-21 litigation hold",
                    by=IG, now=rt.now())  # holds Lee's row, not yet committed
        worker = threading.Thread(target=the_pass)
        worker.start()
        for _ in range(600):  # until the pass waits for Lee's row (not a timing assertion)
            if _waiting_on_a_lock(rt) or not worker.is_alive():
                break
            time.sleep(0.05)
        officer.commit()
    worker.join(timeout=60)
    assert outcome == [{"held": 1}]
    with rt.session_factory() as s:
        assert s.query(DeletedCopy).filter_by(subject_id=demo.lee).count() == 0
