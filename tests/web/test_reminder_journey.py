"""Appointment reminders in a real browser (Debian's Chromium): the work coach opens Lee's
overview, follows "Appointment reminders", is told what is wrong with a landline number without
losing what was chosen, records Welsh text messages, and can stop them again; the page passes
axe and reads at 320 CSS pixels without horizontal scrolling."""

from __future__ import annotations

from typing import Any

from tests.conftest import COACH, Demo
from tests.web.browser import assert_fits, check_accessibility, open_claimant, sign_in


def test_the_coach_records_and_stops_reminders(live_url: str, browser_page: Any,
                                               demo: Demo) -> None:
    page = browser_page
    sign_in(page, live_url, COACH, "case_management")
    open_claimant(page, "QQ123456C", "Lee Marsh")
    page.get_by_role("link", name="Appointment reminders").click()
    assert page.get_by_test_id("preference").inner_text() == (
        "The claimant has not agreed to get reminders.")
    check_accessibility(page)

    page.get_by_label("Text message").check()
    page.get_by_label("Mobile number or e-mail address").fill("01332 123456")
    page.get_by_label("Welsh (Cymraeg)").check()
    page.get_by_label("How did the claimant agree?").select_option("verbal_in_person")
    page.get_by_role("button", name="Save contact preference").click()
    assert "Enter a UK mobile number" in page.locator(".govuk-error-summary").inner_text()
    assert page.get_by_label("Welsh (Cymraeg)").is_checked()  # nothing chosen is lost
    assert page.get_by_label("Mobile number or e-mail address").input_value() == "01332 123456"
    check_accessibility(page)

    page.get_by_label("Mobile number or e-mail address").fill("07700 900982")
    page.get_by_role("button", name="Save contact preference").click()
    summary = page.get_by_test_id("preference").inner_text()
    assert "07700 900982" in summary and "Welsh (Cymraeg)" in summary
    check_accessibility(page)
    page.set_viewport_size({"width": 320, "height": 640})
    assert_fits(page)

    page.get_by_role("button", name="Stop reminders").click()
    assert "The claimant stopped reminders on" in page.get_by_test_id("preference").inner_text()
