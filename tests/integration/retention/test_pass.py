"""The retention pass (retention/service.py) on both engines: copies deleted per flow on the
day their retention ends, deletion certificates, legal holds, a second pass that deletes
nothing, the whole claimant crypto-shredded once nothing is kept, and `audit verify` after.

Lee (the demo) is led by Derby Jobcentre Plus; Derby Housing reads his employment entries
through `work-to-housing` and Derby Recovery Partnership through `shared-journey`. The tests
give those flows different retention (30 and 90 days; every other flow 30) and close his case
on START.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from caseshare.case_plan.models import PlanEntry
from caseshare.cases.models import Case
from caseshare.jobs.retention import PassResult, run_pass
from caseshare.jobs.retention import job as retention_job
from caseshare.jobs.runner import Runner
from caseshare.policy.models import ProtocolSet
from caseshare.retention import holdings
from caseshare.retention import service as retention
from caseshare.retention.holdings import end_of
from caseshare.retention.models import DeletedCopy, LegalHold
from caseshare.runtime import Runtime
from tests.audit_helpers import events
from tests.conftest import HOUSING, KEY_WORKER, START, Clock, Demo

CLOSED = START.date()
PLAN = "/api/v1/subjects/{}/case-plan?purpose={}"


def _protocols(rt: Runtime) -> ProtocolSet:
    """The loaded protocols with work-to-housing kept 30 days, shared-journey 90, the rest 30."""
    days = {"work-to-housing": 30, "shared-journey": 90}
    return ProtocolSet.build([
        dataclasses.replace(protocol, flows=tuple(
            dataclasses.replace(flow, retention_days=days.get(flow.id, 30))
            for flow in protocol.flows))
        for protocol in rt.protocols.protocols])


def _close(rt: Runtime, subject: uuid.UUID, at: datetime = START) -> None:
    """Close the claimant's case at `at` (the demo may have opened it, naming a lead worker)."""
    with rt.session_factory() as s:
        case = s.get(Case, subject) or Case(subject_id=subject)
        case.status, case.closed_at, case.closure_reason, case.updated_at = (
            "closed", at, "goals_met", at)
        s.add(case)
        s.commit()


def _pass(rt: Runtime, protocols: ProtocolSet, day: date) -> PassResult:
    return run_pass(rt.session_factory, protocols, rt.keyring, as_of=day, now=rt.now())


def _employment(client: FlaskClient, auth: Any, subject: uuid.UUID, email: str,
                purpose: str) -> tuple[int, dict[str, Any]]:
    """How many employment entries `email` reads, and the withheld categories' reasons."""
    r = client.get(PLAN.format(subject, purpose), headers=auth(email))
    assert r.status_code == 200, r.json
    shown = [e for e in r.json["entries"] if e["category"] == "employment"]
    return len(shown), r.json["withheld"]


def _withheld_reasons(withheld: Any, category: str) -> list[str]:
    for item in withheld if isinstance(withheld, list) else []:
        if item["category"] == category:
            return list(item["reasons"])
    if isinstance(withheld, dict):
        return list(withheld.get(category, []))
    return []


