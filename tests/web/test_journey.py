"""The front-line journey in a real browser (Debian's Chromium): sign in, choose a purpose,
find Lee Marsh, see the shared plan as two agencies, record consent with nothing pre-ticked,
withdraw it and see access end. Every page also gets an accessibility check."""

from __future__ import annotations

from typing import Any

from tests.conftest import COACH, HOUSING, Demo
from tests.web.browser import PASSWORD, check_accessibility, open_claimant, sign_in
from tests.web.conftest import SCREENSHOTS

TREATMENT_ACTION = "Attend weekly alcohol recovery group"


def snap(page: Any, name: str) -> None:
    """A full-page screenshot for reviewers (outside the repository; see conftest)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def shown(page: Any, title: str) -> bool:
    """Whether a case plan entry with this title is on the page."""
    entries = page.get_by_test_id("entry").filter(has_text=title)
    return bool(entries.count() == 1 and entries.first.is_visible())


def test_failed_sign_in_shows_the_error_summary(live_url: str, browser_page: Any,
                                               demo: Demo) -> None:
    page = browser_page
    page.goto(f"{live_url}/sign-in")
    check_accessibility(page)
    page.get_by_label("Email address").fill(COACH)
    page.get_by_label("Password", exact=True).fill(PASSWORD + "x")
    page.get_by_role("button", name="Sign in").click()
    summary = page.locator(".govuk-error-summary")
    assert "The email, password or code is not right" in summary.inner_text()
    assert page.title().startswith("Error:")
    assert page.get_by_label("Email address").input_value() == COACH  # nothing typed is lost
    check_accessibility(page)
    page.goto(f"{live_url}/find")
    assert page.url == f"{live_url}/sign-in"  # still signed out


def test_work_coach_finds_lee_and_sees_the_treatment_action(live_url: str, browser_page: Any,
                                                           demo: Demo) -> None:
    page = browser_page
    page.goto(f"{live_url}/sign-in")
    sign_in(page, live_url, COACH, "case_management")
    check_accessibility(page)
    open_claimant(page, "QQ123456C", "Lee Marsh")
    assert page.locator("h1").inner_text() == "Lee Marsh"
    assert page.get_by_test_id("who-org").inner_text() == "Derby Jobcentre Plus"
    assert page.get_by_test_id("who-role").inner_text() == "Work coach"
    assert page.get_by_test_id("who-purpose").inner_text() == "Case management"
    assert shown(page, TREATMENT_ACTION)
    assert page.get_by_test_id("withheld-substance_misuse").count() == 0
    snap(page, "overview-work-coach")
    check_accessibility(page)


def test_housing_officer_sees_why_treatment_is_withheld(live_url: str, browser_page: Any,
                                                        demo: Demo) -> None:
    page = browser_page
    sign_in(page, live_url, HOUSING, "tenancy_sustainment")
    open_claimant(page, "QQ123456C", "Lee Marsh")
    assert page.get_by_test_id("who-org").inner_text() == "Derby City Council Housing Options"
    withheld = page.get_by_test_id("withheld-substance_misuse").inner_text()
    assert "drug and alcohol treatment" in withheld
    assert "Next step:" in withheld
    html = page.content()
    assert TREATMENT_ACTION not in html and "Bridge Street" not in html
    assert shown(page, "Agree a rent arrears repayment plan")
    snap(page, "overview-housing-officer")
    check_accessibility(page)


def test_record_consent_then_withdraw_it_and_access_ends(live_url: str, browser_page: Any,
                                                         demo: Demo) -> None:
    page = browser_page
    sign_in(page, live_url, COACH, "case_management")
    open_claimant(page, "QQ123456C", "Lee Marsh")
    overview = page.url

    # Withdraw the seeded consent first, so only the consent recorded below can allow access.
    page.get_by_role("link", name="Withdraw").first.click()
    snap(page, "withdraw-consent")
    check_accessibility(page)
    page.get_by_label("All of this consent").check()
    page.get_by_label("In person").check()
    page.get_by_role("button", name="Withdraw consent").click()
    assert page.locator(".govuk-panel__title").inner_text() == "Consent withdrawn"
    check_accessibility(page)
    page.goto(overview)
    assert not shown(page, TREATMENT_ACTION)
    assert "withdrawn" in page.get_by_test_id("withheld-substance_misuse").inner_text()

    page.get_by_role("link", name="Record consent").click()
    assert page.locator("input[type=checkbox]").count() > 10
    assert page.locator("input:checked").count() == 0  # nothing is chosen for the claimant
    check_accessibility(page)
    page.get_by_role("button", name="Continue").click()  # nothing ticked: errors
    summary = page.locator(".govuk-error-summary").inner_text()
    assert "Select each organisation the claimant agrees to share with" in summary
    assert "Select how consent was given" in summary
    snap(page, "record-consent-errors")
    check_accessibility(page)
    for org in ("Derby Jobcentre Plus", "Derby Recovery Partnership"):
        page.get_by_label(org, exact=True).check()
    page.get_by_label("Case management", exact=True).check()
    page.get_by_label("Drug and alcohol treatment", exact=True).check()
    page.get_by_label("Work search and employment", exact=True).check()
    page.get_by_label("The claimant", exact=True).check()
    page.get_by_label("Signed electronically").check()
    page.get_by_label("Evidence reference").fill("DOC-TEST-1")
    page.get_by_label("Day").fill("1")
    page.get_by_label("Month").fill("5")
    page.get_by_label("Year").fill("2027")
    page.get_by_role("button", name="Continue").click()  # no explicit statement yet
    assert "Explicit consent is required" in page.locator(".govuk-error-summary").inner_text()
    assert page.get_by_label("Derby Recovery Partnership", exact=True).is_checked()  # kept
    page.locator("input[name=explicit]").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Confirm and record consent").click()  # checked answers
    page.wait_for_url("**/receipt?lang=en")  # the claimant's receipt comes next
    assert "Consent recorded" in page.locator(".govuk-notification-banner").inner_text()
    assert page.get_by_test_id("receipt-until").inner_text() == "1 May 2027"
    page.goto(overview)
    assert shown(page, TREATMENT_ACTION)

    page.get_by_role("link", name="Withdraw").first.click()
    page.get_by_label("All of this consent").check()
    page.get_by_label("By phone").check()
    page.get_by_role("button", name="Withdraw consent").click()
    assert page.locator(".govuk-panel__title").inner_text() == "Consent withdrawn"
    page.goto(overview)
    assert not shown(page, TREATMENT_ACTION)
    assert "withdrawn" in page.get_by_test_id("withheld-substance_misuse").inner_text()
