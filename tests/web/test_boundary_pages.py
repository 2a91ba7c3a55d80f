"""The boundary as an IG officer meets it in a real browser (Debian's Chromium): emergency
access granted to a housing officer shows on the officer's very next page, links to the review,
and is gone once opened; a claimant the officer's organisation does not work with is "not
found" on the claimant pages, whatever the IG purpose, and the attempt is audited."""

from __future__ import annotations

import uuid
from typing import Any

from flask.testing import FlaskClient
from playwright.sync_api import expect
from sqlalchemy import select

from caseshare.audit.models import AuditEvent
from caseshare.runtime import Runtime
from tests.conftest import COACH, Clock, Demo
from tests.web.browser import check_accessibility
from tests.web.ig_helpers import break_glass
from tests.web.test_ig_journey import sign_in_ig_first_time


def test_emergency_access_shows_on_the_ig_officers_next_page_until_reviewed(
        live_url: str, browser_page: Any, client: FlaskClient, auth: Any, demo: Demo,
        clock: Clock) -> None:
    page = browser_page
    sign_in_ig_first_time(page, live_url, clock, check=False)
    expect(page.get_by_test_id("override-notices")).to_have_count(0)

    override_id = break_glass(client, auth, demo.lee)

    page.reload()
    banner = page.get_by_test_id("override-notices")
    expect(banner).to_be_visible()
    assert "Emergency access was granted" in banner.inner_text()
    check_accessibility(page)
    banner.get_by_role("link", name="review the override").click()
    page.wait_for_url(f"{live_url}/ig/overrides/{override_id}")
    expect(page.get_by_test_id("override-notices")).to_have_count(0)
    page.goto(f"{live_url}/find")
    expect(page.get_by_test_id("override-notices")).to_have_count(0)


def test_a_claimant_outside_the_ig_officers_organisation_is_not_found_on_the_pages(
        live_url: str, browser_page: Any, client: FlaskClient, auth: Any, demo: Demo,
        clock: Clock, rt: Runtime) -> None:
    # A claimant only the Jobcentre works with: the council's IG officer has no relationship.
    r = client.post("/api/v1/subjects?purpose=case_management", headers=auth(COACH), json={
        "given_name": "Casey", "family_name": "Noble", "date_of_birth": "1985-03-02",
        "nino": "QQ112233D", "postcode": "DE22 1AB", "jurisdiction": "england"})
    assert r.status_code == 201, r.json
    outsider = uuid.UUID(r.json["id"])
    page = browser_page
    sign_in_ig_first_time(page, live_url, clock, check=False)

    response = page.goto(f"{live_url}/claimants/{outsider}")
    assert response is not None and response.status == 404
    assert "Casey" not in page.content() and "Noble" not in page.content()
    check_accessibility(page)
    with rt.session_factory() as s:
        denied = s.scalars(select(AuditEvent).where(
            AuditEvent.type == "access:subject:deny", AuditEvent.subject_id == outsider,
            AuditEvent.purpose == "audit")).all()
    assert denied and all(e.reasons == ["no_case_relationship"] for e in denied)
