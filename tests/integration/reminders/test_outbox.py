"""Appointment reminders through a real local SMTP server (tests/smtp_sink.py), on both
engines: sent once, retried while the server is down, only the new time after a rebooking,
nothing after the claimant withdrew, the audit event committed before anything is sent, what a
crash after the send does, and what erasure leaves."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from caseshare.identity import service as identity
from caseshare.jobs.reminders import ReminderJob
from caseshare.outbound.channel import Message
from caseshare.outbound.mail_sink import MailSink, ProductionRefused
from caseshare.outbound.smtp import SmtpChannel
from caseshare.reminders import service as reminders
from caseshare.reminders.models import Reminder
from caseshare.runtime import Runtime
from tests.audit_helpers import events
from tests.builders import consent, refer, register
from tests.conftest import COACH, Clock

PREFERENCE = "/api/v1/subjects/{}/contact-preference?purpose=case_management"
ADDRESS = "jordan.ashby@example.org"
# START is Monday 23 November 2026 (GMT: UK time is UTC); the appointment is on the Wednesday.
APPOINTMENT = datetime(2026, 11, 25, 10, 30, tzinfo=UTC)


def _claimant(client: FlaskClient, auth: Any, clock: Clock, *, language: str = "cy",
              channel: str = "email", address: str = ADDRESS) -> tuple[uuid.UUID, uuid.UUID]:
    """A claimant with a consent, a referral and a contact preference: (subject, referral)."""
    coach = auth(COACH)
    subject = register(client, coach)
    consent(client, coach, subject, clock.now)
    referral = refer(client, coach, subject, "recovery-partnership", "recovery_support",
                     clock.now)
    assert referral.status_code == 201, referral.json
    if channel:
        r = client.put(PREFERENCE.format(subject), headers=coach,
                       json={"channel": channel, "address": address, "language": language,
                             "method": "verbal_in_person"})
        assert r.status_code == 200, r.json
    return uuid.UUID(subject), uuid.UUID(referral.json["id"])


def _schedule(rt: Runtime, clock: Clock, subject: uuid.UUID, referral: uuid.UUID,
              at: datetime = APPOINTMENT, location: str | None = "Derby Recovery Partnership, "
              "12 Green Lane") -> uuid.UUID | None:
    with rt.session_factory() as s:
        row = reminders.schedule_reminder(s, subject_id=subject, referral_id=referral,
                                          appointment_at=at, location=location, now=clock.now,
                                          keyring=rt.keyring)
        s.commit()
        return row.id if row else None


def _job(rt: Runtime, clock: Clock, channel: Any) -> ReminderJob:
    return ReminderJob(session_factory=rt.session_factory, keyring=rt.keyring, channel=channel,
                       clock=clock)


def _rows(rt: Runtime) -> list[Reminder]:
    with rt.session_factory() as s:
        return list(s.scalars(select(Reminder).order_by(Reminder.created_at)))


def test_a_reminder_is_sent_once_a_day_before_in_the_claimants_language(
    client: FlaskClient, auth: Any, rt: Runtime, clock: Clock, smtp_sink: MailSink,
    smtp_channel: SmtpChannel,
) -> None:
    subject, referral = _claimant(client, auth, clock, language="cy")
    first = _schedule(rt, clock, subject, referral)
    assert _schedule(rt, clock, subject, referral) == first  # the same appointment: one row
    job = _job(rt, clock, smtp_channel)
    assert sum(job.run_once().values()) == 0  # two days ahead: not due yet
    clock.now = APPOINTMENT - timedelta(hours=24)
    assert job.run_once() == {"sent": 1}
    assert job.run_once() == {}  # never again
    clock.advance(hours=1)
    assert job.run_once() == {}

    [mail] = smtp_sink.received
    assert mail.rcpt_tos == (ADDRESS,)
    assert mail.message["Content-Language"] == "cy"
    assert "10:30, Dydd Mercher 25 Tachwedd 2026" in mail.body
    assert "Derby Recovery Partnership, 12 Green Lane" in mail.body
    assert mail.message["Message-ID"] == f"<{first}@reminders.caseshare>"
    [row] = _rows(rt)
    assert (row.status, row.attempts, row.channel, row.language, row.outbound) == (
        "sent", 1, "email", "cy", "smtp")
    assert row.recipient == "j•••@example.org"
    # The disclosure to the mail server is audited, with codes and ids only: the attempt
    # (before the send), then its result.
    [attempt] = events(rt, type="reminders:message:send_attempt")
    assert attempt.subject_id == subject and attempt.categories == ["contact"]
    assert attempt.details["attempt"] == 1 and attempt.details["language"] == "cy"
    [event] = events(rt, type="reminders:message:send")
    assert event.subject_id == subject
    assert event.details["result"] == "sent" and event.details["language"] == "cy"
    for details in (attempt.details, event.details):
        assert "jordan" not in str(details).lower() and "Green" not in str(details)


def test_english_reminder_gives_uk_local_time_in_summer(
    client: FlaskClient, auth: Any, rt: Runtime, clock: Clock, smtp_sink: MailSink,
    smtp_channel: SmtpChannel,
) -> None:
    subject, referral = _claimant(client, auth, clock, language="en")
    summer = datetime(2027, 7, 14, 13, 0, tzinfo=UTC)  # 2pm British Summer Time
    _schedule(rt, clock, subject, referral, at=summer, location=None)
    clock.now = summer - timedelta(hours=2)
    assert _job(rt, clock, smtp_channel).run_once() == {"sent": 1}
    [mail] = smtp_sink.received
    assert mail.message["Content-Language"] == "en"
    assert "2pm on Wednesday 14 July 2027" in mail.message["Subject"]


def test_a_reminder_is_retried_while_the_server_is_down_and_delivered_once(
    client: FlaskClient, auth: Any, rt: Runtime, clock: Clock, smtp_sink: MailSink,
    smtp_channel: SmtpChannel,
) -> None:
    subject, referral = _claimant(client, auth, clock)
    _schedule(rt, clock, subject, referral)
    clock.now = APPOINTMENT - timedelta(hours=24)
    job = _job(rt, clock, smtp_channel)
    smtp_sink.stop()
    assert job.run_once() == {"retry": 1}
    [row] = _rows(rt)
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "smtp_unavailable")
    assert row.next_attempt_at == clock.now + timedelta(minutes=1)
    assert job.run_once() == {}  # waits for its retry time
    clock.advance(minutes=1)
    assert job.run_once() == {"retry": 1}  # still down: the pause doubles
    assert _rows(rt)[0].next_attempt_at == clock.now + timedelta(minutes=2)
    smtp_sink.start()
    clock.advance(minutes=2)
    assert job.run_once() == {"sent": 1}
    assert job.run_once() == {}
    assert len(smtp_sink.received) == 1
    [row] = _rows(rt)
    assert (row.status, row.attempts, row.last_error) == ("sent", 3, None)
    # Every attempt that handed the address to a channel is audited; the error is a code.
    results = [e.details["result"] for e in events(rt, type="reminders:message:send")]
    assert results == ["retry", "retry", "sent"]
    assert {e.details["code"] for e in events(rt, type="reminders:message:send")} == {
        "smtp_unavailable", None}


def test_a_rebooked_appointment_sends_only_the_new_reminder(
    client: FlaskClient, auth: Any, rt: Runtime, clock: Clock, smtp_sink: MailSink,
    smtp_channel: SmtpChannel,
) -> None:
    subject, referral = _claimant(client, auth, clock, language="en")
    old = _schedule(rt, clock, subject, referral)
    later = APPOINTMENT + timedelta(days=1, hours=4)  # Thursday 2:30pm
    new = _schedule(rt, clock, subject, referral, at=later)
    # The booked step run again for the new time (a retried request) changes nothing.
    assert _schedule(rt, clock, subject, referral, at=later) == new
    clock.now = later - timedelta(hours=3)  # both reminders' times have come
    assert _job(rt, clock, smtp_channel).run_once() == {"sent": 1}
    [mail] = smtp_sink.received
    assert "2:30pm on Thursday 26 November 2026" in mail.body
    status = {r.id: r.status for r in _rows(rt)}
    assert status == {old: "superseded", new: "sent"}


def test_a_withdrawn_contact_preference_sends_nothing(
    client: FlaskClient, auth: Any, rt: Runtime, clock: Clock, smtp_sink: MailSink,
    smtp_channel: SmtpChannel,
) -> None:
    subject, referral = _claimant(client, auth, clock)
    reminder = _schedule(rt, clock, subject, referral)
    r = client.delete(PREFERENCE.format(subject), headers=auth(COACH))
    assert r.status_code == 200 and r.json["status"] == "withdrawn"
    clock.now = APPOINTMENT - timedelta(hours=12)
    assert _job(rt, clock, smtp_channel).run_once() == {}
    assert smtp_sink.received == []
    [row] = _rows(rt)
    assert (row.id, row.status, row.last_error) == (reminder, "cancelled", "preference_withdrawn")
    [withdrawn] = events(rt, type="reminders:contact_preference:withdraw")
    assert withdrawn.details["reminders_cancelled"] == [str(reminder)]


def test_no_reminder_without_a_contact_preference_or_for_a_past_appointment(
    client: FlaskClient, auth: Any, rt: Runtime, clock: Clock, smtp_sink: MailSink,
    smtp_channel: SmtpChannel,
) -> None:
    subject, referral = _claimant(client, auth, clock, channel="")
    assert _schedule(rt, clock, subject, referral, at=clock.now - timedelta(hours=1)) is None
    _schedule(rt, clock, subject, referral)
    clock.now = APPOINTMENT - timedelta(hours=1)
    assert _job(rt, clock, smtp_channel).run_once() == {"cancelled": 1}
    assert smtp_sink.received == []
    assert _rows(rt)[0].last_error == "no_contact_preference"


def test_sms_goes_through_smtp_only_by_a_configured_gateway(
    client: FlaskClient, auth: Any, rt: Runtime, clock: Clock, smtp_sink: MailSink,
    smtp_channel: SmtpChannel,
) -> None:
    subject, referral = _claimant(client, auth, clock, channel="sms", address="07700 900982")
    _schedule(rt, clock, subject, referral)
    clock.now = APPOINTMENT - timedelta(hours=1)
    assert _job(rt, clock, smtp_channel).run_once() == {"failed": 1}  # permanent: no retry
    assert _rows(rt)[0].last_error == "sms_not_supported" and smtp_sink.received == []

    other, second = _claimant(client, auth, clock, channel="sms", address="+44 7700 900123")
    _schedule(rt, clock, other, second, at=APPOINTMENT + timedelta(hours=2))
    gateway = SmtpChannel(host=smtp_sink.host, port=smtp_sink.port, sender="r@caseshare.example",
                          timeout=5, sms_domain="sms.example.net")
    assert _job(rt, clock, gateway).run_once() == {"sent": 1}
    [mail] = smtp_sink.received
    assert mail.rcpt_tos == ("447700900123@sms.example.net",)
    assert [r.recipient for r in _rows(rt)] == ["••••••••982", "•••••••••123"]


def test_rebooking_back_to_an_earlier_time_reminds_of_that_time_only(
    client: FlaskClient, auth: Any, rt: Runtime, clock: Clock, smtp_sink: MailSink,
    smtp_channel: SmtpChannel,
) -> None:
    """Book 10:30, move to Thursday 2:30pm, move back to 10:30 (with a new place): the 10:30 row
    is pending again with the new place, the 2:30pm one superseded."""
    subject, referral = _claimant(client, auth, clock, language="en")
    first = _schedule(rt, clock, subject, referral)
    later = APPOINTMENT + timedelta(days=1, hours=4)
    moved = _schedule(rt, clock, subject, referral, at=later)
    back = _schedule(rt, clock, subject, referral, location="14 Green Lane, room 2")
    assert back == first
    assert {r.id: r.status for r in _rows(rt)} == {first: "pending", moved: "superseded"}
    clock.now = APPOINTMENT - timedelta(hours=1)
    assert _job(rt, clock, smtp_channel).run_once() == {"sent": 1}
    [mail] = smtp_sink.received
    assert "10:30am on Wednesday 25 November 2026, at 14 Green Lane, room 2" in mail.body
    assert {r.id: r.status for r in _rows(rt)} == {first: "sent", moved: "superseded"}


class CrashAfterSending:
    """The mail server took the message, then the worker died before recording it. It also
    notes, when asked to send, the audit events already committed for the attempt."""

    name = "smtp"

    def __init__(self, inner: SmtpChannel, rt: Runtime) -> None:
        self.inner, self.rt = inner, rt
        self.committed_before_send: list[int] = []

    def send(self, message: Message) -> None:
        attempts = events(self.rt, type="reminders:message:send_attempt")
        self.committed_before_send.append(len(attempts))
        self.inner.send(message)
        raise KeyboardInterrupt  # not a SendError: the round stops here


def test_the_attempt_is_audited_before_sending_and_a_crash_after_it_sends_again_later(
    client: FlaskClient, auth: Any, rt: Runtime, clock: Clock, smtp_sink: MailSink,
    smtp_channel: SmtpChannel,
) -> None:
    """No plaintext leaves before its audit event is committed. A crash after the send leaves
    the claim (a lease) in place: the reminder is sent again once the lease ends (at least
    once, never lost), with the same Message-ID (Notify: reference)."""
    subject, referral = _claimant(client, auth, clock)
    reminder = _schedule(rt, clock, subject, referral)
    clock.now = APPOINTMENT - timedelta(hours=24)
    crashing = CrashAfterSending(smtp_channel, rt)
    with pytest.raises(KeyboardInterrupt):
        _job(rt, clock, crashing).run_once()
    assert crashing.committed_before_send == [1]
    [row] = _rows(rt)
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.next_attempt_at == clock.now + reminders.LEASE
    job = _job(rt, clock, smtp_channel)
    assert job.run_once() == {}  # the lease holds
    clock.now += reminders.LEASE
    assert job.run_once() == {"sent": 1}
    ids = [m.message["Message-ID"] for m in smtp_sink.received]
    assert ids == [f"<{reminder}@reminders.caseshare>"] * 2
    assert [e.details["attempt"] for e in events(rt, type="reminders:message:send_attempt")] == [
        1, 2]
    assert [e.details["result"] for e in events(rt, type="reminders:message:send")] == ["sent"]


def test_erasure_removes_the_masked_recipient_and_cancels_what_is_pending(
    client: FlaskClient, auth: Any, rt: Runtime, clock: Clock, smtp_sink: MailSink,
    smtp_channel: SmtpChannel,
) -> None:
    subject, referral = _claimant(client, auth, clock)
    sent = _schedule(rt, clock, subject, referral)
    clock.now = APPOINTMENT - timedelta(hours=24)
    assert _job(rt, clock, smtp_channel).run_once() == {"sent": 1}
    pending = _schedule(rt, clock, subject, referral, at=APPOINTMENT + timedelta(days=7))
    assert {r.recipient for r in _rows(rt)} == {"j•••@example.org", None}
    ig = "morgan.ellis@jcp-derby.example"
    with rt.session_factory() as s:
        identity.add_or_update_staff(s, protocols=rt.protocols, email=ig, name="Morgan Ellis",
                                     org="jcp-derby", roles=["ig_officer"], now=rt.now())
        s.commit()
    r = client.post(f"/api/v1/subjects/{subject}/erasure?purpose=subject_access",
                    headers=auth(ig), json={"reason": "subject_request"})
    assert r.status_code == 200, r.json
    rows = {r.id: r for r in _rows(rt)}
    assert [r.recipient for r in rows.values()] == [None, None]
    assert (rows[sent].status, rows[pending].status) == ("sent", "cancelled")
    assert rows[pending].last_error == "subject_erased"


def test_the_demo_mail_sink_refuses_to_start_in_production(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CASESHARE_PRODUCTION", "true")
    with pytest.raises(ProductionRefused):
        MailSink().start()


class Broken:
    """A channel with a bug: an unexpected error, not a SendError."""

    name = "smtp"

    def send(self, message: Message) -> None:
        raise RuntimeError(message.to)  # the text never reaches the log or the row


def test_an_unexpected_error_defers_the_reminder_without_stopping_the_worker(
    client: FlaskClient, auth: Any, rt: Runtime, clock: Clock, caplog: pytest.LogCaptureFixture,
) -> None:
    subject, referral = _claimant(client, auth, clock)
    _schedule(rt, clock, subject, referral)
    clock.now = APPOINTMENT - timedelta(hours=24)
    job = _job(rt, clock, Broken())
    assert job.run_once() == {"error": 1}
    assert job.run_once() == {}  # deferred: not tried again at once
    [row] = _rows(rt)
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "error_RuntimeError")
    assert row.next_attempt_at == clock.now + timedelta(minutes=1)
    assert ADDRESS not in caplog.text and "error_RuntimeError" in caplog.text
