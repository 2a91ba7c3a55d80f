"""Sign-in comforts through the Flask test client (both engines): the authenticator set-up page
shows a QR code as inline SVG and the key in groups of four, with the key in no log or audit
event; the purpose page preselects the only purpose or the last one chosen; IG officers who
choose the audit purpose land on their dashboard."""

from __future__ import annotations

import logging
import re

import pyotp
import pytest
from flask.testing import FlaskClient

from caseshare.runtime import Runtime
from caseshare.web.account import REMEMBERED_PURPOSE
from caseshare.web.authenticator import grouped_key, qr_code_svg
from tests.audit_helpers import events
from tests.conftest import COACH, HOUSING, IG, Clock, Demo
from tests.web.ig_helpers import enrol_second_factor
from tests.web.test_pages import sign_in, token

ENROL = "/sign-in/second-factor"
GROUPED = re.compile(r'data-testid="totp-secret">([A-Z2-7]{4}(?: [A-Z2-7]{1,4})+)<')


def checked_purpose(page: str) -> str | None:
    match = re.search(r'<input[^>]*name="purpose"[^>]*value="([a-z_]+)"[^>]*checked', page)
    return match.group(1) if match else None


def test_enrolment_shows_a_qr_code_and_the_key_in_groups_and_logs_no_secret(
        client: FlaskClient, rt: Runtime, clock: Clock, demo: Demo,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    assert sign_in(client, IG, purpose=None).headers["Location"] == ENROL
    resp = client.get(ENROL)
    page = resp.get_data(as_text=True)
    grouped = GROUPED.search(page)
    assert grouped is not None, "the key is shown in groups of four"
    secret = grouped.group(1).replace(" ", "")
    assert len(secret) >= 32 and grouped.group(1) == grouped_key(secret)
    # The QR code: inline SVG with a text alternative; no image, no data: URI, no script.
    qr = re.search(r'data-testid="qr-code">(<svg[^>]*>)', page)
    assert qr is not None
    assert 'role="img"' in qr.group(1) and 'aria-label="QR code of the set-up link' in qr.group(1)
    assert "<img" not in page and "data:" not in page
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page) == []
    assert "img-src 'self'" in resp.headers["Content-Security-Policy"]
    uri = pyotp.TOTP(secret).provisioning_uri(name=IG, issuer_name="Caseshare")
    assert qr_code_svg(uri) in page  # the code drawn is the set-up link for this key
    assert secret not in qr_code_svg(uri)  # encoded in the modules, not written as text
    # A wrong code keeps what was typed and shows the same key and code again.
    wrong = client.post(ENROL, data={"code": "000000", "csrf_token": token(client, ENROL)})
    assert wrong.status_code == 422
    again = wrong.get_data(as_text=True)
    assert 'value="000000"' in again and grouped.group(1) in again and qr_code_svg(uri) in again
    assert 'href="#code"' in again  # the error summary links to the field
    ok = client.post(ENROL, data={"code": pyotp.TOTP(secret).at(clock.now),
                                  "csrf_token": token(client, ENROL)})
    assert ok.headers["Location"] == "/purpose"
    # The key (plain or grouped) is in no log record and no audit event.
    for record in caplog.records:
        message = record.getMessage()
        assert secret not in message and grouped.group(1) not in message
    for event in events(rt):
        assert secret not in str(event.details) and secret not in str(event.reasons)


def test_the_only_purpose_is_preselected(client: FlaskClient) -> None:
    # Since the Derby triage protocol (issue 21) no demo staff member has only one purpose
    # (the work coach has case management and triage), so the rule is checked on its own.
    from caseshare.web.account import _preselected

    with client.application.test_request_context("/purpose"):  # no remembered purpose
        assert _preselected(None, ["case_management"]) == "case_management"
        assert _preselected(None, ["case_management", "triage"]) is None
        assert _preselected("triage", ["case_management", "triage"]) == "triage"


def test_a_work_coach_chooses_between_case_management_and_triage(client: FlaskClient,
                                                                 demo: Demo) -> None:
    sign_in(client, COACH, purpose=None)
    page = client.get("/purpose").get_data(as_text=True)
    assert checked_purpose(page) is None  # two purposes, none chosen before: nothing ticked
    assert 'value="case_management"' in page and 'value="triage"' in page


def test_the_last_purpose_chosen_is_preselected_at_the_next_sign_in(client: FlaskClient,
                                                                    demo: Demo) -> None:
    sign_in(client, HOUSING, purpose=None)
    first = client.get("/purpose").get_data(as_text=True)
    assert checked_purpose(first) is None  # two purposes, none chosen before: nothing ticked
    chose = client.post("/purpose", data={"purpose": "tenancy_sustainment",
                                          "csrf_token": token(client, "/purpose")})
    assert chose.headers["Location"] == "/"
    remembered = chose.headers["Set-Cookie"]
    assert f"{REMEMBERED_PURPOSE}=tenancy_sustainment" in remembered
    assert "Path=/purpose" in remembered and "HttpOnly" in remembered
    assert "Max-Age=31536000" in remembered and "SameSite=Lax" in remembered
    client.post("/sign-out", data={"csrf_token": token(client, "/")})
    sign_in(client, HOUSING, purpose=None)
    page = client.get("/purpose").get_data(as_text=True)
    assert checked_purpose(page) == "tenancy_sustainment"
    assert "The purpose you chose last time is selected" in page
    # A remembered code the user does not hold (another user's, or edited) preselects nothing.
    client.set_cookie(REMEMBERED_PURPOSE, "audit", path="/purpose")
    client.post("/sign-out", data={"csrf_token": token(client, "/purpose")})
    sign_in(client, HOUSING, purpose=None)
    assert checked_purpose(client.get("/purpose").get_data(as_text=True)) is None


def test_an_unchosen_purpose_is_refused_and_nothing_remembered(client: FlaskClient,
                                                                demo: Demo) -> None:
    sign_in(client, HOUSING, purpose=None)
    refused = client.post("/purpose", data={"purpose": "audit",
                                            "csrf_token": token(client, "/purpose")})
    assert refused.status_code == 422
    assert "Select why you are using Caseshare now" in refused.get_data(as_text=True)
    assert REMEMBERED_PURPOSE not in refused.headers.get("Set-Cookie", "")


def test_ig_officers_land_on_their_dashboard_after_choosing_audit(
        client: FlaskClient, rt: Runtime, clock: Clock, demo: Demo) -> None:
    secret = enrol_second_factor(rt)
    sign_in(client, IG, purpose=None, code=pyotp.TOTP(secret).at(clock.now))
    chose = client.post("/purpose", data={"purpose": "audit",
                                          "csrf_token": token(client, "/purpose")})
    assert chose.headers["Location"] == "/ig"
    assert client.get("/ig").status_code == 200
    # Another purpose of theirs goes home as for everyone else.
    again = client.post("/purpose", data={"purpose": "subject_access",
                                          "csrf_token": token(client, "/purpose")})
    assert again.headers["Location"] == "/"
