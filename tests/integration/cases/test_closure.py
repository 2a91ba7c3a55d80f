"""Closing a case on a real database (both engines): consents whose expiry rule is
`case_closed` end (a whole withdrawal, channel `case_closed`, no cooling period), referrals in
progress close with the reason `case_closed`, the retention clock starts, and a reopening is
refused once the retention pass has deleted a copy."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select

from caseshare.case_plan.models import Referral
from caseshare.cases.models import Case
from caseshare.consent.models import ConsentWithdrawal
from caseshare.retention.models import DeletedCopy
from caseshare.runtime import Runtime
from caseshare.unit_of_work import UnitOfWork
from tests.audit_helpers import events
from tests.builders import assert_problem, consent, refer, register
from tests.conftest import COACH, Clock

CM = "case_management"


def test_closure_ends_case_closed_consents_and_open_referrals_and_starts_the_clock(
    app: Flask, rt: Runtime, auth: Any, clock: Clock
) -> None:
    client, coach = app.test_client(), auth(COACH)
    subject = register(client, coach)
    until_closed = consent(client, coach, subject, clock.now, expiry_rule="case_closed")
    fixed = consent(client, coach, subject, clock.now, recipients=["jcp-derby"],
                    purposes=[CM], categories=["identity", "contact"])
    r = refer(client, coach, subject, "recovery-partnership", "recovery_support", clock.now)
    assert r.status_code == 201, r.json
    clock.advance(days=3)
    coach = auth(COACH)  # a fresh token at the new time
    r = client.post(f"/api/v1/subjects/{subject}/closure?purpose={CM}", headers=coach,
                    json={"reason": "moved_away"})
    assert r.status_code == 200, r.json
    with rt.session_factory() as s:
        withdrawn = s.scalars(select(ConsentWithdrawal).where(
            ConsentWithdrawal.channel == "case_closed")).all()
        assert [(str(w.consent_id), w.channel, w.scope) for w in withdrawn] == [
            (until_closed, "case_closed", {})]
        referral = s.scalars(select(Referral).where(
            Referral.subject_id == uuid.UUID(subject))).one()
        assert referral.status == "suspended" and referral.suspended_reasons == ["case_closed"]
        case = s.get(Case, uuid.UUID(subject))
        assert case is not None and case.status == "closed" and case.closed_at is not None
    consents = {c["id"]: c["status"] for c in client.get(
        f"/api/v1/subjects/{subject}/consents?purpose={CM}", headers=coach).json["items"]}
    assert consents[until_closed] == "withdrawn" and consents[fixed] == "active"
    event = events(rt, type="cases:case:close")[0]
    assert event.details["consents_ended"] == [until_closed]
    assert event.details["referrals_closed"] == [str(referral.id)]
    # Reopened, the ended consent stays ended; a new one needs no signature for cooling off.
    assert client.post(f"/api/v1/subjects/{subject}/reopening?purpose={CM}",
                       headers=coach).status_code == 200
    consents = {c["id"]: c["status"] for c in client.get(
        f"/api/v1/subjects/{subject}/consents?purpose={CM}", headers=coach).json["items"]}
    assert consents[until_closed] == "withdrawn"
    again = consent(client, coach, subject, clock.now, method="verbal_in_person",
                    evidence_ref="NOTE-2026-1", expiry_rule="case_closed")
    assert again


def test_reopening_is_refused_after_the_retention_pass_deleted_a_copy(
    app: Flask, rt: Runtime, auth: Any, clock: Clock
) -> None:
    client, coach = app.test_client(), auth(COACH)
    subject = register(client, coach)
    assert client.post(f"/api/v1/subjects/{subject}/closure?purpose={CM}", headers=coach,
                       json={"reason": "goals_met"}).status_code == 200
    clock.advance(days=400)
    coach = auth(COACH)
    with rt.session_factory() as s, UnitOfWork(s):
        s.add(DeletedCopy(id=uuid.uuid4(), subject_id=uuid.UUID(subject), org_id="jcp-derby",
                          category="contact", due_on=(clock.now - timedelta(days=1)).date(),
                          rule="derby-local-support@1:f1", deleted_at=clock.now))
    r = client.post(f"/api/v1/subjects/{subject}/reopening?purpose={CM}", headers=coach)
    assert_problem(r, 403, reason="retention_started")
    refused = events(rt, type="cases:case:reopen")
    assert len(refused) == 1 and refused[0].decision == "deny"
    with rt.session_factory() as s:
        case = s.get(Case, uuid.UUID(subject))
        assert case is not None and case.status == "closed"
