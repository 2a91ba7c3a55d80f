"""The key worker updates his own treatment action under each of his purposes, in a real browser
(Debian's Chromium): the form says who will see it, the overview flags and links only what he
may change. The entry form and the overview get the accessibility check and a screenshot."""

from __future__ import annotations

from typing import Any

from tests.conftest import KEY_WORKER, Demo
from tests.web.browser import check_accessibility, open_claimant, sign_in
from tests.web.test_journey import snap

ACTION = "Attend weekly alcohol recovery group"


def test_key_worker_updates_his_own_treatment_action_under_each_purpose(
    live_url: str, browser_page: Any, demo: Demo
) -> None:
    page = browser_page
    for purpose, status, audience in (
        ("case_management", "Done", "Derby Recovery Partnership and Derby Jobcentre Plus."),
        # The action was recorded under case management and is shared: changing it under
        # recovery support still reaches the Jobcentre, and the form says so.
        ("recovery_support", "In progress",
         "Derby Recovery Partnership and Derby Jobcentre Plus."),
    ):
        sign_in(page, live_url, KEY_WORKER, purpose)
        open_claimant(page, "QQ123456C", "Lee Marsh")
        check_accessibility(page)
        snap(page, f"plan-overview-{purpose}")
        page.get_by_role("link", name=f"Change {ACTION}").click()
        assert audience in page.get_by_test_id("audience").inner_text()
        assert page.get_by_test_id("history").is_visible()
        page.get_by_label(status, exact=True).check()
        page.get_by_label("Outcome (optional)").fill(f"Reviewed under {purpose}")
        page.get_by_label("Support service line (optional)").select_option(
            "intermediary_support")
        check_accessibility(page)
        snap(page, f"plan-entry-{purpose}")
        page.get_by_role("button", name="Save").click()
        page.wait_for_selector("h1")
        row = page.get_by_test_id("entry").filter(has_text=ACTION)
        assert status in row.inner_text()
        assert f"Outcome: Reviewed under {purpose}" in row.inner_text()
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url(f"{live_url}/sign-in?notice=signed_out")

    # A treatment note under recovery support is his organisation's alone; the add form says so
    # before it is saved, and does not offer work information (his grant does not write it).
    sign_in(page, live_url, KEY_WORKER, "recovery_support")
    open_claimant(page, "QQ123456C", "Lee Marsh")
    page.get_by_role("button", name="Add an action").click()
    page.locator("select[name=category]").wait_for()  # the form is a new page: wait for it
    options = page.locator("select[name=category] option").all_inner_texts()
    assert "Drug and alcohol treatment" in options and "Work search and employment" not in options
    assert "Only your organisation will see this" in page.get_by_test_id(
        "audience-substance_misuse").inner_text()
    check_accessibility(page)
    snap(page, "plan-entry-new-recovery-support")
