"""The interactive API documentation in Chromium under the real Content-Security-Policy:
Swagger UI starts from the app's own files with no CSP violation, no console error and no
request to another host, and offers the bearer token sign-in the document declares."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect


@pytest.mark.parametrize("engine", ["sqlite"])  # the page reads no database
def test_api_docs_load_under_the_csp_from_the_app_alone(live_url: str, chromium: Any) -> None:
    context = chromium.new_context()  # CSP enforced
    try:
        page = context.new_page()
        problems: list[str] = []
        elsewhere: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("request", lambda r: None if r.url.startswith((live_url, "data:"))
                else elsewhere.append(r.url))
        page.goto(f"{live_url}/api/docs")
        expect(page.locator(".swagger-ui .info .title")).to_contain_text("Caseshare API")
        expect(page.get_by_role("button", name="Authorize")).to_be_visible()
        patch = page.locator(".opblock-patch").first
        patch.locator(".opblock-summary").click()
        expect(patch.locator(".parameter__name", has_text="If-Match")).to_be_visible()
        assert problems == [] and elsewhere == []
    finally:
        context.close()
