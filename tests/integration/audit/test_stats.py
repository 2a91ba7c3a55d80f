"""Counts for the IG dashboard (caseshare/audit/stats.py) on both engines: decisions bucketed by
UTC day at the day's edges, denials per organisation the viewer may see (events under a protocol
its organisation is party to, or by its own staff: caseshare/audit/scope.py), and the seal
state."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from caseshare.audit import checkpoints as audit_checkpoints
from caseshare.audit import service as audit
from caseshare.audit import stats
from caseshare.audit.scope import AuditScope
from caseshare.facts import Principal
from caseshare.runtime import Runtime
from tests.conftest import Clock

DAY = date(2026, 11, 20)


def staff(org: str) -> Principal:
    return Principal(actor_id=str(uuid.uuid4()), actor_type="staff", org=org,
                     roles=frozenset({"work_coach"}))


def at(day_offset: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(DAY.year, DAY.month, DAY.day, hour, minute, second,
                    tzinfo=UTC) + timedelta(days=day_offset)


def test_counts_by_day_and_organisation(rt: Runtime) -> None:
    subject = uuid.uuid4()
    coach, housing, outsider = staff("jcp-derby"), staff("derby-housing"), staff("tywi-recovery")
    derby, wales = "derby-local-support@1", "carmarthenshire-support@1"
    rows = [  # (when, who, decision, about a subject, protocol)
        (at(0, 0, 0, 0), coach, "allow", True, derby),  # first instant of day 0
        (at(0, 23, 59, 59), coach, "deny", True, derby),  # last second of day 0
        (at(1, 0, 0, 0), housing, "allow", True, None),  # the viewer's own staff
        (at(1, 12), housing, "deny", False, None),  # a denial with no subject (e.g. scope)
        (at(1, 12), outsider, "deny", True, wales),  # a protocol the viewer is not party to
        (at(1, 13), coach, "allow", True, None),  # no protocol, another org's staff: unseen
        (at(2, 9), coach, None, True, derby),  # no decision: not an access
        (at(2, 0), coach, "deny", False, derby),  # after the denials' window
        (at(-1, 23, 59, 59), coach, "allow", True, derby),  # before the window
    ]
    with rt.session_factory() as s:
        for when, who, decision, about, protocol in rows:
            audit.record(s, type="case_plan:plan:read", now=when, principal=who,
                         decision=decision, subject_id=subject if about else None,
                         protocol=protocol)
        s.commit()
        viewer = AuditScope.build(
            "derby-housing", [p for p in rt.protocols.protocols if p.ref == derby],
            codes=rt.protocols.categories, orgs={"jcp-derby", "derby-housing", "ca-derby"})
        days = stats.access_per_day(s, scope=viewer, first_day=DAY, days=3)
        denials = stats.denials_per_org(s, scope=viewer, since=at(0, 0), until=at(2, 0))
    assert [(d.day, d.allowed, d.denied) for d in days] == [
        (DAY, 1, 1), (DAY + timedelta(days=1), 1, 0), (DAY + timedelta(days=2), 0, 0)]
    assert denials == {"jcp-derby": 1, "derby-housing": 1, "ca-derby": 0}


def test_seal_state_before_and_after_sealing(rt: Runtime, clock: Clock) -> None:
    with rt.session_factory() as s:
        for _ in range(3):
            audit.record(s, type="audit:summary:read", now=clock())
        s.commit()
        before = stats.seal_state(s)
        assert before.checkpoint is None and before.sealed == 0
        assert before.pending == 3 and before.oldest_pending_at == clock.now
        s.rollback()
        audit_checkpoints.seal(s, rt.audit_signer, clock())
    with rt.session_factory() as s:
        after = stats.seal_state(s)
    assert after.checkpoint is not None and after.checkpoint.tree_size == 3
    assert after.sealed == 3 and after.pending == 0 and after.oldest_pending_at is None
