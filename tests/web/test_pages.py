"""The pages through the Flask test client (both engines): sessions, timeouts, CSRF scoped to
the web pages, security headers, IG officer enrolment, audit of sign-in and of page reads, and
the stale-version message on a case plan edit."""

from __future__ import annotations

import html
import re
import uuid
from typing import Any

import pyotp
from flask.testing import FlaskClient

from caseshare.identity.models import StaffMember
from caseshare.runtime import Runtime
from tests.audit_helpers import events
from tests.conftest import ADVISER, COACH, HOUSING, IG, Clock, Demo
from tests.web.browser import PASSWORD

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def token(client: FlaskClient, path: str) -> str:
    match = CSRF.search(client.get(path).get_data(as_text=True))
    assert match is not None, path
    return match.group(1)


def sign_in(client: FlaskClient, email: str, purpose: str | None = "case_management",
            **extra: str) -> Any:
    resp = client.post("/sign-in", data={"email": email, "password": PASSWORD,
                                         "csrf_token": token(client, "/sign-in"), **extra})
    if purpose and resp.status_code == 302 and resp.headers["Location"] == "/purpose":
        chosen = client.post("/purpose", data={"purpose": purpose,
                                               "csrf_token": token(client, "/purpose")})
        assert chosen.status_code == 302
    return resp


def test_pages_need_sign_in(client: FlaskClient, demo: Demo) -> None:
    for path in ("/", f"/claimants/{demo.lee}", f"/claimants/{demo.lee}/consents/new"):
        resp = client.get(path)
        assert resp.status_code == 302 and resp.headers["Location"].startswith("/sign-in")


def test_sign_in_and_failure_are_audited(client: FlaskClient, rt: Runtime, demo: Demo) -> None:
    bad = client.post("/sign-in", data={"email": COACH, "password": "wrong-password-1",
                                        "csrf_token": token(client, "/sign-in")})
    assert bad.status_code == 401
    assert "The email, password or code is not right" in bad.get_data(as_text=True)
    denied = events(rt, type="identity:session:start", decision="deny")
    assert len(denied) == 1 and denied[0].actor is None
    assert PASSWORD not in str(denied[0].details) and COACH not in str(denied[0].details)
    assert sign_in(client, COACH).status_code == 302
    allowed = events(rt, type="identity:session:start", decision="allow")
    assert len(allowed) == 1 and allowed[0].org == "jcp-derby"
    page = client.get("/").get_data(as_text=True)
    assert "Derby Jobcentre Plus" in page and "Work coach" in page and "Case management" in page


def test_sign_out_revokes_the_session_cookie(client: FlaskClient, rt: Runtime,
                                             demo: Demo) -> None:
    sign_in(client, COACH)
    copied = client.get_cookie("caseshare_session")
    assert copied is not None
    resp = client.post("/sign-out", data={"csrf_token": token(client, "/")})
    assert resp.headers["Location"] == "/sign-in?notice=signed_out"
    assert events(rt, type="identity:session:end")[0].details == {"reason": "sign_out"}
    client.set_cookie("caseshare_session", copied.value)  # replay the old cookie
    assert client.get("/").headers["Location"].startswith("/sign-in")


def test_idle_timeout_after_30_minutes(client: FlaskClient, rt: Runtime, clock: Clock,
                                       demo: Demo) -> None:
    sign_in(client, COACH)
    clock.advance(minutes=29)
    assert client.get("/").status_code == 200
    clock.advance(minutes=30)
    resp = client.get("/")
    assert resp.headers["Location"] == "/sign-in?notice=timed_out"
    assert events(rt, type="identity:session:end")[0].details == {"reason": "timeout_idle"}
    assert client.get("/").headers["Location"] == "/sign-in"


def test_absolute_timeout_after_8_hours_even_when_busy(client: FlaskClient, rt: Runtime,
                                                       clock: Clock, demo: Demo) -> None:
    sign_in(client, COACH)
    for _ in range(23):  # active every 20 minutes for 7 h 40 min
        clock.advance(minutes=20)
        assert client.get("/").status_code == 200
    clock.advance(minutes=20)
    assert client.get("/").headers["Location"] == "/sign-in?notice=timed_out"
    assert events(rt, type="identity:session:end")[0].details == {"reason": "timeout_absolute"}


