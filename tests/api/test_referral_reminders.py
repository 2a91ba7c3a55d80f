"""Booking a referral's appointment through the API schedules the claimant's reminder, which the
worker's reminder round sends once through a real local SMTP server; a withdrawn referral's
pending reminder is cancelled, so nothing is sent for an appointment that will not happen."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from caseshare.jobs.reminders import ReminderJob
from caseshare.outbound.mail_sink import MailSink
from caseshare.outbound.smtp import SmtpChannel
from caseshare.reminders.models import Reminder
from caseshare.runtime import Runtime
from tests.api.test_referral_lifecycle import _book, _referred, _step
from tests.conftest import COACH, Clock

PREFERENCE = "/api/v1/subjects/{}/contact-preference?purpose=case_management"


def _agree_to_reminders(client: FlaskClient, auth: Any, subject: str) -> None:
    r = client.put(PREFERENCE.format(subject), headers=auth(COACH),
                   json={"channel": "email", "address": "lee.reminders@example.org",
                         "language": "en", "method": "verbal_in_person"})
    assert r.status_code == 200, r.json


def _reminders(rt: Runtime) -> list[Reminder]:
    with rt.session_factory() as s:
        return list(s.scalars(select(Reminder).order_by(Reminder.created_at)))


def test_booking_schedules_the_reminder_the_worker_sends_once(
    client: FlaskClient, auth: Any, rt: Runtime, clock: Clock, smtp_sink: MailSink,
    smtp_channel: SmtpChannel,
) -> None:
    subject, _consent, rid = _referred(client, auth, clock)
    _agree_to_reminders(client, auth, subject)
    booked = _book(client, auth, rid, clock)
    assert booked.status_code == 200, booked.json
    [row] = _reminders(rt)
    assert row.status == "pending" and str(row.referral_id) == rid
    job = ReminderJob(session_factory=rt.session_factory, keyring=rt.keyring,
                      channel=smtp_channel, clock=clock)
    assert job.run_once() == {}  # three days ahead: not due yet
    clock.advance(days=2, hours=1)
    assert job.run_once() == {"sent": 1}
    assert job.run_once() == {}
    [mail] = smtp_sink.received
    assert mail.rcpt_tos == ("lee.reminders@example.org",)
    assert "Bridge Street Hub, room 3" in mail.body


def test_a_withdrawn_referral_sends_no_reminder(
    client: FlaskClient, auth: Any, rt: Runtime, clock: Clock, smtp_sink: MailSink,
    smtp_channel: SmtpChannel,
) -> None:
    subject, _consent, rid = _referred(client, auth, clock)
    _agree_to_reminders(client, auth, subject)
    assert _book(client, auth, rid, clock).status_code == 200
    withdrawn = _step(client, auth(COACH), rid, "case_management", type="withdrawn")
    assert withdrawn.status_code == 200, withdrawn.json
    [row] = _reminders(rt)
    assert row.status == "cancelled"
    clock.advance(days=2, hours=1)
    job = ReminderJob(session_factory=rt.session_factory, keyring=rt.keyring,
                      channel=smtp_channel, clock=clock)
    assert job.run_once() == {}
    assert smtp_sink.received == []
