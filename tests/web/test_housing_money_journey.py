"""Housing and money in a real browser (Debian's Chromium), at 320 CSS px: the housing officer
records Lee Marsh's tenancy, an APA moved identified -> requested -> DWP decision -> in place,
and six monthly rent figures paid by Lee in full; the tenancy page then shows the outcome
"Paying own rent for six months" as recorded. Pages get the accessibility and reflow checks."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.conftest import HOUSING, Demo
from tests.web.browser import assert_fits, check_accessibility, open_claimant, sign_in


def _checked(page: Any) -> None:
    check_accessibility(page)
    assert_fits(page)


def _fill_date(page: Any, prefix: str, day: str, month: str, year: str) -> None:
    page.locator(f"#{prefix}-day").fill(day)
    page.locator(f"#{prefix}-month").fill(month)
    page.locator(f"#{prefix}-year").fill(year)


def test_housing_officer_records_tenancy_apa_and_six_months_and_sees_the_outcome(
    live_url: str, browser_page: Any, demo: Demo
) -> None:
    page = browser_page
    page.set_viewport_size({"width": 320, "height": 800})
    sign_in(page, live_url, HOUSING, "tenancy_sustainment")
    open_claimant(page, "QQ123456C", "Lee Marsh")
    page.get_by_test_id("housing-money").click()
    expect(page.locator("h1")).to_have_text("Housing and money")
    _checked(page)

    page.get_by_role("link", name="Add a tenancy").click()
    expect(page.locator("#landlord_type")).to_be_visible()
    page.locator("#landlord_type").select_option("council")
    page.locator("#rent").fill("450.00")
    page.locator("#rent_frequency").select_option("monthly")
    page.locator("#paid_by").select_option("claimant")
    _fill_date(page, "start_on", "1", "4", "2025")
    _checked(page)
    page.get_by_test_id("save-record").click()
    expect(page.locator("h1")).to_have_text("Tenancy")
    tenancy_url = page.url

    page.get_by_role("link", name="Housing and money").click()
    page.get_by_role("link", name="Add a new APA").click()
    expect(page.locator("#trigger")).to_be_visible()
    page.locator("#trigger").select_option("rent_arrears")
    page.locator("#type").select_option("managed_payment")
    _fill_date(page, "identified_on", "5", "1", "2026")
    page.get_by_test_id("save-record").click()
    expect(page.get_by_test_id("step-identified")).to_contain_text("5 January 2026")
    for step in ("Requested", "Dwp decision", "In place"):
        page.get_by_test_id("next-status").click()
        expect(page.get_by_test_id(f"step-{step.lower().replace(' ', '_')}")).not_to_contain_text(
            "not yet")
    expect(page.get_by_test_id("next-status")).to_have_count(0)
    _checked(page)

    page.goto(tenancy_url)
    expect(page.get_by_test_id("no-outcomes")).to_be_visible()
    for month in ("2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"):
        page.locator("#month").fill(month)
        page.locator("#rent_due").fill("450.00")
        page.locator("#rent_paid").fill("450.00")
        page.locator("#arrears").fill("0.00")
        page.locator("#paid_by").select_option("claimant")
        page.get_by_test_id("add-month-button").click()
        expect(page.get_by_test_id("months")).to_contain_text(month)
    expect(page.get_by_test_id("outcomes")).to_contain_text(
        "Paying own rent for six months: achieved 31 October 2026")
    _checked(page)
