"""A warm referral in a real browser (Debian's Chromium): the work coach refers the claimant to
housing, offered only the lawful targets and told what housing will read; the housing officer
sees it in their referrals with the claimant's name and the sender's contact, and accepts it;
the work coach sees "Accepted" in its history. Every page gets the accessibility check."""

from __future__ import annotations

from typing import Any

from flask import Flask
from playwright.sync_api import expect

from tests.builders import consent, register
from tests.conftest import COACH, HOUSING, Clock, Demo
from tests.web.browser import check_accessibility, open_claimant, sign_in
from tests.web.test_journey import snap


def test_coach_refers_to_housing_and_the_housing_officer_accepts(live_url: str,
                                                                 browser_page: Any, app: Flask,
                                                                 auth: Any, clock: Clock,
                                                                 demo: Demo) -> None:
    api = app.test_client()
    subject = register(api, auth(COACH), nino="AB 12 34 56 C")  # Jordan Ashby
    consent(api, auth(COACH), subject, clock.now, recipients=["jcp-derby", "derby-housing"])

    page = browser_page
    sign_in(page, live_url, COACH, "case_management")
    open_claimant(page, "AB123456C", "Jordan Ashby")
    overview = page.url
    page.get_by_role("link", name="Make a referral").click()
    page.wait_for_url("**/referrals/new", wait_until="load")  # the form, not the page before it
    # Only housing is offered; the treatment provider is explained with the next step.
    expect(page.locator("input[name=to_org]")).to_have_count(1)
    assert "Ask the claimant to add Derby Recovery Partnership to their consent" in (
        page.get_by_test_id("not-offered").inner_text())
    assert "Derby City Council Housing Options" in page.get_by_test_id("readable").inner_text()
    snap(page, "referral-targets")
    check_accessibility(page)
    page.get_by_label("Derby City Council Housing Options", exact=True).check()
    page.get_by_label("Tenancy sustainment", exact=True).check()
    page.get_by_label("Message to the organisation").fill(
        "Jordan is four weeks behind on rent since moving to UC.")
    page.get_by_label("Named contact").fill("Priya Sharma")
    page.get_by_role("button", name="Send referral").click()
    page.wait_for_url(overview)
    assert "Referral sent to Derby City Council Housing Options" in page.locator(
        ".govuk-notification-banner").inner_text()
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, live_url, HOUSING, "tenancy_sustainment")
    page.get_by_role("link", name="Referrals", exact=True).click()
    card = page.get_by_test_id("referral").filter(has_text="four weeks behind on rent")
    assert card.get_by_test_id("referral-claimant").inner_text().strip() == "Jordan Ashby"
    sender = card.get_by_test_id("referral-sender")
    assert "Sam Okafor, Derby Jobcentre Plus" in sender.inner_text()
    assert sender.get_by_role("link", name=COACH).get_attribute("href") == f"mailto:{COACH}"
    snap(page, "referral-received")
    check_accessibility(page)
    card.get_by_role("button", name="Accept").click()
    page.wait_for_url(f"{live_url}/claimants/{subject}")
    assert "Referral accepted" in page.locator(".govuk-notification-banner").inner_text()
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, live_url, COACH, "case_management")
    page.goto(f"{live_url}/referrals?box=sent")
    history = page.get_by_test_id("referral").filter(
        has_text="Jordan Ashby").get_by_test_id("referral-history").inner_text()
    assert "Accepted" in history and "Priya Sharma, Derby City Council Housing Options" in history
    snap(page, "referral-sent-history")
    check_accessibility(page)
