"""Counting recorded work by organisation and period on both engines (caseshare/mi/activity.py):
the demo's referral, assessments and plan entries, plus money plans and outcomes added here."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select

from caseshare.assessments.models import Assessment
from caseshare.case_plan.models import PlanEntry, PlanEntryVersion, Referral, ReferralEvent
from caseshare.mi.activity import Period, count_all
from caseshare.outcomes.attribution import attribute
from caseshare.outcomes.service import record_outcome
from caseshare.policy.models import Protocol
from caseshare.runtime import Runtime
from caseshare.subjects import service as subjects
from caseshare.support_records.models import SupportRecord
from caseshare.unit_of_work import UnitOfWork
from tests.builders import consent, refer, register
from tests.conftest import COACH, KEY_WORKER, Clock, Demo


def _money_plan(subject: uuid.UUID, org: str, clock: Clock) -> SupportRecord:
    staff = uuid.uuid4()
    # Counting reads plain columns only, so the sealed data can be any bytes here.
    return SupportRecord(subject_id=subject, kind="money_plan", category="finances",
                         created_org=org, data=b"sealed", created_at=clock.now,
                         created_by=staff, updated_at=clock.now, updated_by=staff,
                         updated_purpose="budgeting_support")


def _protocol(rt: Runtime, protocol_id: str) -> Protocol:
    return next(p for p in rt.protocols.protocols if p.id == protocol_id)


def _version(entry: PlanEntry, at: datetime, purpose: str, version: int = 2) -> PlanEntryVersion:
    """A row of the entry's history saying it was (still) done at `at`."""
    return PlanEntryVersion(
        entry_id=entry.id, subject_id=entry.subject_id, version=version, action="update",
        changed_fields=["status"], category=entry.category, owner_org=entry.owner_org,
        status="done", due_on=None, title=entry.title, service=entry.service,
        changed_at=at, changed_by=uuid.uuid4(), changed_org=entry.owner_org, purpose=purpose)


def _accepted_referral(app: Flask, auth: Any, clock: Clock) -> None:
    client = app.test_client()
    coach = auth(COACH)
    subject = register(client, coach)
    consent(client, coach, subject, clock.now)
    rid = refer(client, coach, subject, "recovery-partnership", "recovery_support",
                clock.now).json["id"]
    assert client.post(f"/api/v1/referrals/{rid}/accept?purpose=recovery_support",
                       headers=auth(KEY_WORKER)).status_code == 200


def test_counts_by_organisation_in_the_period(app: Flask, rt: Runtime, auth: Any, demo: Demo,
                                              clock: Clock) -> None:
    today = clock.now.date()
    _accepted_referral(app, auth, clock)
    with rt.session_factory() as s, UnitOfWork(s):
        s.add(_money_plan(demo.lee, "ca-derby", clock))
        s.add(_money_plan(demo.kerry, "ca-derby", clock))
        s.add(Assessment(subject_id=demo.kerry, form_id="derby-multi-need", form_version=1,
                         language="en", purpose="triage", completed_at=clock.now,
                         completed_by=uuid.uuid4(), completed_org="jcp-derby"))
        entry = s.scalars(select(PlanEntry).where(PlanEntry.subject_id == demo.kerry)).first()
        assert entry is not None
        entry.status, entry.service, entry.updated_at = "done", "budgeting_support", clock.now
        # Completion is read from the entry's history (when it was first marked done).
        s.add(_version(entry, clock.now, "budgeting_support"))
        key = subjects.data_key(subjects.get_subject(s, demo.lee), rt.keyring)
        for subject in (demo.lee, demo.kerry):
            outcome = record_outcome(
                s, key, subject_id=subject, code="apa_in_place", category="housing_tenancy",
                achieved_on=today, org="derby-housing", purpose="tenancy_sustainment",
                now=clock.now, staff_id=None)
            attribute(s, outcome)
    with rt.session_factory() as s:
        period = Period(today - timedelta(days=30), today)
        counts = count_all(s, period, _protocol(rt, "derby-local-support"))
        recovery = count_all(s, period, _protocol(rt, "recovery-jcp"))
    acts = counts.activities | recovery.activities
    assert acts[("ca-derby", "money_plan_agreed")] == 2
    assert acts[("recovery-partnership", "referral_accepted")] == 1
    assert acts[("jcp-derby", "assessment_completed")] >= 1
    owner = entry.owner_org
    assert acts[(owner, "plan_entry_completed:budgeting_support")] >= 1
    assert acts[(owner, "plan_entry_completed")] >= acts[(owner,
                                                          "plan_entry_completed:budgeting_support")]
    assert counts.outcomes == {("derby-housing", "apa_in_place"): 2}
    shares = {k: v for k, v in counts.shares.items() if k[1] == "apa_in_place"}
    assert abs(sum(shares.values()) - 2.0) < 1e-6  # each outcome's shares sum to 1
    assert ("derby-housing", "apa_in_place") in shares
    partnership, outcomes = counts.by_key({"ca-derby", "derby-housing", "jcp-derby"})
    assert partnership["money_plan_agreed"] == 2 and outcomes["apa_in_place"] == 2
    assert counts.by_key({"recovery-partnership"})[1] == {}


