"""Browser fixtures: the test app served on a free loopback port from a thread, and Debian's
Chromium driven by Playwright (never a downloaded browser). Where /usr/bin/chromium is missing
the browser tests are skipped locally, but under CI (CI=true) that is a failure."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
AXE = Path(__file__).with_name("axe.min.js")
# Screenshots of the main pages, for reviewers: in the checkout (gitignored) unless redirected.
CHECKOUT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(os.environ.get("CASESHARE_SCREENSHOTS", CHECKOUT / "artifacts" / "screenshots"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests run on SQLite only, unless CASESHARE_BROWSER_ON_POSTGRESQL is set (as
    `make reliability` does). A browser journey drives pages, and the pages' use cases, queries
    and refusals are the same on both engines: the Flask-client page tests, API tests and
    integration tests run them on PostgreSQL too. Running every 30-second journey twice cost
    about ten minutes of `make test`'s 40."""
    if os.environ.get("CASESHARE_BROWSER_ON_POSTGRESQL"):
        return
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        browser = "chromium" in getattr(item, "fixturenames", ())
        (dropped if browser and params.get("engine") == "postgresql" else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("/usr/bin/chromium not found: the browser tests must not be skipped in "
                        "CI (apt-get install chromium)")
        pytest.skip("Debian's chromium is not installed (CI installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def live_url(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture
def browser_page(chromium: Any) -> Iterator[Any]:
    # bypass_csp only so axe-core can be injected for the accessibility checks; the CSP itself
    # is asserted on the responses in test_pages.py.
    context = chromium.new_context(bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        yield page
    finally:
        context.close()
