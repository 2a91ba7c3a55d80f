"""The IG officer's retention journey in a real browser (Debian's Chromium), at 320 CSS px: a
claimant's case closed long enough ago is due for deletion; the officer places a legal hold
from the due list (a too-short reason first, kept on the page), sees the claimant on hold and
their due rows marked, then lifts the hold. Every page gets the accessibility check and must
fit 320 px without horizontal scrolling."""

from __future__ import annotations

from typing import Any

from tests.api.test_retention import close_case, short_retention
from tests.conftest import Clock, Demo
from tests.web.browser import assert_fits, check_accessibility
from tests.web.test_ig_journey import sign_in_ig_first_time

REASON = "Tribunal claim ET-2026-114: keep until the hearing ends"


def checked(page: Any) -> None:
    check_accessibility(page)
    assert_fits(page)


def test_ig_officer_places_a_hold_from_the_due_list_and_lifts_it(
    live_url: str, browser_page: Any, rt: Any, demo: Demo, clock: Clock
) -> None:
    short_retention(rt)
    close_case(rt, demo.lee, clock.now)
    clock.advance(days=31)
    page = browser_page
    page.set_viewport_size({"width": 320, "height": 640})
    sign_in_ig_first_time(page, live_url, clock, check=False)

    page.goto(f"{live_url}/ig")
    page.get_by_role("link", name="Retention").first.click()
    page.wait_for_url(f"{live_url}/ig/retention")
    lee_rows = page.locator(f'[data-testid="due-items"] tr[data-subject="{demo.lee}"]')
    assert lee_rows.count() > 0
    checked(page)

    lee_rows.first.get_by_role("link", name="Place a hold").click()
    page.wait_for_url(f"{live_url}/ig/claimants/{demo.lee}/legal-hold")
    checked(page)
    page.get_by_label("Why is the hold needed?").fill("Too short")
    page.get_by_role("button", name="Place legal hold").click()
    assert "10 characters or more" in page.locator(".govuk-error-summary").inner_text()
    assert page.get_by_label("Why is the hold needed?").input_value() == "Too short"
    checked(page)
    page.get_by_label("Why is the hold needed?").fill(REASON)
    page.get_by_role("button", name="Place legal hold").click()
    page.wait_for_url(f"{live_url}/ig/retention/holds")
    held = page.get_by_test_id("active-holds").locator(f'tr[data-subject="{demo.lee}"]')
    assert REASON in held.inner_text()
    checked(page)

    page.get_by_test_id("retention-nav").get_by_role("link", name="Due for deletion").click()
    page.wait_for_url(f"{live_url}/ig/retention")
    assert lee_rows.count() > 0
    assert lee_rows.count() == page.locator(
        f'[data-testid="due-items"] tr[data-subject="{demo.lee}"][data-hold="true"]').count()

    page.get_by_test_id("retention-nav").get_by_role("link", name="On hold").click()
    page.wait_for_url(f"{live_url}/ig/retention/holds")
    held.get_by_role("button", name="Lift hold").click()
    page.wait_for_url(f"{live_url}/ig/retention/holds")
    assert "Legal hold lifted" in page.locator("main").inner_text()
    assert page.get_by_test_id("no-active-holds").is_visible()
    assert REASON in page.get_by_test_id("lifted-holds").inner_text()
    checked(page)

    page.get_by_test_id("retention-nav").get_by_role("link", name="Deleted").click()
    page.wait_for_url(f"{live_url}/ig/retention/deleted")
    checked(page)