def test_csrf_guards_the_pages_but_not_the_bearer_token_api(client: FlaskClient, demo: Demo,
                                                            auth: Any) -> None:
    no_token = client.post("/sign-in", data={"email": COACH, "password": PASSWORD})
    assert no_token.status_code == 400
    assert "Your form expired" in no_token.get_data(as_text=True)
    sign_in(client, COACH)
    forged = client.post(f"/claimants/{demo.lee}/plan/entries/new",
                         data={"kind": "action", "category": "employment", "title": "Forged",
                               "status": "open", "owner_org": "jcp-derby"})
    assert forged.status_code == 400
    api = client.post(f"/api/v1/subjects/{demo.lee}/case-plan/entries?purpose=case_management",
                      json={"kind": "action", "category": "employment", "title": "Via API"},
                      headers=auth(COACH))
    assert api.status_code == 201


def test_security_headers_and_cookie_flags(client: FlaskClient, demo: Demo) -> None:
    resp = client.get("/sign-in")
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp and "form-action 'self'" in csp
    assert resp.headers["Cache-Control"] == "no-store"
    page = resp.get_data(as_text=True)
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page) == []  # no inline script
    assert "googleapis" not in page and "cdn" not in page.lower()
    signed = sign_in(client, COACH, purpose=None)
    cookie = signed.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_ig_officer_enrols_a_second_factor_on_first_sign_in(client: FlaskClient, rt: Runtime,
                                                           clock: Clock, demo: Demo) -> None:
    first = sign_in(client, IG, purpose=None)
    assert first.headers["Location"] == "/sign-in/second-factor"
    page = client.get("/sign-in/second-factor").get_data(as_text=True)
    uri = re.search(r'data-testid="otpauth-uri">([^<]+)<', page)
    assert uri is not None and uri.group(1).startswith("otpauth://totp/Caseshare")
    shown = re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', page)  # in groups of four
    assert shown is not None
    secret = shown.group(1).replace(" ", "")
    assert client.get("/").headers["Location"].startswith("/sign-in")  # no session yet
    enrol = "/sign-in/second-factor"
    wrong = client.post(enrol, data={"code": "000000", "csrf_token": token(client, enrol)})
    assert wrong.status_code == 422
    code = pyotp.TOTP(secret).at(clock.now)
    ok = client.post(enrol, data={"code": code, "csrf_token": token(client, enrol)})
    assert ok.headers["Location"] == "/purpose"
    assert len(events(rt, type="identity:staff:totp_enrol")) == 1
    with rt.session_factory() as s:
        staff = s.query(StaffMember).filter_by(email=IG).one()
        assert staff.totp_secret == secret
    client.post("/sign-out", data={"csrf_token": token(client, "/purpose")})
    assert sign_in(client, IG, purpose=None).status_code == 401  # the code is now required
    clock.advance(seconds=60)
    again = sign_in(client, IG, purpose=None, code=pyotp.TOTP(secret).at(clock.now))
    assert again.headers["Location"] == "/purpose"


def test_find_validates_the_nino_and_only_finds_own_claimants(client: FlaskClient,
                                                              demo: Demo) -> None:
    sign_in(client, HOUSING, "tenancy_sustainment")
    bad = client.get("/find?nino=12345")
    assert bad.status_code == 422
    assert 'href="#nino"' in bad.get_data(as_text=True)  # error summary links to the field
    assert "Lee Marsh" in client.get("/find?nino=qq 12 34 56 c").get_data(as_text=True)
    kerry = client.get("/find?nino=QQ654321A").get_data(as_text=True)  # housing not in her case
    assert "Kerry" not in kerry and 'data-testid="no-results"' in kerry
    assert client.get(f"/claimants/{demo.kerry}").status_code == 404


def test_overview_reads_are_audited_with_the_withheld_category(client: FlaskClient,
                                                                rt: Runtime, demo: Demo) -> None:
    sign_in(client, HOUSING, "tenancy_sustainment")
    page = client.get(f"/claimants/{demo.lee}").get_data(as_text=True)
    assert "alcohol recovery group" not in page
    denied = events(rt, type="case_plan:plan:read", decision="deny", subject_id=demo.lee)
    assert denied and "substance_misuse" in denied[-1].categories
    assert denied[-1].purpose == "tenancy_sustainment"


