"""A work coach starts a claimant's journey from the pages, in Chromium: registers the claimant
(check your answers, the duplicate check), then records their consent through check your
answers, starts the shared plan and refers the claimant to housing (a warm handover); every page
checked with axe. The same journey again with JavaScript off on a phone (320 CSS pixels, no
horizontal scrolling)."""

from __future__ import annotations

from typing import Any

from tests.conftest import COACH, Demo
from tests.web.browser import assert_fits, check_accessibility, sign_in


def start_journey(page: Any, base: str, nino: str, family_name: str, *,
                  axe: bool) -> None:
    def checked() -> None:
        if axe:
            check_accessibility(page)
        else:  # a phone: 320 CSS pixels, no horizontal scrolling (WCAG 1.4.10 Reflow)
            assert_fits(page)

    page.goto(f"{base}/find")
    page.get_by_role("link", name="Register a claimant").click()
    checked()
    page.get_by_role("button", name="Continue").click()  # nothing entered: errors
    summary = page.locator(".govuk-error-summary").inner_text()
    assert "Enter the claimant's National Insurance number" in summary
    assert "Select where the claimant lives" in summary
    checked()
    page.get_by_label("National Insurance number", exact=True).fill(nino)
    page.get_by_label("First name").fill("Alex")
    page.get_by_label("Last name").fill(family_name)
    page.get_by_label("Day").fill("9")
    page.get_by_label("Month").fill("7")
    page.get_by_label("Year").fill("1984")
    page.get_by_label("Postcode (optional)").fill("DE1 1AA")
    page.get_by_role("button", name="Continue").click()
    assert "Select where the claimant lives" in page.locator(".govuk-error-summary").inner_text()
    assert page.get_by_label("Last name").input_value() == family_name  # kept
    page.get_by_label("England").check()
    page.get_by_role("button", name="Continue").click()
    assert page.locator("h1").inner_text() == "Check the claimant\u2019s details"
    checked()
    page.get_by_role("link", name="Change postcode").click()
    assert page.get_by_label("First name").input_value() == "Alex"
    page.get_by_label("Postcode (optional)").fill("DE1 2BB")
    page.get_by_role("button", name="Continue").click()
    assert "DE1 2BB" in page.get_by_test_id("check-answers").inner_text()
    page.get_by_role("button", name="Register claimant").click()
    assert page.locator(".govuk-panel__title").inner_text() == "Claimant registered"
    assert f"Alex {family_name}" in page.get_by_test_id("registered").inner_text()
    checked()
    assert page.get_by_role("link", name="Start the shared plan").get_attribute(
        "href").endswith("/plan/start")

    page.get_by_role("link", name="Record consent").click()
    assert page.locator("input:checked").count() == 0  # nothing is chosen for the claimant
    checked()
    for org in ("Derby Jobcentre Plus", "Derby City Council Housing Options"):
        page.get_by_label(org, exact=True).check()
    page.get_by_label("Case management", exact=True).check()
    page.get_by_label("Tenancy sustainment", exact=True).check()
    page.get_by_label("Identity details", exact=True).check()
    page.get_by_label("The claimant", exact=True).check()
    page.get_by_label("Signed electronically").check()
    page.get_by_label("Evidence reference").fill("DOC-NEW-1")
    page.get_by_label("Day").fill("1")
    page.get_by_label("Month").fill("5")
    page.get_by_label("Year").fill("2027")
    page.get_by_role("button", name="Continue").click()
    answers = page.get_by_test_id("check-consent").inner_text()
    assert "Derby City Council Housing Options" in answers and "1 May 2027" in answers
    checked()
    page.get_by_role("link", name="Change when consent ends").click()
    assert page.get_by_label("Derby City Council Housing Options", exact=True).is_checked()
    page.get_by_label("Month").fill("6")
    page.get_by_role("button", name="Continue").click()
    assert "1 June 2027" in page.get_by_test_id("check-consent").inner_text()
    page.get_by_role("button", name="Confirm and record consent").click()
    page.wait_for_url("**/receipt?lang=en")
    assert "Consent recorded" in page.locator(".govuk-notification-banner").inner_text()
    assert page.get_by_test_id("receipt-until").inner_text() == "1 June 2027"

    overview = page.url.split("/consents/")[0]
    page.goto(overview)
    page.get_by_test_id("start-plan").click()
    checked()
    page.get_by_role("button", name="Start the plan").click()
    page.wait_for_url(f"{overview}#plan")
    assert "There is no shared case plan yet" not in page.locator("#main-content").inner_text()
    page.get_by_role("link", name="Make a referral").click()
    checked()
    page.get_by_label("Derby City Council Housing Options", exact=True).check()
    page.get_by_label("Tenancy sustainment", exact=True).check()
    page.get_by_label("Message to the organisation").fill("Rent arrears since the claim began.")
    page.get_by_label("Named contact").fill("Sam Okafor")
    page.get_by_role("button", name="Send referral").click()
    page.wait_for_url(overview)
    checked()
    assert "Derby City Council Housing Options" in page.get_by_test_id(
        "overview-referrals").inner_text()


def test_a_work_coach_registers_a_claimant_and_records_consent(live_url: str,
                                                               browser_page: Any,
                                                               demo: Demo) -> None:
    sign_in(browser_page, live_url, COACH, "case_management")
    start_journey(browser_page, live_url, "QQ 31 41 59 A", "Okonjo", axe=True)


def test_the_journey_works_without_javascript(live_url: str, chromium: Any,
                                              demo: Demo) -> None:
    context = chromium.new_context(java_script_enabled=False,
                                   viewport={"width": 320, "height": 800})
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        sign_in(page, live_url, COACH, "case_management")
        start_journey(page, live_url, "QQ 27 18 28 B", "Varga", axe=False)
    finally:
        context.close()
