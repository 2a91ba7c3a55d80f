"""A referral that closes the loop, in a real browser (Debian's Chromium): the work coach finds
a budgeting service near Kerry's postcode on Find a service, chooses "Refer the claimant" for
Citizens Advice Derby, sees what it will and will not be able to read, and refers; the adviser
opens the referral, accepts it, books an appointment, records attendance and completes it with
an outcome and a note; the coach is notified of each step and sees the whole timeline. The
services page, the referral form, the referral page with its step forms and with its timeline
pass axe, and the referral page reads at 320 CSS pixels without horizontal scrolling."""

from __future__ import annotations

from typing import Any

from tests.conftest import COACH, Clock, Demo
from tests.web.browser import assert_fits, check_accessibility, open_claimant, sign_in

ADVISER = "aisha.begum@ca-derby.example"
MESSAGE = "Kerry would like help to budget around her UC payment date."


def _fits_320(page: Any) -> None:
    page.set_viewport_size({"width": 320, "height": 640})
    assert_fits(page)
    page.set_viewport_size({"width": 1280, "height": 800})


def _coach_finds_and_refers(page: Any, live_url: str) -> None:
    sign_in(page, live_url, COACH, "case_management")
    open_claimant(page, "QQ654321A", "Kerry Dunn")
    page.get_by_role("link", name="Make a referral").click()
    page.get_by_test_id("find-service").click()
    page.get_by_label("What does the claimant need help with?").select_option(
        "personal_budgeting_support")
    page.get_by_label("Postcode or postcode district (optional)").fill("DE1")
    page.get_by_test_id("search-services").click()
    card = page.locator('[data-testid=service][data-service-id="ca-derby-budgeting"]')
    assert "Citizens Advice Derby" in card.inner_text()
    check_accessibility(page)
    card.get_by_test_id("refer").click()

    assert "Money advice and budgeting support" in page.get_by_test_id(
        "chosen-service").inner_text()
    assert page.get_by_label("Citizens Advice Derby", exact=True).is_checked()
    row = page.locator('[data-testid=readable] tr[data-org="ca-derby"]'
                       '[data-purpose="budgeting_support"]')
    assert "Money and debts" in row.get_by_test_id("can-read").inner_text()
    cannot = row.get_by_test_id("cannot-read").inner_text()
    assert "Drug and alcohol treatment: the information sharing agreements do not pass this" in (
        cannot)
    assert page.locator('[data-testid=readable] tr[data-org="derby-housing"]').count() == 0
    check_accessibility(page)
    page.get_by_label("Budgeting support", exact=True).check()
    page.get_by_label("Message to the organisation").fill(MESSAGE)
    page.get_by_label("Named contact").fill("Aisha Begum")
    page.get_by_role("button", name="Send referral").click()
    assert "Referral sent to Citizens Advice Derby" in page.locator(
        ".govuk-notification-banner").inner_text()
    page.get_by_role("button", name="Sign out").click()


def _step(page: Any, button: str, done: str) -> None:
    page.get_by_role("button", name=button).click()
    assert done in page.locator(".govuk-notification-banner").inner_text()


def test_coach_refers_to_a_budgeting_service_and_sees_the_loop_closed(
        live_url: str, browser_page: Any, clock: Clock, demo: Demo) -> None:
    page = browser_page
    _coach_finds_and_refers(page, live_url)

    # The adviser opens the referral, accepts it there and books the appointment.
    sign_in(page, live_url, ADVISER, "budgeting_support")
    page.get_by_role("link", name="Referrals", exact=True).click()
    page.get_by_test_id("referral").filter(has_text=MESSAGE).get_by_test_id(
        "referral-link").click()
    assert page.get_by_test_id("referral-claimant").inner_text().startswith("Kerry Dunn")
    _step(page, "Accept referral", "Referral accepted")
    booking = page.get_by_test_id("step-booked")
    booking.get_by_label("Day").fill("2")
    booking.get_by_label("Month").fill("12")
    booking.get_by_label("Year").fill("2026")
    booking.get_by_label("Appointment time").fill("10:30")
    booking.get_by_label("Where", exact=True).fill("Citizens Advice Derby, Council House")
    check_accessibility(page)  # the booking form
    _step(page, "Book appointment", "Appointment booked")
    assert "2 December 2026 at 10:30" in page.get_by_test_id("referral-appointment").inner_text()
    page.get_by_role("button", name="Sign out").click()

    # After the appointment: attended, then completed with an outcome and a note.
    clock.advance(days=9, hours=3)
    sign_in(page, live_url, ADVISER, "budgeting_support")
    page.goto(f"{live_url}/referrals")
    page.get_by_test_id("referral").filter(has_text=MESSAGE).get_by_test_id(
        "referral-link").click()
    _step(page, "Claimant attended", "Attendance recorded")
    completing = page.get_by_test_id("step-completed")
    completing.get_by_label("Budgeting support given").check()
    completing.get_by_label("Note (optional)").fill("Monthly budget agreed; review in 3 months.")
    check_accessibility(page)  # the outcome form
    _step(page, "Record outcome", "Referral completed with its outcome")
    page.get_by_role("button", name="Sign out").click()

    # The coach is told of each step and sees the loop closed on the referral's page.
    sign_in(page, live_url, COACH, "case_management")
    page.get_by_test_id("nav-notifications").click()
    told = page.locator("[data-testid=notification][data-type=referral_updated]")
    headlines = " ".join(told.all_inner_texts())
    for words in ("Citizens Advice Derby accepted your referral", "booked an appointment for",
                  "recorded attendance at", "recorded the outcome of"):
        assert words in headlines, words
    told.filter(has_text="recorded the outcome of").get_by_test_id(
        "notification-referral").click()
    steps = page.get_by_test_id("timeline-step")
    assert [steps.nth(i).get_attribute("data-type") for i in range(steps.count())] == [
        "created", "accepted", "booked", "attended", "completed"]
    timeline = page.get_by_test_id("referral-timeline").inner_text()
    assert "Outcome: Budgeting support given" in timeline
    assert "Monthly budget agreed" in timeline and "Aisha Begum, Citizens Advice Derby" in timeline
    assert page.get_by_test_id("referral-outcome").inner_text() == "Budgeting support given"
    check_accessibility(page)  # the timeline
    _fits_320(page)
