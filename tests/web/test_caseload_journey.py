"""My caseload and notifications in a real browser (Debian's Chromium): the housing officer
sees a new referral on their caseload, accepts it, and after the claimant withdraws consent
the withdrawal shows on the caseload and in notifications. Accessibility checked on both pages,
and at 320 CSS pixels neither scrolls sideways."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from tests.builders import consent, refer, register
from tests.conftest import COACH, HOUSING, Clock, Demo
from tests.web.browser import assert_fits, check_accessibility, sign_in
from tests.web.test_journey import snap


def _no_sideways_scroll(page: Any, name: str) -> None:
    page.set_viewport_size({"width": 320, "height": 900})
    assert_fits(page)
    snap(page, f"{name}-phone")
    page.set_viewport_size({"width": 1280, "height": 900})


def test_a_referral_and_a_withdrawal_reach_the_housing_officers_caseload(
    live_url: str, browser_page: Any, demo: Demo, client: FlaskClient, auth: Any, clock: Clock
) -> None:
    coach = auth(COACH)
    subject = register(client, coach, given_name="Morgan", family_name="Reyes",
                       nino="QQ 31 41 59 A")
    consent_id = consent(client, coach, subject, clock.now)
    assert refer(client, coach, subject, "derby-housing", "tenancy_sustainment",
                 clock.now).status_code == 201

    page = browser_page
    sign_in(page, live_url, HOUSING, "tenancy_sustainment")
    assert page.locator("h1").inner_text() == "My caseload"
    row = page.locator(f'[data-testid=caseload-row][data-subject="{subject}"]')
    assert row.get_by_test_id("flag-referral").inner_text() == "New referral"
    assert "A claimant referred to you" in row.inner_text()  # no name before accepting
    check_accessibility(page)
    snap(page, "caseload")
    _no_sideways_scroll(page, "caseload")

    # Only claimants with new referrals or updates, through the filter form (no script needed).
    page.get_by_label("Show").select_option("referrals")
    page.get_by_role("button", name="Apply").click()
    assert page.locator("[data-testid=caseload-row]").count() == 1

    page.goto(f"{live_url}/referrals")
    page.get_by_role("button", name="Accept").first.click()
    page.goto(f"{live_url}/")
    assert "Morgan Reyes" in row.inner_text()  # a case member now: the name is shared

    # The claimant withdraws consent (recorded by the Jobcentre): the council is told.
    r = client.post(f"/api/v1/consents/{consent_id}/withdrawal?purpose=case_management",
                    headers=coach, json={"channel": "phone"})
    assert r.status_code == 200, r.json
    page.goto(f"{live_url}/")
    assert row.get_by_test_id("flag-withdrawn").inner_text() == "Consent withdrawn"
    assert "Notifications (" in page.get_by_test_id("nav-notifications").inner_text()

    page.get_by_test_id("nav-notifications").click()
    assert page.locator("h1").inner_text() == "Notifications"
    notice = page.locator("[data-testid=notification][data-type=consent_withdrawn]")
    assert "Consent withdrawn" in notice.inner_text()
    assert notice.get_by_test_id("notification-claimant").get_attribute("href") == (
        f"/claimants/{subject}")
    check_accessibility(page)
    snap(page, "notifications")
    _no_sideways_scroll(page, "notifications")
    notice.get_by_role("button", name="Mark as read").click()
    assert notice.get_attribute("data-read") == "yes"
    # The referral raised its own notice to the council, still unread until marked.
    received = page.locator("[data-testid=notification][data-type=referral_received]")
    assert received.get_attribute("data-read") == "no"
    assert page.get_by_test_id("nav-notifications").inner_text() == "Notifications (1)"
    page.get_by_role("button", name="Mark all as read").click()
    assert received.get_attribute("data-read") == "yes"
    assert page.get_by_test_id("nav-notifications").inner_text() == "Notifications"
