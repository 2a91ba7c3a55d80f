"""Steps shared by the browser tests: signing in, choosing a purpose, accessibility checks."""

from __future__ import annotations

import json
from typing import Any

from tests.web.conftest import AXE

PASSWORD = "demo-password-2026"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def sign_in(page: Any, base: str, email: str, purpose: str) -> None:
    page.goto(f"{base}/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/purpose")
    page.locator(f"input[name=purpose][value={purpose}]").check()
    page.get_by_role("button", name="Continue").click()
    # Home, or the MI page for `evaluation` (it opens no caseload).
    page.wait_for_url(f"{base}/mi" if purpose == "evaluation" else f"{base}/")


def open_claimant(page: Any, nino: str, name: str) -> None:
    """Find a claimant by NINO on the find page and open their overview."""
    base = page.url.split("/", 3)
    page.goto("/".join(base[:3]) + "/find")
    page.get_by_label("National Insurance number").fill(nino)
    page.get_by_role("button", name="Search", exact=True).click()
    page.get_by_role("link", name=name).click()
    page.wait_for_selector("h1")


def page_width(page: Any) -> int:
    """The document's scroll width once the page in flight exists. A click that navigates can
    return before the new document is parsed (more often on a loaded machine), and measuring
    then finds no root element or a destroyed context: wait for the load and try again."""
    from playwright.sync_api import Error

    for _ in range(50):
        try:
            page.wait_for_load_state("load")
            width = page.evaluate(
                "() => document.documentElement ? document.documentElement.scrollWidth : -1")
        except Error:  # the execution context went away with a navigation
            width = -1
        if width >= 0:
            return int(width)
        page.wait_for_timeout(100)
    raise AssertionError(f"{page.url} never finished loading")


def assert_fits(page: Any, width: int = 320) -> None:
    """No horizontal scrolling at `width` CSS pixels (WCAG 1.4.10 Reflow)."""
    scroll = page_width(page)
    assert scroll <= width, f"{page.url} is {scroll}px wide at {width}px"


def check_accessibility(page: Any) -> None:
    """axe-core (WCAG 2.2 AA rules): no serious or critical violation; and the basics checked
    directly: a lang attribute, one h1, a skip link to main content, every input labelled."""
    assert page.locator("html").get_attribute("lang") in ("en", "cy")
    assert page.locator("h1").count() == 1, page.url
    skip = page.locator("a.govuk-skip-link")
    assert skip.get_attribute("href") == "#main-content"
    assert page.locator("#main-content").count() == 1
    unlabelled = page.evaluate("""() => [...document.querySelectorAll(
        'input:not([type=hidden]), select, textarea')].filter(el => el.labels.length === 0
        && !el.getAttribute('aria-label')).map(el => el.name || el.id)""")
    assert unlabelled == [], f"unlabelled inputs on {page.url}: {unlabelled}"
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
    serious = [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
               for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], f"{page.url}: {json.dumps(serious, indent=1)}"


def checked(page: Any) -> None:
    """The accessibility check and the 320 px fit, as every journey page gets them."""
    check_accessibility(page)
    assert_fits(page)


def fill_date(page: Any, prefix: str, day: str, month: str, year: str) -> None:
    """Fill a GOV.UK date input (`<prefix>-day`, `-month`, `-year`)."""
    page.locator(f"#{prefix}-day").fill(day)
    page.locator(f"#{prefix}-month").fill(month)
    page.locator(f"#{prefix}-year").fill(year)