def test_nothing_outside_the_period_counts(rt: Runtime, demo: Demo, clock: Clock) -> None:
    with rt.session_factory() as s, UnitOfWork(s):
        s.add(_money_plan(demo.lee, "ca-derby", clock))
    later = clock.now.date() + timedelta(days=1)
    with rt.session_factory() as s:
        counts = count_all(s, Period(later, later + timedelta(days=30)),
                           _protocol(rt, "derby-local-support"))
    assert counts.activities == {} and counts.outcomes == {} and counts.shares == {}


def test_work_counts_for_the_protocol_it_was_done_under_once(rt: Runtime, demo: Demo,
                                                             clock: Clock) -> None:
    today = clock.now.date()
    with rt.session_factory() as s, UnitOfWork(s):
        # The treatment provider refers Lee to the Jobcentre under recovery-jcp; jcp-derby
        # (party to Derby's protocol too) accepts: recovery-jcp's work, not Derby's.
        referral = Referral(subject_id=demo.lee, from_org="recovery-partnership",
                            to_org="jcp-derby", purpose="case_management", status="accepted",
                            message=b"sealed", contact_name=b"sealed", protocol="recovery-jcp@1",
                            flow_id="x", created_at=clock.now, created_by=uuid.uuid4())
        s.add(referral)
        s.flush()
        s.add(ReferralEvent(referral_id=referral.id, seq=1, subject_id=demo.lee,
                            type="accepted", at=clock.now, actor_org="jcp-derby"))
        # A plan entry done 40 days ago and edited (still done) today: paid in its own period.
        entry = s.scalars(select(PlanEntry).where(PlanEntry.subject_id == demo.kerry)).first()
        assert entry is not None
        entry.status, entry.service, entry.updated_at = "done", "budgeting_support", clock.now
        s.add(_version(entry, clock.now - timedelta(days=40), "budgeting_support"))
        s.add(_version(entry, clock.now, "budgeting_support", version=3))
    with rt.session_factory() as s:
        derby = _protocol(rt, "derby-local-support")
        recent = count_all(s, Period(today - timedelta(days=30), today), derby).activities
        earlier = count_all(s, Period(today - timedelta(days=45), today - timedelta(days=31)),
                            derby).activities
        recovery = count_all(s, Period(today - timedelta(days=30), today),
                             _protocol(rt, "recovery-jcp")).activities
    assert ("jcp-derby", "referral_accepted") not in recent
    assert recovery[("jcp-derby", "referral_accepted")] == 1
    assert not any(key.startswith("plan_entry_completed") for _org, key in recent)
    assert earlier[(entry.owner_org, "plan_entry_completed:budgeting_support")] == 1
