"""The reminder pages through the Flask client (both engines): the claimant's contact
preference (linked from the overview; recorded, refused with what was typed kept, withdrawn;
the form not offered where the decision does not allow it, saying why) and the IG officers'
outbox of reminders sent through the real local SMTP server."""

from __future__ import annotations

import html
import uuid
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from caseshare.jobs.reminders import ReminderJob
from caseshare.outbound.mail_sink import MailSink
from caseshare.outbound.smtp import SmtpChannel
from caseshare.reminders import service as reminders
from caseshare.runtime import Runtime
from tests.audit_helpers import events
from tests.builders import consent, refer, register
from tests.conftest import COACH, HOUSING, Clock, Demo
from tests.web.test_ig_pages import sign_in_ig
from tests.web.test_pages import sign_in, token


def _text(resp: Any) -> str:
    return html.unescape(resp.get_data(as_text=True))


def test_record_refuse_keep_typed_values_and_withdraw(
    client: FlaskClient, rt: Runtime, demo: Demo
) -> None:
    sign_in(client, COACH)
    overview = _text(client.get(f"/claimants/{demo.lee}"))
    path = f"/claimants/{demo.lee}/contact-preference"
    assert f'href="{path}"' in overview  # linked from the papers section
    page = _text(client.get(path))
    assert "The claimant has not agreed to get reminders." in page
    assert "Save contact preference" in page

    typed = {"channel": "sms", "address": "01332 123456", "language": "cy",
             "method": "verbal_phone"}
    bad = client.post(path, data={**typed, "csrf_token": token(client, path)})
    assert bad.status_code == 422
    body = _text(bad)
    assert "Enter a UK mobile number" in body and 'href="#address"' in body
    assert 'value="01332 123456"' in body  # nothing typed is lost
    assert 'value="cy" checked' in body and 'value="verbal_phone" selected' in body

    good = client.post(path, data={**typed, "address": "07700 900982",
                                   "csrf_token": token(client, path)})
    assert good.status_code == 302
    page = _text(client.get(path))
    assert "Contact preference recorded" in page
    assert "07700 900982" in page and "Welsh (Cymraeg)" in page and "Text message" in page
    assert "Derby Jobcentre Plus" in page and "Stop reminders" in page
    [recorded] = events(rt, type="reminders:contact_preference:record")
    assert recorded.org == "jcp-derby" and "900982" not in str(recorded.details)

    stop = client.post(f"{path}/withdraw", data={"csrf_token": token(client, path)})
    assert stop.status_code == 302
    page = _text(client.get(path))
    assert "Reminders stopped" in page and "The claimant stopped reminders on" in page
    assert len(events(rt, type="reminders:contact_preference:withdraw")) == 1
    again = client.post(f"{path}/withdraw", data={"csrf_token": token(client, path)})
    assert "There was nothing to withdraw" in _text(client.get(again.headers["Location"]))


def test_the_form_is_not_offered_where_the_decision_does_not_allow_it(
    app: Flask, client: FlaskClient, auth: Any, clock: Clock, rt: Runtime
) -> None:
    # Housing is named in this claimant's consent but is not in the case (yet).
    subject = register(client, auth(COACH))
    consent(client, auth(COACH), subject, clock.now)
    housing = app.test_client()
    sign_in(housing, HOUSING, "tenancy_sustainment")
    path = f"/claimants/{subject}/contact-preference"
    page = _text(housing.get(path))
    assert 'data-testid="not-offered"' in page and "Save contact preference" not in page
    explained = [e for e in events(rt, type="access:decision:explain")
                 if e.org == "derby-housing"]
    assert explained and explained[-1].decision == "deny"
    # A post anyway (an old tab) is refused with what was typed kept and the reason.
    refused = housing.post(path, data={"channel": "email", "address": "kept@example.org",
                                       "language": "en", "method": "online",
                                       "csrf_token": token(housing, f"/claimants/{subject}")})
    assert refused.status_code == 403
    assert 'data-testid="not-offered"' in _text(refused)


def test_ig_officers_see_the_outbox_with_masked_recipients(
    app: Flask, client: FlaskClient, rt: Runtime, clock: Clock, demo: Demo, auth: Any,
    smtp_sink: MailSink, smtp_channel: SmtpChannel,
) -> None:
    coach = app.test_client()
    sign_in(coach, COACH)
    path = f"/claimants/{demo.lee}/contact-preference"
    coach.post(path, data={"channel": "email", "address": "lee.marsh@example.org",
                           "language": "cy", "method": "verbal_in_person",
                           "csrf_token": token(coach, path)})
    made = refer(client, auth(COACH), str(demo.lee), "recovery-partnership", "recovery_support",
                 clock.now)
    assert made.status_code == 201, made.json
    with rt.session_factory() as s:
        reminders.schedule_reminder(s, subject_id=demo.lee, referral_id=uuid.UUID(made.json["id"]),
                                    appointment_at=clock.now + timedelta(hours=20),
                                    location="Council House, Corporation Street",
                                    now=clock.now, keyring=rt.keyring)
        s.commit()
    job = ReminderJob(session_factory=rt.session_factory, keyring=rt.keyring,
                      channel=smtp_channel, clock=clock)
    assert job.run_once() == {"sent": 1}
    assert smtp_sink.received[0].rcpt_tos == ("lee.marsh@example.org",)

    assert coach.get("/ig/outbox").status_code == 403  # front-line staff: not their page
    sign_in_ig(client, rt, clock)
    assert "/ig/outbox" in _text(client.get("/ig"))  # the dashboard's "More reports"
    page = _text(client.get("/ig/outbox"))
    assert 'data-testid="outbox"' in page and "cs-table--stack" in page
    assert "Sent" in page and "l•••@example.org" in page and "Welsh" in page
    assert "lee.marsh" not in page and "Corporation Street" not in page
    assert 'data-label="Attempts">1<' in page
    [listed] = events(rt, type="reminders:outbox:list")
    assert listed.org == "derby-housing" and listed.details["returned"] == 1
    assert uuid.UUID(str(listed.actor))
