"""Housing and money in a real browser (Debian's Chromium), at 320 CSS px: the housing officer
records Lee Marsh's tenancy, an APA moved identified -> requested -> DWP decision -> in place,
and six monthly rent figures paid by Lee in full; the tenancy page then shows the outcome
"Paying own rent for six months" as recorded. Then the outcome appears in the partnership's
management information, suppressed until enough claimants share it: the partnership analyst,
under `evaluation`, sees Lee's outcome as "Not shown" on /mi (one claimant); once seven more
claimants have paid their own rent for six months (arranged through the API), the same page
publishes a rounded count. Pages get the accessibility and reflow checks."""

from __future__ import annotations

import uuid
from typing import Any

from flask.testing import FlaskClient
from playwright.sync_api import expect

from caseshare.runtime import Runtime
from caseshare.subjects.service import add_case_member
from tests.builders import consent, register
from tests.conftest import COACH, HOUSING, Clock, Demo
from tests.mi_builders import add_analyst
from tests.web.browser import (
    checked,
    fill_date,
    open_claimant,
    sign_in,
)

OWN_RENT = "Paying their own rent for six consecutive months"
MONTHS = ("2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10")
TS = "tenancy_sustainment"


def _more_claimants_paying_own_rent(client: FlaskClient, auth: Any, rt: Runtime, clock: Clock,
                                    n: int) -> None:
    """The arrange step for the published count: `n` more claimants, each registered and
    consenting through the API, with the council on their case, a tenancy and the same six
    months of rent paid in full (so each gets the computed outcome, as Lee did)."""
    coach, housing = auth(COACH), auth(HOUSING)
    for i in range(n):
        subject = register(client, coach, given_name=f"Claimant{chr(65 + i)}",
                           nino=f"QQ 70 00 0{i} A")
        consent(client, coach, subject, clock.now)
        with rt.session_factory() as s:
            add_case_member(s, subject_id=uuid.UUID(subject), org="derby-housing", now=clock.now)
            s.commit()
        r = client.post(f"/api/v1/subjects/{subject}/records?purpose={TS}", headers=housing,
                        json={"kind": "tenancy", "data": {
                            "landlord_type": "social", "rent_pence": 42000,
                            "rent_frequency": "monthly", "paid_by": "claimant",
                            "start_on": "2025-09-01"}})
        assert r.status_code == 201, r.json
        snapshots = f"/api/v1/subjects/{subject}/records/{r.json['id']}/snapshots?purpose={TS}"
        for month in MONTHS:
            r = client.post(snapshots, headers=housing, json={
                "month": month, "rent_due_pence": 42000, "rent_paid_pence": 42000,
                "arrears_pence": 0, "paid_by": "claimant"})
            assert r.status_code == 201, r.json
        assert [o["code"] for o in r.json["outcomes"]] == ["paying_own_rent_6m"]


def _show_mi(page: Any, live_url: str) -> Any:
    """Open /mi, ask for May to November by partner, and return the paying-own-rent row of the
    council (the partner that recorded every tenancy)."""
    page.goto(f"{live_url}/mi")
    expect(page.locator("h1")).to_have_text("Outcomes for the partnership")
    page.locator("#from").fill("2026-05-01")
    page.locator("#to").fill("2026-11-23")
    page.locator("#by").check()  # the first grouping: partner organisation
    page.get_by_role("button", name="Show outcomes").click()
    expect(page.get_by_test_id("mi-table")).to_be_visible()
    row = page.get_by_test_id("mi-table").locator("tbody tr").filter(
        has=page.locator("th", has_text="derby-housing")).filter(has_text=OWN_RENT)
    expect(row).to_have_count(1)
    return row


def test_housing_officer_records_tenancy_apa_and_six_months_and_sees_the_outcome(
    live_url: str, browser_page: Any, demo: Demo, client: FlaskClient, auth: Any, rt: Runtime,
    clock: Clock
) -> None:
    page = browser_page
    page.set_viewport_size({"width": 320, "height": 800})
    sign_in(page, live_url, HOUSING, "tenancy_sustainment")
    open_claimant(page, "QQ123456C", "Lee Marsh")
    page.get_by_test_id("housing-money").click()
    expect(page.locator("h1")).to_have_text("Housing and money")
    checked(page)

    page.get_by_role("link", name="Add a tenancy").click()
    expect(page.locator("#landlord_type")).to_be_visible()
    page.locator("#landlord_type").select_option("council")
    page.locator("#rent").fill("450.00")
    page.locator("#rent_frequency").select_option("monthly")
    page.locator("#paid_by").select_option("claimant")
    fill_date(page, "start_on", "1", "4", "2025")
    checked(page)
    page.get_by_test_id("save-record").click()
    expect(page.locator("h1")).to_have_text("Tenancy")
    tenancy_url = page.url

    page.get_by_role("link", name="Housing and money").click()
    page.get_by_role("link", name="Add a new APA").click()
    expect(page.locator("#trigger")).to_be_visible()
    page.locator("#trigger").select_option("rent_arrears")
    page.locator("#type").select_option("managed_payment")
    fill_date(page, "identified_on", "5", "1", "2026")
    page.get_by_test_id("save-record").click()
    expect(page.get_by_test_id("step-identified")).to_contain_text("5 January 2026")
    for step in ("Requested", "Dwp decision", "In place"):
        page.get_by_test_id("next-status").click()
        expect(page.get_by_test_id(f"step-{step.lower().replace(' ', '_')}")).not_to_contain_text(
            "not yet")
    expect(page.get_by_test_id("next-status")).to_have_count(0)
    checked(page)

    page.goto(tenancy_url)
    expect(page.get_by_test_id("no-outcomes")).to_be_visible()
    for month in MONTHS:
        page.locator("#month").fill(month)
        page.locator("#rent_due").fill("450.00")
        page.locator("#rent_paid").fill("450.00")
        page.locator("#arrears").fill("0.00")
        page.locator("#paid_by").select_option("claimant")
        page.get_by_test_id("add-month-button").click()
        expect(page.get_by_test_id("months")).to_contain_text(month)
    expect(page.get_by_test_id("outcomes")).to_contain_text(
        "Paying own rent for six months: achieved 31 October 2026")
    checked(page)

    # The partnership analyst sees Lee's outcome counted but not shown: one claimant.
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, live_url, add_analyst(rt), "evaluation")
    row = _show_mi(page, live_url)
    expect(row.get_by_test_id("suppressed")).to_have_text("Not shown")
    checked(page)

    # Seven more claimants reach it: eight in all, published rounded to the nearest 5.
    _more_claimants_paying_own_rent(client, auth, rt, clock, 7)
    row = _show_mi(page, live_url)
    expect(row.get_by_test_id("suppressed")).to_have_count(0)
    expect(row.locator("td").last).to_have_text("10")
    checked(page)