def test_two_recipients_lose_access_on_different_days_then_the_claimant_is_shredded(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime, app: Flask
) -> None:
    protocols = _protocols(rt)
    _close(rt, demo.lee)
    housing_before, _ = _employment(client, auth, demo.lee, HOUSING, "tenancy_sustainment")
    keyworker_before, _ = _employment(client, auth, demo.lee, KEY_WORKER, "case_management")
    assert housing_before > 0 and keyworker_before > 0

    # Before any retention ends: nothing due, nothing deleted.
    assert _pass(rt, protocols, CLOSED + timedelta(days=10)) == PassResult(0, 0, 0, 0)
    due = _due(rt, protocols, CLOSED + timedelta(days=31))
    assert ("derby-housing", "employment") in {(i.org, i.category) for i in due}
    assert all(i.due_on == CLOSED + timedelta(days=30) for i in due)

    # Between: housing's copies (30 days) go, the treatment provider's employment (90) stays.
    between = _pass(rt, protocols, CLOSED + timedelta(days=60))
    assert between.deleted > 0 and between.subjects_shredded == 0
    shown, withheld = _employment(client, auth, demo.lee, HOUSING, "tenancy_sustainment")
    assert shown == 0
    assert _withheld_reasons(withheld, "employment") == ["retention_deleted"]
    assert _employment(client, auth, demo.lee, KEY_WORKER, "case_management")[0] == \
        keyworker_before
    [certificate] = [e for e in events(rt, type="retention:copy:deleted", subject_id=demo.lee)
                     if e.details["org"] == "derby-housing"
                     and e.details["category"] == "employment"]
    assert certificate.details == {
        "org": "derby-housing", "category": "employment",
        "rule": "derby-local-support@1/work-to-housing",
        "due_on": (CLOSED + timedelta(days=30)).isoformat(), "basis": "case_closed"}
    assert _is_deleted(rt, demo.lee, "derby-housing", "employment")
    assert not _is_deleted(rt, demo.lee, "recovery-partnership", "employment")

    # Run again on the same day: nothing more is due.
    assert _pass(rt, protocols, CLOSED + timedelta(days=60)).deleted == 0

    # After: every copy is past its retention, so the claimant is crypto-shredded.
    after = _pass(rt, protocols, CLOSED + timedelta(days=120))
    assert after.subjects_shredded == 1
    r = client.get(PLAN.format(demo.lee, "case_management"), headers=auth(KEY_WORKER))
    assert r.status_code == 410, r.json
    [shred] = events(rt, type="retention:subject:shredded", subject_id=demo.lee)
    assert shred.details["method"] == "crypto_shred"
    with rt.session_factory() as s:
        copies = s.scalar(select(func.count()).select_from(DeletedCopy)
                          .where(DeletedCopy.subject_id == demo.lee))
    assert copies == len(events(rt, type="retention:copy:deleted", subject_id=demo.lee))
    assert _pass(rt, protocols, CLOSED + timedelta(days=400)) == PassResult(0, 0, 0, 0)

    verified = app.test_cli_runner().invoke(args=["caseshare", "audit", "verify"])
    assert verified.exit_code == 0, verified.output


def test_a_category_no_one_keeps_is_removed_from_the_database(
    demo: Demo, rt: Runtime
) -> None:
    """Employment kept 10 days by everyone, everything else 400: after 30 days no copy of
    employment remains, so its plan entries are deleted while the claimant lives on."""
    protocols = ProtocolSet.build([
        dataclasses.replace(protocol, flows=tuple(
            dataclasses.replace(flow, retention_days=10 if "employment" in flow.categories
                                else 400)
            for flow in protocol.flows))
        for protocol in rt.protocols.protocols])
    _close(rt, demo.lee)
    with rt.session_factory() as s:
        before = s.scalar(select(func.count()).select_from(PlanEntry).where(
            PlanEntry.subject_id == demo.lee, PlanEntry.category == "employment"))
    assert before
    result = _pass(rt, protocols, CLOSED + timedelta(days=30))
    assert result.deleted > 0 and result.subjects_shredded == 0
    with rt.session_factory() as s:
        after = s.scalar(select(func.count()).select_from(PlanEntry).where(
            PlanEntry.subject_id == demo.lee, PlanEntry.category == "employment"))
        others = s.scalar(select(func.count()).select_from(PlanEntry).where(
            PlanEntry.subject_id == demo.lee))
    assert after == 0 and others
    [purged] = [e for e in events(rt, type="retention:category:purged", subject_id=demo.lee)
                if e.details["category"] == "employment"]
    assert purged.details["removed"]["plan_entries"] == before


