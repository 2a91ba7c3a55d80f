"""The referral page through the Flask test client (both engines): each side is offered only
the steps it may take now, a form with a problem comes back with what was typed, and the
timeline grows with each step."""

from __future__ import annotations

import html
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.builders import consent, refer, register
from tests.conftest import COACH, HOUSING, KEY_WORKER, Clock
from tests.web.test_pages import sign_in, token

KW = "recovery_support"


def _referral(client: FlaskClient, auth: Any, clock: Clock) -> str:
    coach = auth(COACH)
    subject = register(client, coach)
    consent(client, coach, subject, clock.now)
    rid = str(refer(client, coach, subject, "recovery-partnership", KW, clock.now).json["id"])
    r = client.post(f"/api/v1/referrals/{rid}/accept?purpose={KW}", headers=auth(KEY_WORKER))
    assert r.status_code == 200, r.json
    return rid


def _browser(app: Flask, email: str, purpose: str) -> FlaskClient:
    web = app.test_client()
    assert sign_in(web, email, purpose).status_code == 302
    return web


def _forms(body: str) -> set[str]:
    return {step for step in ("accept", "booked", "attended", "did_not_attend", "completed",
                              "withdrawn") if f'data-testid="step-{step}"' in body}


def _post(web: FlaskClient, rid: str, **data: str) -> Any:
    return web.post(f"/referrals/{rid}/steps",
                    data={"csrf_token": token(web, f"/referrals/{rid}"), **data})


def test_the_receiver_books_records_attendance_and_completes_never_losing_what_was_typed(
    app: Flask, client: FlaskClient, auth: Any, clock: Clock
) -> None:
    rid = _referral(client, auth, clock)
    kw = _browser(app, KEY_WORKER, KW)
    page = kw.get(f"/referrals/{rid}").get_data(as_text=True)
    assert _forms(page) == {"booked"}

    # No place given: 422, the date and time as typed, the error next to the box.
    typed = {"type": "booked", "appointment-day": "27", "appointment-month": "11",
             "appointment-year": "2026", "appointment_time": "2:30pm", "location": "",
             "note": "Bring the GP letter"}
    r = _post(kw, rid, **typed)
    assert r.status_code == 422
    body = html.unescape(r.get_data(as_text=True))
    assert "Enter where the appointment is" in body and 'href="#location"' in body
    assert 'value="27"' in body and 'value="2:30pm"' in body and "Bring the GP letter" in body
    r = _post(kw, rid, **{**typed, "location": "Bridge Street Hub, room 3"})
    assert r.status_code == 302
    page = html.unescape(kw.get(f"/referrals/{rid}").get_data(as_text=True))
    assert _forms(page) == {"booked", "attended", "did_not_attend"}
    assert "27 November 2026 at 2:30pm" in page and "Bridge Street Hub, room 3" in page
    assert 'data-type="booked"' in page and "Note: Bring the GP letter" in page

    assert _post(kw, rid, type="attended").status_code == 302
    page = kw.get(f"/referrals/{rid}").get_data(as_text=True)
    assert _forms(page) == {"completed"}
    # No outcome chosen: 422 with the note kept.
    r = _post(kw, rid, type="completed", note="Started detox")
    assert r.status_code == 422
    body = r.get_data(as_text=True)
    assert "Select what came of the referral" in body and "Started detox" in body
    r = _post(kw, rid, type="completed", outcome="treatment_started", note="Started detox")
    assert r.status_code == 302
    page = kw.get(f"/referrals/{rid}").get_data(as_text=True)
    assert _forms(page) == set() and "Treatment started" in page
    assert "This referral is complete" in page
    # A step sent anyway (an old tab): refused, said in plain words, nothing lost.
    r = _post(kw, rid, type="attended")
    assert r.status_code == 409 and 'data-testid="step-problem"' in r.get_data(as_text=True)


def test_the_sender_sees_the_timeline_and_may_only_withdraw(
    app: Flask, client: FlaskClient, auth: Any, clock: Clock
) -> None:
    rid = _referral(client, auth, clock)
    coach = _browser(app, COACH, "case_management")
    page = html.unescape(coach.get(f"/referrals/{rid}").get_data(as_text=True))
    assert _forms(page) == {"withdrawn"}
    assert "Derby Recovery Partnership records the appointment, attendance and outcome" in page
    assert 'data-type="created"' in page and 'data-type="accepted"' in page
    # The overview and the sent box link to the page.
    assert f'/referrals/{rid}"' in coach.get("/referrals?box=sent").get_data(as_text=True)

    r = _post(coach, rid, type="withdrawn", note="x" * 2001)
    assert r.status_code == 422 and "2,000 characters" in r.get_data(as_text=True)
    assert _post(coach, rid, type="withdrawn", note="Moved away").status_code == 302
    page = coach.get(f"/referrals/{rid}").get_data(as_text=True)
    assert _forms(page) == set() and 'data-type="withdrawn"' in page

    kw = _browser(app, KEY_WORKER, KW)
    page = kw.get(f"/referrals/{rid}").get_data(as_text=True)
    assert _forms(page) == set() and "withdrew this referral" in page


def test_an_organisation_that_is_neither_party_gets_not_found(
    app: Flask, client: FlaskClient, auth: Any, clock: Clock
) -> None:
    rid = _referral(client, auth, clock)
    housing = _browser(app, HOUSING, "tenancy_sustainment")
    assert housing.get(f"/referrals/{rid}").status_code == 404


def test_an_overdue_referral_is_flagged_on_both_caseloads_and_its_page(
    app: Flask, client: FlaskClient, auth: Any, clock: Clock
) -> None:
    coach = auth(COACH)
    subject = register(client, coach)
    consent(client, coach, subject, clock.now)
    rid = str(refer(client, coach, subject, "recovery-partnership", KW, clock.now).json["id"])
    clock.advance(days=3)  # Monday to Thursday: past two working days
    for email, purpose in ((COACH, "case_management"), (KEY_WORKER, KW)):
        web = _browser(app, email, purpose)
        home = web.get("/").get_data(as_text=True)
        assert 'data-testid="flag-referral-overdue"' in home, email
    page = html.unescape(web.get(f"/referrals/{rid}").get_data(as_text=True))
    assert 'data-testid="referral-overdue"' in page
    assert "by the end of Wednesday 25 November 2026" in page or "25 November 2026" in page
    assert _forms(page) == {"accept"}
