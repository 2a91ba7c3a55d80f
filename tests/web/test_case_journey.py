"""The case in a real browser (Debian's Chromium): the work coach names the lead worker and a
review date, tries to close the case for "another reason" without saying why (the choice is
kept), closes it, sees it closed on the caseload with its lead worker, and reopens it.
Accessibility checked on each case page; at 320 CSS pixels none scrolls sideways."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient

from tests.builders import register
from tests.conftest import COACH, Clock, Demo
from tests.web.browser import assert_fits, check_accessibility, open_claimant, sign_in


def _fits_on_a_phone(page: Any) -> None:
    page.set_viewport_size({"width": 320, "height": 900})
    assert_fits(page)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_lead_worker_review_date_close_caseload_and_reopen(
    live_url: str, browser_page: Any, demo: Demo, client: FlaskClient, auth: Any, clock: Clock
) -> None:
    subject = register(client, auth(COACH), given_name="Alex", family_name="Byrne",
                       nino="QQ 27 18 28 B")
    page = browser_page
    sign_in(page, live_url, COACH, "case_management")
    open_claimant(page, "QQ271828B", "Alex Byrne")
    summary = page.get_by_test_id("case-summary")
    assert "Not named yet" in summary.inner_text()

    page.get_by_role("link", name="Change the lead worker or review date").click()
    check_accessibility(page)
    _fits_on_a_phone(page)
    page.get_by_label("Lead worker").select_option(label="Sam Okafor")
    review = (clock.now + timedelta(days=30)).date()
    page.get_by_label("Day").fill(str(review.day))
    page.get_by_label("Month").fill(str(review.month))
    page.get_by_label("Year").fill(str(review.year))
    page.get_by_role("button", name="Save case details").click()
    assert "Sam Okafor" in summary.inner_text()

    page.get_by_role("link", name="Close the case").click()
    check_accessibility(page)
    _fits_on_a_phone(page)
    page.get_by_label("Another reason", exact=True).check()
    page.get_by_role("button", name="Close the case").click()
    assert page.get_by_label("Another reason", exact=True).is_checked()  # what was chosen is kept
    check_accessibility(page)  # with the error summary
    page.get_by_label("Say why in a few words").fill("The claimant asked to stop for now")
    page.get_by_role("button", name="Close the case").click()
    assert "Closed on" in summary.inner_text()
    assert "The claimant asked to stop for now" in summary.inner_text()

    page.goto(f"{live_url}/")
    row = page.locator(f'[data-testid=caseload-row][data-subject="{subject}"]')
    assert row.get_by_test_id("flag-closed").inner_text() == "Case closed"
    assert "Lead worker: Sam Okafor" in row.inner_text()
    _fits_on_a_phone(page)

    open_claimant(page, "QQ271828B", "Alex Byrne")
    page.get_by_role("link", name="Reopen the case").first.click()
    check_accessibility(page)
    _fits_on_a_phone(page)
    assert "Consents that ended when the case closed stay ended" in page.inner_text("main")
    page.get_by_role("button", name="Reopen the case").click()
    assert page.get_by_test_id("case-summary").inner_text().count("Open") == 1