def test_a_held_subject_is_skipped_until_the_hold_is_lifted(demo: Demo, rt: Runtime) -> None:
    protocols = _protocols(rt)
    _close(rt, demo.lee)
    with rt.session_factory() as s:
        hold = LegalHold(subject_id=demo.lee, reason="IG-2026-17 litigation", placed_at=START,
                         placed_by=uuid.uuid4(), placed_org="jcp-derby")
        s.add(hold)
        s.commit()
        hold_id = hold.id
    day = CLOSED + timedelta(days=60)
    # (Kerry's and Rhian's consents end meanwhile: their recipients' copies go, not Lee's.)
    assert _pass(rt, protocols, day).held == 1
    assert all(item.hold for item in _due(rt, protocols, day) if item.subject_id == demo.lee)
    assert not events(rt, type="retention:copy:deleted", subject_id=demo.lee)
    with rt.session_factory() as s:
        lifted = s.get(LegalHold, hold_id)
        assert lifted is not None
        lifted.lifted_at, lifted.lifted_by = START, uuid.uuid4()
        s.commit()
    assert _pass(rt, protocols, day).held == 0
    assert events(rt, type="retention:copy:deleted", subject_id=demo.lee)


def test_the_cli_runs_a_pass_and_prints_the_counts(demo: Demo, rt: Runtime, app: Flask,
                                                    clock: Clock) -> None:
    _close(rt, demo.lee)
    runner = app.test_cli_runner()
    early = runner.invoke(args=["caseshare", "retention", "run", "--as-of",
                                CLOSED.isoformat()])
    assert early.exit_code == 0, early.output
    assert "0 copies deleted, 0 claimant(s) shredded, 0 on legal hold, 0 failed" in early.output
    clock.advance(days=800)
    late = runner.invoke(args=["caseshare", "retention", "run"])  # today's UK date
    assert late.exit_code == 0, late.output
    assert f"as of {(CLOSED + timedelta(days=800)).isoformat()}" in late.output
    assert "1 claimant(s) shredded" in late.output
    runs = events(rt, type="retention:pass:run")
    assert [e.details["subjects_shredded"] for e in runs] == [0, 1]


def test_the_cli_refuses_a_day_after_today_and_runs_beside_no_other_pass(
    demo: Demo, rt: Runtime, app: Flask, clock: Clock
) -> None:
    _close(rt, demo.lee)
    clock.advance(days=800)
    runner = app.test_cli_runner()
    future = runner.invoke(args=["caseshare", "retention", "run", "--as-of",
                                 (clock.now.date() + timedelta(days=2)).isoformat()])
    assert future.exit_code == 1
    assert "is after today" in future.output
    job = retention_job(rt.protocols, rt.keyring)
    other = Runner(session_factory=rt.session_factory, clock=clock, jobs=[job])
    with other.lock(job) as held:  # the worker's pass is under way
        assert held
        busy = runner.invoke(args=["caseshare", "retention", "run"])
    assert busy.exit_code == 1
    assert "Another retention pass is running" in busy.output
    assert not _is_deleted(rt, demo.lee, "derby-housing", "employment")
    assert events(rt, type="retention:pass:run") == []


def _due(rt: Runtime, protocols: ProtocolSet, day: date) -> list[Any]:
    with rt.session_factory() as s:
        return retention.list_due(s, protocols, as_of=day)


def _is_deleted(rt: Runtime, subject: uuid.UUID, org: str, category: str) -> bool:
    with rt.session_factory() as s:
        return retention.is_deleted(s, subject, org, category)


def test_a_case_closed_just_after_uk_midnight_closed_on_that_uk_day(demo: Demo,
                                                                    rt: Runtime) -> None:
    """00:30 BST on 1 June 2027 is 23:30 UTC on 31 May: the closure day is 1 June (finding 3),
    and the claimant is a candidate by the end of 1 June, not of 31 May."""
    _close(rt, demo.lee, at=datetime(2027, 5, 31, 23, 30, tzinfo=UTC))
    with rt.session_factory() as s:
        assert holdings.load(s, [demo.lee])[demo.lee].closed_on == date(2027, 6, 1)
        assert end_of(date(2027, 5, 31)) <= datetime(2027, 5, 31, 23, 30, tzinfo=UTC)
