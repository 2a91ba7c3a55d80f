"""The rest of the front-line journey in a real browser (Debian's Chromium): find a claimant by
name and date of birth, make a referral and accept it as the receiving agency, emergency access,
the printable consent receipt, and the "who has seen my information" report in Welsh. Every
new page gets the accessibility check and a screenshot for reviewers."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.conftest import ADVISER, COACH, HOUSING, Demo
from tests.web.browser import check_accessibility, open_claimant, sign_in
from tests.web.test_journey import snap

JUSTIFICATION = ("The claimant's sister rang at 9am: he has not been seen for four days, the "
                 "flat is locked and neighbours heard a fall. We cannot reach him to ask for "
                 "consent and need his contact details to send the welfare team.")


def test_find_by_name_refer_and_accept_as_the_receiving_agency(live_url: str,
                                                               browser_page: Any,
                                                               demo: Demo) -> None:
    page = browser_page
    sign_in(page, live_url, COACH, "case_management")
    page.goto(f"{live_url}/find")  # home is the caseload now
    page.get_by_label("Last name").fill("Dunn")
    page.get_by_label("First name (optional)").fill("kerry")
    page.get_by_label("Day").fill("2")
    page.get_by_label("Month").fill("11")
    page.get_by_label("Year").fill("1992")
    page.get_by_role("button", name="Search by name").click()
    assert page.get_by_test_id("results").inner_text().startswith("Kerry Dunn, born 2 November")
    assert page.get_by_label("Last name").input_value() == "Dunn"
    snap(page, "find-by-name")
    check_accessibility(page)
    page.get_by_role("link", name="Kerry Dunn").click()
    assert page.locator("h1").inner_text() == "Kerry Dunn"
    overview = page.url

    page.get_by_role("link", name="Make a referral").click()
    check_accessibility(page)
    page.get_by_label("Message to the organisation").fill("Kerry would like a budget plan.")
    page.get_by_role("button", name="Send referral").click()
    summary = page.locator(".govuk-error-summary").inner_text()
    assert "Select the organisation you are referring the claimant to" in summary
    assert "Enter the name of the person the claimant will see" in summary
    assert page.get_by_label("Message to the organisation").input_value() == (
        "Kerry would like a budget plan.")  # nothing typed is lost
    snap(page, "referral-errors")
    check_accessibility(page)
    page.get_by_label("Citizens Advice Derby", exact=True).check()
    page.get_by_label("Budgeting support", exact=True).check()
    page.get_by_label("Named contact").fill("Aisha Begum")
    page.get_by_label("Day").fill("3")
    page.get_by_label("Month").fill("12")
    page.get_by_label("Year").fill("2026")
    page.get_by_label("Appointment time").fill("10:30")
    page.get_by_role("button", name="Send referral").click()
    page.wait_for_url(overview)
    assert "Referral sent to Citizens Advice Derby" in page.locator(
        ".govuk-notification-banner").inner_text()
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, live_url, ADVISER, "budgeting_support")
    page.get_by_role("link", name="Referrals", exact=True).click()
    card = page.get_by_test_id("referral").filter(has_text="Kerry would like a budget plan.")
    assert "3 December 2026 at 10:30am" in card.inner_text()
    assert "Aisha Begum" in card.inner_text()
    assert "<span" not in card.inner_text()  # the button's hidden context is markup, not text
    snap(page, "referral-inbox")
    check_accessibility(page)
    card.get_by_role("button", name="Accept").click()
    page.wait_for_url(overview)
    assert "Referral accepted" in page.locator(".govuk-notification-banner").inner_text()
    assert page.get_by_test_id("who-org").inner_text() == "Citizens Advice Derby"
    assert "Accepted" in page.get_by_test_id("overview-referrals").inner_text()
    page.get_by_role("link", name="Referrals", exact=True).click()
    assert "Accepted" in page.get_by_test_id("referral").first.inner_text()


def test_emergency_access_is_a_separate_deliberate_page(live_url: str, browser_page: Any,
                                                        demo: Demo) -> None:
    page = browser_page
    sign_in(page, live_url, HOUSING, "tenancy_sustainment")
    open_claimant(page, "QQ123456C", "Lee Marsh")
    assert page.get_by_role("button", name="Request emergency access").count() == 0
    page.get_by_role("link", name="request emergency access").click()
    warning = page.get_by_test_id("review-warning").inner_text()
    assert "reviewed by an information governance officer" in warning
    assert page.locator("input:checked").count() == 0
    snap(page, "emergency-access")
    check_accessibility(page)
    page.get_by_label("Why do you need emergency access now?").fill("Neighbour called")
    page.get_by_role("button", name="Request emergency access").click()
    summary = page.locator(".govuk-error-summary").inner_text()
    assert "Select the lawful reason for emergency access" in summary
    assert "Confirm that you understand" in summary
    check_accessibility(page)
    page.get_by_label("Safeguarding").check()
    page.get_by_label("Why do you need emergency access now?").fill(JUSTIFICATION)
    page.get_by_label("Address and contact details").check()
    page.get_by_label("For how many hours?").fill("4")
    page.get_by_label("I understand that this is recorded").check()
    page.get_by_role("button", name="Request emergency access").click()
    assert page.locator(".govuk-panel__title").inner_text() == "Emergency access given"
    assert "Address and contact details".lower() in page.get_by_test_id(
        "override-scope").inner_text().lower()
    assert "will review this by 26 November 2026" in page.get_by_test_id(
        "review-due").inner_text()
    snap(page, "emergency-access-given")
    check_accessibility(page)


def test_consent_receipt_prints_cleanly_in_english_and_welsh(live_url: str, browser_page: Any,
                                                              demo: Demo) -> None:
    page = browser_page
    sign_in(page, live_url, COACH, "case_management")
    open_claimant(page, "QQ123456C", "Lee Marsh")
    page.get_by_role("link", name="Receipt").first.click()
    assert page.locator("h1").inner_text() == "Lee Marsh"  # the receipt leads with the name
    # Shown by the page script once it has run: wait for it (is_visible() does not wait, and
    # failed once in CI when the script had not run yet).
    expect(page.get_by_role("button", name="Print")).to_be_visible()
    snap(page, "receipt")
    check_accessibility(page)
    page.emulate_media(media="print")
    assert page.get_by_test_id("who").is_hidden() and page.locator(".govuk-footer").is_hidden()
    assert page.get_by_test_id("document-tools").is_hidden()
    assert page.get_by_test_id("receipt").is_visible()
    snap(page, "receipt-print")
    page.emulate_media(media="screen")
    page.get_by_role("link", name="Show it in Welsh").click()
    assert "Eich derbynneb caniatâd" in page.get_by_test_id("receipt").inner_text()
    assert page.get_by_test_id("receipt").get_attribute("lang") == "cy"
    assert page.get_by_test_id("receipt-status").inner_text() == "Yn cael ei ddefnyddio"
    snap(page, "receipt-cy")
    check_accessibility(page)


def test_who_has_seen_report_in_welsh(live_url: str, browser_page: Any, demo: Demo) -> None:
    page = browser_page
    sign_in(page, live_url, HOUSING, "tenancy_sustainment")
    open_claimant(page, "QQ123456C", "Lee Marsh")  # the housing officer reads Lee's plan
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, live_url, COACH, "case_management")
    open_claimant(page, "QQ123456C", "Lee Marsh")
    page.get_by_role("link", name="Who has seen this claimant").click()
    assert page.locator("h1").inner_text() == "Who has seen your information"
    check_accessibility(page)
    page.get_by_role("link", name="Show it in Welsh").click()
    assert page.locator("h1").inner_text() == "Pwy sydd wedi gweld eich gwybodaeth"
    report = page.get_by_test_id("who-has-seen")
    assert report.get_attribute("lang") == "cy"
    housing = page.get_by_test_id("access").filter(has_text="Derby City Council Housing Options")
    assert "Rôl: swyddog tai" in housing.first.inner_text()
    assert "Priya Sharma" not in report.inner_text()  # roles, never staff names
    snap(page, "who-has-seen-cy")
    check_accessibility(page)
    page.emulate_media(media="print")
    assert page.get_by_test_id("who").is_hidden() and report.is_visible()
    snap(page, "who-has-seen-cy-print")


def test_new_pages_work_without_javascript(live_url: str, chromium: Any, demo: Demo) -> None:
    context = chromium.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in(page, live_url, HOUSING, "tenancy_sustainment")
        page.goto(f"{live_url}/find")  # home is the caseload now
        page.get_by_label("Last name").fill("Marsh")
        page.get_by_label("Day").fill("14")
        page.get_by_label("Month").fill("3")
        page.get_by_label("Year").fill("1987")
        page.get_by_role("button", name="Search by name").click()
        page.get_by_role("link", name="Lee Marsh").click()
        page.get_by_role("link", name="Receipt").first.click()
        assert page.get_by_test_id("receipt").is_visible()
        assert page.locator("[data-cs-print]").is_hidden()  # no script, no dead button
        page.go_back()
        page.get_by_role("link", name="request emergency access").click()
        page.get_by_role("button", name="Request emergency access").click()
        assert "Select the lawful reason" in page.locator(".govuk-error-summary").inner_text()
        page.get_by_label("Safeguarding").check()
        page.get_by_label("Why do you need emergency access now?").fill(JUSTIFICATION)
        page.get_by_label("Money and debts").check()
        page.get_by_label("For how many hours?").fill("2")
        page.get_by_label("I understand that this is recorded").check()
        page.get_by_role("button", name="Request emergency access").click()
        assert page.locator(".govuk-panel__title").inner_text() == "Emergency access given"
    finally:
        context.close()
