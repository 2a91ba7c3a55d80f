"""A case conference in a real browser (Debian's Chromium), at 320 CSS px: the key worker
records one for Lee Marsh with minutes on two kinds of information and one decision; the
decision is on the case plan as an action; the housing officer opens the conference and reads
only what her decision allows, the withheld kind explained with the next step. Every page gets
the accessibility check and the reflow check."""

from __future__ import annotations

from typing import Any

from tests.conftest import HOUSING, KEY_WORKER, Demo
from tests.web.browser import (
    checked,
    fill_date,
    open_claimant,
    sign_in,
)
from tests.web.test_journey import shown, snap

TREATMENT = "Eleven weeks sober and asks to move to the evening recovery group."
ADDRESS = "Moving to a flat on Carrington Street in January."
DECISION = "Book the evening prescribing review"


def test_key_worker_records_a_conference_and_housing_reads_it_under_its_decision(
    live_url: str, browser_page: Any, demo: Demo
) -> None:
    page = browser_page
    page.set_viewport_size({"width": 320, "height": 800})
    sign_in(page, live_url, KEY_WORKER, "case_management")
    open_claimant(page, "QQ123456C", "Lee Marsh")
    page.get_by_role("link", name="Case conferences").click()
    page.wait_for_selector("h1")
    checked(page)
    page.get_by_role("link", name="Record a case conference").click()
    page.wait_for_selector("textarea#minutes-substance_misuse")
    checked(page)
    snap(page, "conference-record")

    fill_date(page, "held_on", "20", "11", "2026")
    for org in ("recovery-partnership", "jcp-derby", "derby-housing"):
        page.locator(f"input[name=attendee][value={org}]").check()
    page.locator("#staff-recovery-partnership").select_option(label="Dan Whitfield")
    page.locator("#minutes-substance_misuse").fill(TREATMENT)
    page.locator("#minutes-contact").fill(ADDRESS)
    page.locator("#decision-1-title").fill(DECISION)
    page.locator("#decision-1-owner_org").select_option("recovery-partnership")
    page.locator("#decision-1-category").select_option("substance_misuse")
    fill_date(page, "decision-1-due_on", "15", "12", "2026")
    page.get_by_role("button", name="Save the conference").click()
    page.wait_for_selector("h1:has-text('Held on')")
    conference_url = page.url

    # The recorder reads everything it wrote; the decision is a plan action with its owner.
    assert TREATMENT in page.get_by_test_id("minutes-substance_misuse").inner_text()
    assert ADDRESS in page.get_by_test_id("minutes-contact").inner_text()
    assert "Dan Whitfield" in page.get_by_test_id("attendees").inner_text()
    row = page.get_by_test_id("decisions").locator("tr").filter(has_text=DECISION)
    assert "Derby Recovery Partnership" in row.inner_text()
    assert "15 December 2026" in row.inner_text()
    checked(page)
    snap(page, "conference-recorder")
    open_claimant(page, "QQ123456C", "Lee Marsh")
    assert shown(page, DECISION)
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{live_url}/sign-in?notice=signed_out")

    # The housing officer's agreements bring nothing from the treatment provider for tenancy
    # work: no minutes, no treatment action, and the withheld kind explained in plain words.
    sign_in(page, live_url, HOUSING, "tenancy_sustainment")
    page.goto(conference_url)
    page.wait_for_selector("h1:has-text('Held on')")
    body = page.locator("main").inner_text()
    assert TREATMENT not in body and ADDRESS not in body and DECISION not in body
    assert page.get_by_test_id("no-minutes").is_visible()
    assert page.get_by_test_id("no-decisions").is_visible()
    withheld = page.get_by_test_id("withheld-substance_misuse").inner_text()
    assert "Drug and alcohol treatment" in withheld and "Next step:" in withheld
    assert len(page.get_by_test_id("attendees").locator("li").all()) == 3
    checked(page)
    snap(page, "conference-housing")
