"""Referral steps on a real database (both engines): each step a numbered event row with its
words sealed, the order enforced in the domain, and the overdue notice claimed once even by two
workers."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from caseshare.case_plan import referral_overdue, referrals
from caseshare.case_plan.models import Referral, ReferralEvent
from caseshare.errors import ConflictError
from caseshare.facts import Principal
from caseshare.notifications.models import Notification
from caseshare.runtime import Runtime
from caseshare.subjects import service as subjects
from caseshare.unit_of_work import UnitOfWork
from tests.builders import consent, refer, register
from tests.conftest import COACH, KEY_WORKER, Clock

KW = "recovery_support"


def _accepted(app: Flask, auth: Any, clock: Clock) -> uuid.UUID:
    client = app.test_client()
    coach = auth(COACH)
    subject = register(client, coach)
    consent(client, coach, subject, clock.now)
    rid = refer(client, coach, subject, "recovery-partnership", KW, clock.now).json["id"]
    assert client.post(f"/api/v1/referrals/{rid}/accept?purpose={KW}",
                       headers=auth(KEY_WORKER)).status_code == 200
    return uuid.UUID(rid)


def test_steps_are_numbered_sealed_and_kept_in_order(
    app: Flask, rt: Runtime, auth: Any, clock: Clock
) -> None:
    rid = _accepted(app, auth, clock)
    worker = Principal(actor_id=str(uuid.uuid4()), actor_type="staff",
                       org="recovery-partnership", roles=frozenset({"key_worker"}))
    with rt.session_factory() as s, UnitOfWork(s):
        referral = s.get(Referral, rid)
        assert referral is not None
        key = subjects.data_key(subjects.get_subject(s, referral.subject_id), rt.keyring)
        with pytest.raises(ConflictError):
            referrals.record_step(s, referral, referrals.Step("attended"), data_key=key,
                                  principal=worker, now=clock.now)
        referrals.record_step(s, referral, referrals.Step(
            "booked", appointment_at=clock.now + timedelta(days=1), location="Room 3",
            note="Bring ID"), data_key=key, principal=worker, now=clock.now)
        referrals.record_step(s, referral, referrals.Step("did_not_attend"), data_key=key,
                              principal=worker, now=clock.now)
    with rt.session_factory() as s:
        rows = list(s.scalars(select(ReferralEvent).where(ReferralEvent.referral_id == rid)
                              .order_by(ReferralEvent.seq)))
        assert [(e.seq, e.type) for e in rows] == [
            (1, "created"), (2, "accepted"), (3, "booked"), (4, "did_not_attend")]
        booked = rows[2]
        assert booked.note is not None and b"Bring ID" not in booked.note
        assert booked.location is not None and b"Room 3" not in booked.location
        referral = s.get(Referral, rid)
        assert referral is not None and referral.status == "did_not_attend"
        key = subjects.data_key(subjects.get_subject(s, referral.subject_id), rt.keyring)
        timeline = referrals.timeline(referral, rows, data_key=key, decline_reason=None,
                                      names={})
        assert timeline[2]["note"] == "Bring ID" and timeline[2]["location"] == "Room 3"
        hidden = referrals.timeline(referral, rows, data_key=None, decline_reason=None, names={})
        assert hidden[2]["note"] is None and hidden[2]["appointment_at"] is None


def test_two_workers_notify_an_overdue_referral_once(
    app: Flask, rt: Runtime, auth: Any, clock: Clock
) -> None:
    client = app.test_client()
    coach = auth(COACH)
    subject = register(client, coach)
    consent(client, coach, subject, clock.now)
    rid = refer(client, coach, subject, "recovery-partnership", KW, clock.now).json["id"]
    later = clock.now + timedelta(days=7)
    with rt.session_factory() as s, UnitOfWork(s):
        assert [str(r.id) for r in referrals.overdue_unnotified(s, later)] == [rid]
        assert referral_overdue.notify_overdue(s, now=later) == 1
    # A second worker that had read the referral as due before the first claimed it: the
    # conditional claim fails, so it notifies nothing; and a rerun finds nothing to do.
    with rt.session_factory() as s, UnitOfWork(s):
        assert not referrals.claim_overdue_notice(s, uuid.UUID(rid), later)
        assert referral_overdue.notify_overdue(s, now=later + timedelta(hours=1)) == 0
    with rt.session_factory() as s:
        notes = list(s.scalars(select(Notification).where(Notification.type == "referral_overdue")))
        assert [(n.org_id, n.details) for n in notes] == [("recovery-partnership",
                                                           {"referral_id": rid})]
