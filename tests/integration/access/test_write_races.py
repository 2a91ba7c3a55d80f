"""Two sessions write the same record version at once: one wins, the other gets a clean
conflict (never a 500, never a silent overwrite), on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from caseshare.access import case_plans
from caseshare.access import referrals as referral_cases
from caseshare.access.context import RequestContext
from caseshare.case_plan.models import PlanEntry, PlanEntryVersion, Referral
from caseshare.case_plan.service import EditConflictError, entry_etag
from caseshare.demo import _ctx
from caseshare.errors import ConflictError
from caseshare.identity.service import get_staff_by_email
from caseshare.runtime import Runtime
from caseshare.subjects.service import case_orgs
from tests.audit_helpers import events
from tests.builders import assert_problem, consent, refer, register
from tests.conftest import COACH, KEY_WORKER, Demo


def _coach_ctx(s: Session, rt: Runtime) -> RequestContext:
    return _ctx(s, rt, get_staff_by_email(s, COACH), "case_management")


def _key_worker_ctx(s: Session, rt: Runtime) -> RequestContext:
    return _ctx(s, rt, get_staff_by_email(s, KEY_WORKER), "recovery_support")


SQLITE_SERIALISES = (
    "SQLite runs every writing unit of work as BEGIN IMMEDIATE, so a second one cannot read "
    "while the first is open: this interleaving cannot happen there (see the threaded test)")


def test_concurrent_update_of_the_same_version_loses_cleanly(
    app: Flask, rt: Runtime, demo: Demo, engine: str
) -> None:
    if engine == "sqlite":
        pytest.skip(SQLITE_SERIALISES)
    with rt.session_factory() as s:
        entry = s.scalars(select(PlanEntry).where(PlanEntry.subject_id == demo.lee,
                                                  PlanEntry.category == "employment")).first()
        assert entry is not None
        entry_id, etag = entry.id, entry_etag(entry)

    with rt.session_factory() as a, rt.session_factory() as b:
        ctx_b = _coach_ctx(b, rt)
        # B has read version 1 (its transaction and identity map hold it) ...
        loaded = b.get(PlanEntry, entry_id)
        assert loaded is not None and entry_etag(loaded) == etag
        # ... when A saves its change to version 1 and commits.
        with _coach_ctx(a, rt) as ctx_a:
            case_plans.update_plan_entry(ctx_a, demo.lee, entry_id, etag, {"title": "A's title"})
        # B passed the If-Match check against what it read; the write itself must lose.
        with pytest.raises(ConflictError) as raised, ctx_b:
            case_plans.update_plan_entry(ctx_b, demo.lee, entry_id, etag, {"title": "B's title"})
        assert isinstance(raised.value, EditConflictError)
        assert raised.value.status == 409

    with rt.session_factory() as s:
        row = s.get(PlanEntry, entry_id)
        assert row is not None and row.version == 2
        versions = s.scalars(select(PlanEntryVersion.version)
                             .where(PlanEntryVersion.entry_id == entry_id)).all()
        assert sorted(versions) == [1, 2]  # the loser left no history row behind
    with app.test_request_context(f"/api/v1/subjects/{demo.lee}/case-plan"):
        # The conflict maps to problem+json through the one error table, not a 500.
        response = app.make_response(app.handle_user_exception(raised.value))
        assert_problem(response, 409)



def test_a_double_accept_of_one_referral_is_a_conflict_not_a_duplicate(
    app: Flask, rt: Runtime, demo: Demo, auth: Any, engine: str
) -> None:
    if engine == "sqlite":
        pytest.skip(SQLITE_SERIALISES)
    client = app.test_client()
    coach = auth(COACH)
    subject = register(client, coach)
    consent(client, coach, subject, rt.now())
    referral_id = uuid.UUID(refer(client, coach, subject, "recovery-partnership",
                                  "recovery_support", rt.now()).json["id"])

    with rt.session_factory() as a, rt.session_factory() as b:
        ctx_b = _key_worker_ctx(b, rt)
        loaded = b.get(Referral, referral_id)  # B has read it while still open ...
        assert loaded is not None and loaded.status == "open"
        before = loaded.version
        with _key_worker_ctx(a, rt) as ctx_a:
            referral_cases.accept_referral(ctx_a, referral_id)  # ... A accepts
        with pytest.raises(ConflictError), ctx_b:
            referral_cases.accept_referral(ctx_b, referral_id)

    with rt.session_factory() as s:
        row = s.get(Referral, referral_id)
        # One accept, one new version (creating it also set its response date: a version).
        assert row is not None and row.status == "accepted" and row.version == before + 1
        assert case_orgs(s, uuid.UUID(subject)) == {"jcp-derby", "recovery-partnership"}
    accepted = [e for e in events(rt, type="referral:referral:accept") if e.decision == "allow"]
    assert len(accepted) == 1



def test_two_agencies_saving_the_same_version_at_once_one_wins(
    app: Flask, rt: Runtime, demo: Demo, auth: Any
) -> None:
    """Real threads, each its own client: exactly one save wins, the other is told the entry
    changed (412 from If-Match, or 409 if the versions collide in the database); no lost
    update on either engine."""
    import threading

    client = app.test_client()
    headers = auth(COACH)
    plan = client.get(f"/api/v1/subjects/{demo.lee}/case-plan?purpose=case_management",
                      headers=headers)
    entry = next(e for e in plan.json["entries"] if e["category"] == "employment")
    etag = f'"e-{uuid.UUID(entry["id"]).hex[:12]}-{entry["version"]}"'
    url = f"/api/v1/subjects/{demo.lee}/case-plan/entries/{entry['id']}?purpose=case_management"
    results: dict[str, int] = {}
    start = threading.Barrier(2)

    def save(title: str) -> None:
        own = app.test_client()
        start.wait()
        r = own.patch(url, json={"title": title}, headers={**headers, "If-Match": etag})
        results[title] = r.status_code

    threads = [threading.Thread(target=save, args=(t,)) for t in ("first", "second")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(results.values())[0] == 200 and sorted(results.values())[1] in (409, 412)
    winner = next(t for t, code in results.items() if code == 200)
    after = client.get(f"/api/v1/subjects/{demo.lee}/case-plan?purpose=case_management",
                       headers=headers)
    saved = next(e for e in after.json["entries"] if e["id"] == entry["id"])
    assert saved["title"] == f"{winner}" and saved["version"] == entry["version"] + 1
