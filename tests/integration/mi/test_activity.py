"""Counting recorded work by organisation and period on both engines (caseshare/mi/activity.py):
the demo's referral, assessments and plan entries, plus money plans and outcomes added here."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select

from caseshare.assessments.models import Assessment
from caseshare.case_plan.models import PlanEntry
from caseshare.mi.activity import Period, count_all
from caseshare.outcomes.attribution import attribute
from caseshare.outcomes.service import record_outcome
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
        key = subjects.data_key(subjects.get_subject(s, demo.lee), rt.keyring)
        for subject in (demo.lee, demo.kerry):
            outcome = record_outcome(
                s, key, subject_id=subject, code="apa_in_place", category="housing_tenancy",
                achieved_on=today, org="derby-housing", purpose="tenancy_sustainment",
                now=clock.now, staff_id=None)
            attribute(s, outcome)
    with rt.session_factory() as s:
        counts = count_all(s, Period(today - timedelta(days=30), today))
    acts = counts.activities
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
        counts = count_all(s, Period(later, later + timedelta(days=30)))
    assert counts.activities == {} and counts.outcomes == {} and counts.shares == {}
