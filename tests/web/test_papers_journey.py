"""A partial withdrawal reads truthfully in a real browser (Debian's Chromium): the work coach
records that Lee no longer wants Derby City Council Housing Options to have his information,
and the overview's consent table and his receipt then say exactly who still receives what; the
receipt and the plan copy read at 320 CSS pixels without horizontal scrolling (WCAG 1.4.10)."""

from __future__ import annotations

from typing import Any

from tests.conftest import COACH, Demo
from tests.web.browser import assert_fits, check_accessibility, open_claimant, sign_in
from tests.web.test_journey import snap

HOUSING_NAME = "Derby City Council Housing Options"


def _no_horizontal_scroll(page: Any) -> None:
    assert_fits(page)


def test_a_partial_withdrawal_reads_truthfully_on_the_page_and_the_receipt(
    live_url: str, browser_page: Any, demo: Demo
) -> None:
    page = browser_page
    sign_in(page, live_url, COACH, "case_management")
    open_claimant(page, "QQ123456C", "Lee Marsh")
    overview = page.url

    page.get_by_role("link", name="Withdraw").first.click()
    page.get_by_label("Part of it").check()
    page.get_by_role("group", name="Stop sharing with").get_by_label(HOUSING_NAME).check()
    page.get_by_label("By phone").check()
    page.get_by_role("button", name="Withdraw consent").click()
    assert page.locator(".govuk-panel__title").inner_text() == "Part of the consent withdrawn"

    page.goto(overview)
    housing = page.locator('[data-testid=consent-recipient][data-org="derby-housing"]')
    assert housing.get_attribute("data-receiving") == "no"
    assert "Receives nothing now" in housing.inner_text()
    assert "Withdrawn on" in housing.inner_text()
    assert housing.locator("del").first.inner_text() == HOUSING_NAME  # struck through
    still = page.locator("[data-testid=consent-recipient][data-receiving=yes]")
    assert still.count() == 2
    snap(page, "overview-partial-withdrawal")
    check_accessibility(page)

    page.get_by_role("link", name="Receipt").first.click()
    receipt = page.get_by_test_id("receipt")
    assert page.get_by_test_id("receipt-name").inner_text() == "Lee Marsh"
    orgs = page.get_by_test_id("receipt-recipient")
    assert [orgs.nth(i).get_attribute("data-org") for i in range(orgs.count())] == [
        "jcp-derby", "recovery-partnership"]
    assert HOUSING_NAME in page.get_by_test_id("receipt-stopped").inner_text()
    assert "Phone: 01632 960 101" in orgs.first.inner_text()
    assert receipt.inner_text().rstrip().endswith(
        page.get_by_test_id("receipt-verification").inner_text().rstrip())
    snap(page, "receipt-partial-withdrawal")
    check_accessibility(page)
    receipt_url = page.url

    page.goto(overview)
    page.get_by_role("link", name="a copy of the plan").click()
    assert page.get_by_test_id("plan-copy-name").inner_text() == "Lee Marsh"
    assert page.get_by_test_id("plan-copy-entry").count() >= 3
    check_accessibility(page)
    plan_copy_url = page.url

    page.set_viewport_size({"width": 320, "height": 640})
    for url, name in ((receipt_url, "receipt"), (plan_copy_url, "plan-copy")):
        for lang in ("en", "cy"):
            page.goto(f"{url.split('?')[0]}?lang={lang}")
            _no_horizontal_scroll(page)
        snap(page, f"{name}-320-cy")
