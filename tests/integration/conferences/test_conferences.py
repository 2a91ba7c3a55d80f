"""Case conferences through the use cases, on both engines: minutes sealed per category and
read under the decision (each attending organisation reads only what it could read anyway),
decisions as plan actions with the plan's own versions and audit, no partial state on a
refusal, a withdrawal binding the next read, and every read audited with what it opened."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from caseshare.access import case_plans, conferences, consents
from caseshare.case_plan.models import PlanEntry, PlanEntryVersion
from caseshare.conferences.models import (
    Conference,
    ConferenceAttendee,
    ConferenceDecision,
    ConferenceMinute,
)
from caseshare.conferences.service import minute_ref, open_minute
from caseshare.crypto.sealing import SealError, open_sealed
from caseshare.errors import ForbiddenError
from caseshare.runtime import Runtime
from caseshare.subjects import service as subjects
from caseshare.subjects.models import Subject
from tests.audit_helpers import events
from tests.conftest import COACH, HOUSING, KEY_WORKER, Demo
from tests.integration.assessments.helpers import run

TREATMENT = "Eleven weeks sober; the prescribing review moves to the evening clinic."
ADDRESS = "Moving to a flat on Carrington Street in January."
TABLES = (Conference, ConferenceAttendee, ConferenceMinute, ConferenceDecision, PlanEntry,
          PlanEntryVersion)


def _values(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "held_on": date(2026, 11, 20),
        "attendees": [{"org": "recovery-partnership"}, {"org": "jcp-derby"},
                      {"org": "derby-housing"}],
        "minutes": [{"category": "substance_misuse", "text": TREATMENT},
                    {"category": "contact", "text": ADDRESS}],
        "decisions": [
            {"title": "Book the evening prescribing review", "owner_org": "recovery-partnership",
             "due_on": date(2026, 12, 15), "category": "substance_misuse"},
            {"title": "Confirm the new address for the claim", "owner_org": "jcp-derby",
             "due_on": date(2026, 12, 22), "category": "contact"}],
    }
    return {**values, **changes}


def _record(rt: Runtime, demo: Demo, email: str = KEY_WORKER, purpose: str = "case_management",
            **changes: Any) -> dict[str, Any]:
    view: dict[str, Any] = run(rt, email, purpose, conferences.record_conference, demo.lee,
                               _values(**changes))
    return view


def _read(rt: Runtime, email: str, purpose: str, conference_id: uuid.UUID) -> dict[str, Any]:
    view: dict[str, Any] = run(rt, email, purpose, conferences.read_conference, conference_id)
    return view


def _minutes(view: dict[str, Any]) -> dict[str, str]:
    return {m["category"]: m["text"] for m in view["minutes"]}


def _withheld(view: dict[str, Any]) -> dict[str, list[str]]:
    return {w["category"]: w["reasons"] for w in view["withheld"]}


def _counts(rt: Runtime) -> dict[str, int]:
    with rt.session_factory() as s:
        return {m.__tablename__: int(s.scalar(select(func.count()).select_from(m)) or 0)
                for m in TABLES}


def test_each_minute_is_sealed_and_opens_only_as_itself(rt: Runtime, demo: Demo,
                                                         engine: str) -> None:
    view = _record(rt, demo)
    with rt.session_factory() as s:
        lee, kerry = s.get(Subject, demo.lee), s.get(Subject, demo.kerry)
        assert lee is not None and kerry is not None
        key, other_key = (subjects.data_key(lee, rt.keyring),
                          subjects.data_key(kerry, rt.keyring))
        minutes = {m.category: m for m in s.scalars(
            select(ConferenceMinute).where(ConferenceMinute.conference_id == view["id"]))}
        raw = " ".join(str(row) for table in ("case_conference_minutes", "audit_events")
                       for row in s.execute(text(f"SELECT * FROM {table}")))  # noqa: S608
    assert set(minutes) == {"substance_misuse", "contact"}
    for category, words in (("substance_misuse", TREATMENT), ("contact", ADDRESS)):
        minute = minutes[category]
        assert words.encode() not in minute.text and minute.text != words.encode()
        assert open_minute(minute, key) == words
        with pytest.raises(SealError):  # another claimant's key
            open_minute(minute, other_key)
    # Bound to its conference and category: moved to another it no longer opens.
    moved = minutes["contact"]
    for ref in (minute_ref(demo.lee, view["id"], "substance_misuse"),
                minute_ref(demo.lee, uuid.uuid4(), "contact"),
                minute_ref(demo.kerry, view["id"], "contact")):
        with pytest.raises(SealError):
            open_sealed(key, ref, moved.text)
    assert "Carrington" not in raw and "sober" not in raw
    if engine == "sqlite":
        path = Path(str(rt.engine.url.database))
        blob = b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
        assert b"Carrington" not in blob and b"sober" not in blob



def _plan_sees(rt: Runtime, email: str, purpose: str, demo: Demo) -> tuple[set[str], Any]:
    """The titles of the plan entries the reader reads, and what the plan read withholds."""
    _plan, disclosure, _etag = run(rt, email, purpose, case_plans.read_case_plan, demo.lee)
    return {e["title"] for e in disclosure.items}, disclosure.withheld


def test_three_organisations_each_read_only_what_their_decision_allows(
        rt: Runtime, demo: Demo) -> None:
    treatment = _record(rt, demo)["id"]  # the key worker's words
    placement = _record(rt, demo, COACH, minutes=[
        {"category": "employment", "text": "Starts a placement in May."},
        {"category": "contact", "text": ADDRESS}], decisions=[])["id"]  # the work coach's

    # The treatment provider and the work coach read both of the key worker's minutes.
    for email in (KEY_WORKER, COACH):
        seen = _read(rt, email, "case_management", treatment)
        assert _minutes(seen) == {"substance_misuse": TREATMENT, "contact": ADDRESS}
    # The housing officer's agreements bring nothing from the treatment provider: no minutes,
    # and substance misuse withheld with its reason; what it withholds is what the plan does.
    housing = _read(rt, HOUSING, "tenancy_sustainment", treatment)
    assert housing["minutes"] == [] and housing["decisions"] == []
    assert _withheld(housing)["substance_misuse"] == ["category_not_in_protocol"]
    assert len(housing["attendees"]) == 3
    titles, withheld = _plan_sees(rt, HOUSING, "tenancy_sustainment", demo)
    assert housing["withheld"] == withheld
    # ... exactly as the key worker's treatment action on the plan is closed to it, and open
    # to the work coach: each reads the minutes it could read anyway.
    assert "Attend weekly alcohol recovery group" not in titles
    assert "Attend weekly alcohol recovery group" in _plan_sees(rt, COACH, "case_management",
                                                                demo)[0]

    # The work coach's minutes: housing reads them for tenancy work, but for case management
    # its flow from the work coach carries contact and not employment (withheld, with why).
    tenancy = _read(rt, HOUSING, "tenancy_sustainment", placement)
    assert set(_minutes(tenancy)) == {"employment", "contact"}
    case = _read(rt, HOUSING, "case_management", placement)
    assert _minutes(case) == {"contact": ADDRESS}
    assert _withheld(case)["employment"] == ["category_not_in_flow"]
    assert case["withheld"] == _plan_sees(rt, HOUSING, "case_management", demo)[1]
    assert set(_minutes(_read(rt, KEY_WORKER, "case_management", placement))) == {
        "employment", "contact"}


def test_decisions_become_plan_actions_with_the_plan_s_own_versions_and_audit(
        rt: Runtime, demo: Demo) -> None:
    view = _record(rt, demo)
    assert [(d["title"], d["owner_org"], d["due_on"]) for d in view["decisions"]] == [
        ("Book the evening prescribing review", "recovery-partnership", date(2026, 12, 15)),
        ("Confirm the new address for the claim", "jcp-derby", date(2026, 12, 22))]
    ids = [d["entry_id"] for d in view["decisions"]]
    with rt.session_factory() as s:
        entries = [s.get(PlanEntry, i) for i in ids]
        linked = set(s.scalars(select(ConferenceDecision.entry_id)
                               .where(ConferenceDecision.conference_id == view["id"])))
        versions = list(s.scalars(select(PlanEntryVersion)
                                  .where(PlanEntryVersion.entry_id.in_(ids))))
    assert linked == set(ids)
    for entry in entries:
        assert entry is not None and entry.kind == "action" and entry.version == 1
        assert entry.created_org == "recovery-partnership" and entry.subject_id == demo.lee
    assert {(v.entry_id, v.version, v.action, v.owner_org, v.due_on) for v in versions} == {
        (ids[0], 1, "create", "recovery-partnership", date(2026, 12, 15)),
        (ids[1], 1, "create", "jcp-derby", date(2026, 12, 22))}
    [created] = [e for e in events(rt, type="conferences:conference:create", decision="allow")
                 if e.details["conference_id"] == str(view["id"])]
    assert created.details["entries"] == [str(i) for i in ids]
    plan_events = events(rt, type="case_plan:entry:create", request_id=created.request_id)
    assert [e.details["entry_id"] for e in plan_events] == [str(i) for i in ids]
    assert [e.categories for e in plan_events] == [["substance_misuse"], ["contact"]]
    # The work coach finds them on the plan as the actions they are.
    titles, _withheld = _plan_sees(rt, COACH, "case_management", demo)
    assert {"Book the evening prescribing review",
            "Confirm the new address for the claim"} <= titles


def test_a_refused_category_writes_nothing(rt: Runtime, demo: Demo) -> None:
    before = _counts(rt)
    with pytest.raises(ForbiddenError) as refused:
        _record(rt, demo, HOUSING, "tenancy_sustainment", decisions=[
            {"title": "Ask about rent", "owner_org": "derby-housing",
             "due_on": date(2026, 12, 1), "category": "housing_tenancy"}])
    assert "substance_misuse" in str(refused.value) and "contact" not in str(refused.value)
    assert _counts(rt) == before  # no conference, attendee, minute, plan entry or version
    [denied] = events(rt, type="access:write:deny", subject_id=demo.lee)
    assert denied.categories == ["substance_misuse"] and denied.org == "derby-housing"
    assert refused.value.extra["audit_id"] == denied.event_uuid
    assert not [e for e in events(rt, type="conferences:conference:create")
                if e.request_id == denied.request_id]
    assert not events(rt, type="case_plan:entry:create", request_id=denied.request_id)


def test_a_failure_after_the_first_decision_leaves_no_partial_conference(
        rt: Runtime, demo: Demo, monkeypatch: pytest.MonkeyPatch) -> None:
    """The second decision fails after the conference, its minutes and the first plan action
    were written in the unit of work: all of it is rolled back together."""
    add = case_plans.add_plan_entry
    calls: list[str] = []

    def failing_second(ctx: Any, subject_id: uuid.UUID,
                       values: dict[str, Any]) -> tuple[dict[str, Any], str]:
        calls.append(values["title"])
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        return add(ctx, subject_id, values)

    before = _counts(rt)
    monkeypatch.setattr(case_plans, "add_plan_entry", failing_second)
    with pytest.raises(RuntimeError):
        _record(rt, demo)
    assert len(calls) == 2 and _counts(rt) == before
    creates = events(rt, type="conferences:conference:create")
    assert len(creates) == 1  # the demo's own conference only


def test_a_withdrawal_after_the_conference_withholds_its_minutes_at_the_next_read(
        rt: Runtime, demo: Demo) -> None:
    conference = _record(rt, demo)["id"]
    assert set(_minutes(_read(rt, COACH, "case_management", conference))) == {
        "substance_misuse", "contact"}
    [consent] = run(rt, COACH, "case_management", consents.list_consents, demo.lee)
    run(rt, COACH, "case_management", consents.withdraw_consent, consent.id,
        {"channel": "phone", "scope": {"categories": ["substance_misuse"]}})
    after = _read(rt, COACH, "case_management", conference)
    assert _minutes(after) == {"contact": ADDRESS}
    assert "substance_misuse" in _withheld(after)
    assert [d["category"] for d in after["decisions"]] == ["contact"]
    # The read after the withdrawal audits what it withheld.
    deny = events(rt, type="conferences:conference:read", org="jcp-derby", decision="deny")[-1]
    assert deny.details["conferences"] == [str(conference)]
    assert "substance_misuse" in deny.categories


def test_every_read_is_audited_naming_what_was_opened(rt: Runtime, demo: Demo) -> None:
    view = _record(rt, demo)
    with rt.session_factory() as s:
        minute_ids = {str(i) for i in s.scalars(
            select(ConferenceMinute.id).where(ConferenceMinute.conference_id == view["id"]))}
    entry_ids = [str(d["entry_id"]) for d in view["decisions"]]
    _read(rt, COACH, "case_management", view["id"])
    [opened] = events(rt, type="conferences:conference:read", org="jcp-derby", decision="allow")
    assert opened.details["conferences"] == [str(view["id"])]
    assert set(opened.details["minutes"]) == minute_ids
    assert sorted(opened.details["entries"]) == sorted(entry_ids)
    assert opened.subject_id == demo.lee and "substance_misuse" in opened.categories
    assert TREATMENT not in str(opened.details) and ADDRESS not in str(opened.details)

    _read(rt, HOUSING, "tenancy_sustainment", view["id"])
    housing = events(rt, type="conferences:conference:read", org="derby-housing")
    [allow] = [e for e in housing if e.decision == "allow"]
    [deny] = [e for e in housing if e.decision == "deny"]
    assert allow.details == {"conferences": [str(view["id"])], "minutes": [], "entries": []}
    assert "substance_misuse" in deny.categories
    assert {"category": "substance_misuse", "reasons": ["category_not_in_protocol"]} in (
        deny.details["withheld"])

    listed = run(rt, COACH, "case_management", conferences.list_conferences, demo.lee)
    assert len(listed) == 2  # the demo's conference and this one
    [page] = events(rt, type="conferences:conference:list", org="jcp-derby", decision="allow")
    assert set(page.details["conferences"]) == {str(c["id"]) for c in listed}
    assert minute_ids <= set(page.details["minutes"])