def test_consent_form_errors_name_the_fields_and_keep_the_input(client: FlaskClient,
                                                                demo: Demo) -> None:
    sign_in(client, COACH)
    path = f"/claimants/{demo.lee}/consents/new"
    resp = client.post(path, data={"csrf_token": token(client, path),
                                   "recipients": "ca-derby", "evidence_ref": "DOC-9"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422
    for field in ("#purposes", "#categories", "#given_by_type", "#method", "#expires_at-day"):
        assert f'href="{field}"' in page
    assert 'value="ca-derby" checked' in page and 'value="DOC-9"' in page
    welsh = client.get(path + "?lang=cy").get_data(as_text=True)
    assert "Caniatâd i rannu gwybodaeth" in welsh and "checked" not in welsh


def test_a_stale_version_shows_a_clear_message(client: FlaskClient, demo: Demo,
                                               auth: Any) -> None:
    created = client.post(
        f"/api/v1/subjects/{demo.lee}/case-plan/entries?purpose=case_management",
        json={"kind": "action", "category": "employment", "title": "Book a CV workshop"},
        headers=auth(COACH))
    entry_id = uuid.UUID(created.get_json()["id"])
    sign_in(client, COACH)
    path = f"/claimants/{demo.lee}/plan/entries/{entry_id}"
    form = client.get(path).get_data(as_text=True)
    version = re.search(r'name="version" value="([^"]+)"', form)
    assert version is not None
    base = {"csrf_token": token(client, path), "version": html.unescape(version.group(1)),
            "kind": "action", "category": "employment", "owner_org": "jcp-derby",
            "status": "in_progress"}
    first = client.post(path, data={**base, "title": "Book a CV workshop (booked)"})
    assert first.status_code == 302
    stale = client.post(path, data={**base, "title": "My older edit"})
    page = stale.get_data(as_text=True)
    assert stale.status_code == 409
    assert "Someone else changed this action after you opened it" in page
    assert 'value="My older edit"' in page  # what they typed is not lost
    overview = client.get(f"/claimants/{demo.lee}").get_data(as_text=True)
    assert "Book a CV workshop (booked)" in overview and "My older edit" not in overview


def test_add_an_action_and_a_forbidden_category_is_explained(client: FlaskClient, rt: Runtime,
                                                             demo: Demo) -> None:
    sign_in(client, HOUSING, "tenancy_sustainment")
    path = f"/claimants/{demo.lee}/plan/entries/new"
    form = {"csrf_token": token(client, path), "kind": "action", "category": "housing_tenancy",
            "title": "Apply for a discretionary housing payment", "owner_org": "derby-housing",
            "status": "open", "due_on-day": "9", "due_on-month": "12", "due_on-year": "2026"}
    assert client.post(path, data=form).status_code == 302
    overview = client.get(f"/claimants/{demo.lee}").get_data(as_text=True)
    assert "Apply for a discretionary housing payment" in overview and "9 December 2026" in overview
    refused = client.post(path, data={**form, "category": "substance_misuse",
                                      "title": "Not allowed"})
    page = refused.get_data(as_text=True)
    # The form comes back with what was typed and the reason (issue 20: never lose input).
    assert refused.status_code == 403 and "This was not saved" in page and "Next step:" in page
    assert 'value="Not allowed"' in page
    assert events(rt, type="access:write:deny", subject_id=demo.lee)


def test_partial_withdrawal_ends_access_to_that_category_only(client: FlaskClient,
                                                              demo: Demo) -> None:
    sign_in(client, COACH)
    overview = client.get(f"/claimants/{demo.lee}").get_data(as_text=True)
    assert "Attend weekly alcohol recovery group" in overview
    link = re.search(r'href="(/claimants/[^"]+/withdraw)"', overview)
    assert link is not None
    done = client.post(link.group(1), data={
        "csrf_token": token(client, link.group(1)), "extent": "part",
        "categories": "substance_misuse", "channel": "phone"})
    assert done.status_code == 200 and "Part of the consent withdrawn" in done.get_data(
        as_text=True)
    after = client.get(f"/claimants/{demo.lee}").get_data(as_text=True)
    assert "Attend weekly alcohol recovery group" not in after
    assert "Update CV with work coach" in after
    assert "Partially withdrawn" in after


def test_consent_expiring_within_30_days_is_highlighted(client: FlaskClient,
                                                        demo: Demo) -> None:
    sign_in(client, ADVISER, "budgeting_support")
    kerry = client.get(f"/claimants/{demo.kerry}").get_data(as_text=True)
    assert "Expires soon" in kerry and "Personal budgeting support: monthly budget" in kerry
    sign_in(client, COACH)
    lee = client.get(f"/claimants/{demo.lee}").get_data(as_text=True)
    assert "Expires soon" not in lee  # Lee's consent runs for six months
