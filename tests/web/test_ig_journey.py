"""The IG officer's journey in a real browser (Debian's Chromium): first sign-in with the
second-factor set-up, the dashboard, an audit search with its CSV download, the subject access
report, and reviewing two break-glass uses (one justified, one not). A work coach gets the
refusal page. Every page gets the accessibility check; screenshots go to SCREENSHOTS."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pyotp
from flask.testing import FlaskClient
from playwright.sync_api import expect

from tests.conftest import COACH, HOUSING, IG, Clock, Demo
from tests.web.browser import PASSWORD, check_accessibility, sign_in
from tests.web.ig_helpers import JUSTIFICATION, break_glass
from tests.web.test_ig_pages import CSV_HEADER
from tests.web.test_journey import snap


def sign_in_ig_first_time(page: Any, base: str, clock: Clock, *, check: bool = True) -> None:
    page.goto(f"{base}/sign-in")
    page.get_by_label("Email address").fill(IG)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/sign-in/second-factor")
    if check:  # axe-core needs JavaScript
        check_accessibility(page)
    secret = page.get_by_test_id("totp-secret").inner_text()
    page.get_by_label("Code from your authenticator app").fill(pyotp.TOTP(secret).at(clock.now))
    page.get_by_role("button", name="Confirm and sign in").click()
    page.wait_for_url(f"{base}/purpose")
    page.locator("input[name=purpose][value=audit]").check()
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{base}/ig")  # IG officers land on their dashboard


def second_override(client: FlaskClient, auth: Any, demo: Demo, clock: Clock) -> None:
    # After the first one's 4-hour box: a repeat while one is active is refused (409).
    clock.advance(hours=5)
    r = client.post(f"/api/v1/subjects/{demo.lee}/overrides?purpose=tenancy_sustainment",
                    json={"route": "safeguarding", "categories": ["employment"], "hours": 2,
                          "justification": JUSTIFICATION + " A second visit was planned."},
                    headers=auth(HOUSING))
    assert r.status_code == 201, r.json


def test_ig_officer_journey(live_url: str, browser_page: Any, client: FlaskClient, auth: Any,
                            demo: Demo, clock: Clock, tmp_path: Path) -> None:
    break_glass(client, auth, demo.lee)
    second_override(client, auth, demo, clock)
    page = browser_page
    sign_in_ig_first_time(page, live_url, clock)

    page.get_by_role("link", name="IG dashboard").click()
    page.wait_for_url(f"{live_url}/ig")
    assert page.get_by_test_id("who-org").inner_text() == "Derby City Council Housing Options"
    assert page.get_by_test_id("who-role").inner_text() == "Information governance officer"
    assert page.get_by_test_id("who-purpose").inner_text() == "Audit"
    assert page.get_by_test_id("pending-count").inner_text() == "2"
    expect(page.get_by_test_id("volume-chart")).to_be_visible()
    expect(page.get_by_test_id("denials-chart")).to_be_visible()
    page.get_by_text("Access per day as a table").click()
    expect(page.get_by_test_id("volume-table")).to_be_visible()
    snap(page, "ig-dashboard")
    check_accessibility(page)

    page.get_by_role("link", name="Audit search").click()
    check_accessibility(page)
    page.get_by_label("Claimant reference").fill("not a reference")
    page.get_by_role("button", name="Search").click()
    assert "Enter the claimant reference" in page.locator(".govuk-error-summary").inner_text()
    assert page.get_by_label("Claimant reference").input_value() == "not a reference"
    check_accessibility(page)
    page.get_by_label("Claimant reference").fill(str(demo.lee))
    page.get_by_label("Organisation").select_option(label="Derby City Council Housing Options")
    page.get_by_label("Event type").fill("access:override:grant")
    page.get_by_role("button", name="Search").click()
    assert page.get_by_test_id("result-count").inner_text() == "2 events"
    assert page.get_by_test_id("event-row").count() == 2
    snap(page, "ig-audit-search")
    check_accessibility(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download these events as CSV").click()
    saved = tmp_path / "events.csv"
    download.value.save_as(saved)
    body = saved.read_text()
    assert body.splitlines()[0] == CSV_HEADER
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [r["type"] for r in rows] == ["access:override:grant"] * 2
    assert {r["actor_name"] for r in rows} == {"Priya Sharma"}

    page.get_by_role("link", name="Subject access report").first.click()
    check_accessibility(page)
    page.get_by_label("Claimant reference or National Insurance number").fill("QQ123456C")
    page.get_by_role("button", name="Show report").click()
    page.wait_for_url(f"{live_url}/ig/claimants/{demo.lee}/access-report")
    assert "Priya Sharma" in page.get_by_test_id("events").inner_text()
    snap(page, "ig-subject-access-report")
    check_accessibility(page)

    page.get_by_role("link", name="IG dashboard").click()
    page.get_by_role("link", name="Unusual access").click()
    page.wait_for_url(f"{live_url}/ig/unusual-access")
    expect(page.get_by_role("heading", name="Outside a case relationship (0)")).to_be_visible()
    snap(page, "ig-unusual-access")
    check_accessibility(page)
    page.get_by_role("link", name="IG dashboard").click()
    page.get_by_role("link", name="Subject access request export").click()
    expect(page.get_by_test_id("change-purpose")).to_be_visible()  # purpose is audit here
    snap(page, "ig-sar-export")
    check_accessibility(page)

    page.get_by_role("link", name="Override reviews").click()
    assert page.get_by_test_id("override-row").count() == 2
    snap(page, "ig-override-queue")
    check_accessibility(page)
    for outcome, note in (("Justified", "Welfare visit found the claimant unwell; proportionate."),
                          ("Not justified", "The police welfare check was the right route.")):
        page.get_by_test_id("override-row").first.get_by_role("link").click()
        assert "welfare visit" in page.get_by_test_id("justification").inner_text()
        check_accessibility(page)
        page.get_by_role("button", name="Record review").click()  # nothing chosen: errors
        summary = page.locator(".govuk-error-summary").inner_text()
        assert "Select whether the use of break-glass was justified" in summary
        assert "Enter your review notes" in summary
        snap(page, "ig-override-review-errors")
        check_accessibility(page)
        page.get_by_label("Review notes").fill(note)
        page.get_by_role("button", name="Record review").click()
        summary = page.locator(".govuk-error-summary").inner_text()  # still no outcome
        assert "Select whether" in summary and "Enter your review notes" not in summary
        assert page.get_by_label("Review notes").input_value() == note  # nothing typed is lost
        page.get_by_label(outcome, exact=True).check()
        page.get_by_role("button", name="Record review").click()
        page.wait_for_url(f"{live_url}/ig/overrides")
        banner = page.locator(".govuk-notification-banner--success").inner_text()
        assert f"Review recorded: {outcome.lower()}." in banner
    assert page.get_by_test_id("no-pending").is_visible()
    reviewed = page.get_by_test_id("reviewed-overrides").inner_text()
    assert "\tJustified\t" in reviewed and "\tNot justified\t" in reviewed
    snap(page, "ig-override-queue-reviewed")
    check_accessibility(page)


def test_work_coach_gets_the_refusal_page(live_url: str, browser_page: Any, demo: Demo) -> None:
    page = browser_page
    sign_in(page, live_url, COACH, "case_management")
    assert page.get_by_role("link", name="IG dashboard").count() == 0  # not offered
    response = page.goto(f"{live_url}/ig/audit")
    assert response is not None and response.status == 403
    assert page.locator("h1").inner_text() == "You cannot do this"
    snap(page, "ig-refused-work-coach")
    check_accessibility(page)


def test_ig_search_works_without_javascript(live_url: str, chromium: Any, demo: Demo,
                                            clock: Clock) -> None:
    context = chromium.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in_ig_first_time(page, live_url, clock, check=False)
        page.goto(f"{live_url}/ig/audit")
        page.get_by_label("Decision").select_option("allow")
        page.get_by_role("button", name="Search").click()
        assert page.get_by_test_id("event-row").count() > 0
        page.goto(f"{live_url}/ig")
        assert page.get_by_test_id("volume-chart").is_visible()
    finally:
        context.close()
