"""Progressive enhancement: the journey works with JavaScript off, and with it on under the
real Content-Security-Policy the page scripts load with no CSP violation or console error."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.conftest import COACH, Demo
from tests.web.browser import open_claimant, sign_in


def test_works_without_javascript(live_url: str, chromium: Any, demo: Demo) -> None:
    context = chromium.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in(page, live_url, COACH, "case_management")
        open_claimant(page, "QQ123456C", "Lee Marsh")
        assert page.locator("h1").inner_text() == "Lee Marsh"
        assert "govuk-frontend-supported" not in (page.locator("body").get_attribute("class")
                                                  or "")
    finally:
        context.close()


def test_scripts_run_under_the_csp_without_errors(live_url: str, chromium: Any,
                                                   demo: Demo) -> None:
    context = chromium.new_context()  # CSP enforced
    try:
        page = context.new_page()
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        sign_in(page, live_url, COACH, "case_management")
        open_claimant(page, "QQ123456C", "Lee Marsh")
        page.get_by_role("link", name="Record consent").click()
        # Locator waits, not wait_for_function: a string predicate needs eval, which the CSP
        # (rightly) refuses.
        page.locator("body.govuk-frontend-supported").wait_for(state="attached")
        page.get_by_role("button", name="Continue").click()
        # GOV.UK Frontend's script moves focus to the error summary.
        expect(page.locator(".govuk-error-summary")).to_be_focused()
        # Chromium logs the 422 of the form page itself; anything else is a real problem.
        assert [p for p in problems if "status of 422" not in p] == []
    finally:
        context.close()
