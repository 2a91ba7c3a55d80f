"""Withdrawing consent suspends the open referrals that relied on it (the eager hook)."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Flask
from sqlalchemy import select

from caseshare.access import referrals as referral_cases
from caseshare.case_plan.models import Referral
from caseshare.demo import _ctx
from caseshare.identity.service import get_staff_by_email
from caseshare.runtime import Runtime
from tests.audit_helpers import events
from tests.builders import consent, refer, register
from tests.conftest import COACH, Demo


def test_withdrawal_hook_suspends_only_the_referrals_that_relied_on_it(
    app: Flask, rt: Runtime, demo: Demo, auth: Any
) -> None:
    client = app.test_client()
    coach = auth(COACH)
    subject = register(client, coach)
    consent_id = consent(client, coach, subject, rt.now())
    recovery = refer(client, coach, subject, "recovery-partnership", "recovery_support",
                     rt.now()).json["id"]
    housing = refer(client, coach, subject, "derby-housing", "tenancy_sustainment",
                    rt.now()).json["id"]
    w = client.post(f"/api/v1/consents/{consent_id}/withdrawal?purpose=case_management",
                    headers=coach, json={"channel": "phone",
                                         "scope": {"recipients": ["derby-housing"]}})
    assert w.status_code == 200
    assert w.json is not None
    with rt.session_factory() as s:
        statuses = {str(r.id): r.status for r in s.scalars(select(Referral))}
    assert statuses == {recovery: "open", housing: "suspended"}
    [event] = events(rt, type="referral:referral:suspend")
    assert event.details["referral_id"] == housing and event.reasons == ["consent_withdrawn"]
    # Done by the withdrawal itself, in its own unit of work.
    assert event.request_id == w.headers["X-Request-ID"]
    # Running the hook again finds nothing more to suspend.
    with rt.session_factory() as s:
        ctx = _ctx(s, rt, get_staff_by_email(s, COACH), "case_management")
        with ctx:
            assert referral_cases.suspend_where_basis_lost(ctx, uuid.UUID(subject)) == []
