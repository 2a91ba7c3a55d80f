"""Every page at 320 CSS pixels without horizontal scrolling (WCAG 2.2, 1.4.10 Reflow), in a
real browser (Debian's Chromium) at a 320x640 viewport, as each kind of user in the demo story.

One test per kind of user, each visiting its pages in one browser context (the suite is near its
time budget). The pages are data: `PAGES` lists the paths each user visits, with `{name}` holes
filled from the demo story (`Story`); adding a page is one line. `test_every_page_is_listed`
checks, without a browser, that every GET page of the blueprint is in some list (or exempt, with
the reason), so a new page cannot be forgotten here.

Reflow does not depend on the database engine, so these run on SQLite only."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from caseshare.case_plan.models import PlanEntry, Referral
from caseshare.conferences.models import Conference
from caseshare.consent.models import Consent
from caseshare.overrides.models import OverrideRecord
from caseshare.runtime import Runtime
from caseshare.support_records.models import SupportRecord
from tests.conftest import COACH, HOUSING, KEY_WORKER, Clock
from tests.web.browser import check_accessibility, page_width, sign_in
from tests.web.test_ig_journey import sign_in_ig_first_time

WIDTH, HEIGHT = 320, 640

# The pages each kind of user visits, as paths with holes filled from `Story.holes()`. A path
# ending in " !" also gets the accessibility check (axe at 320 px; a few per user).
PAGES: dict[str, list[str]] = {
    "work_coach": [
        "/ !",
        "/find",
        "/find?nino=QQ123456C",
        "/find?nino=not-a-nino !",
        "/find?family_name=Marsh&given_name=&born-day=14&born-month=3&born-year=1987",
        "/claimants/{lee} !",
        "/claimants/{kerry}",
        "/claimants/{rhian}",
        "/claimants/{lee}/plan/entries/new",
        "/claimants/{lee}/plan/entries/{lee_employment_action}",
        "/claimants/{lee}/consents/new !",
        "/claimants/{lee}/consents/{lee_consent}/withdraw",
        "/claimants/{lee}/consents/{lee_consent}/receipt",
        "/claimants/{lee}/consents/{lee_consent}/receipt?lang=cy",
        "/claimants/{rhian}/consents/{rhian_consent}/receipt",
        "/claimants/{lee}/who-has-seen",
        "/claimants/{lee}/who-has-seen?lang=cy",
        "/claimants/{lee}/plan/copy",
        "/claimants/{lee}/plan/copy?lang=cy",
        "/claimants/{lee}/plan/start",
        "/claimants/{lee}/assessments",
        "/claimants/{lee}/assessments/new",
        "/claimants/{lee}/contact-preference",
        "/claimants/{lee}/case",
        "/claimants/{lee}/case/close",
        "/claimants/{lee}/case/reopen",
        "/notifications !",
        "/claimants/new !",
        "/claimants/{lee}/referrals/new",
        "/claimants/{lee}/referrals/new?service_id=ca-derby-budgeting",
        "/services?service_line=personal_budgeting_support&postcode=DE1+2FS&subject_id={lee} !",
        "/services?postcode=nowhere&q=food",
        "/referrals",
        "/referrals/{open_referral}",
        "/claimants/{lee}/emergency-access",
        "/purpose",
        "/claimants/{missing}",
        "/ig",
    ],
    "housing_officer": [
        "/",
        "/claimants/{lee} !",
        "/claimants/{lee}/plan/entries/new",
        "/claimants/{lee}/consents/new",
        "/claimants/{lee}/who-has-seen",
        "/referrals !",
        "/notifications",
        "/referrals/{open_referral}/decline",
        "/referrals/{accepted_referral} !",
        "/claimants/{kerry}/emergency-access !",
        "/purpose",
        "/claimants/{lee}/records !",
        "/claimants/{lee}/records/new/tenancy",
        "/claimants/{lee}/records/new/apa",
        "/claimants/{lee}/records/{lee_tenancy} !",
        "/claimants/{lee}/records/{lee_tenancy}/edit",
        "/claimants/{lee}/records/{lee_apa} !",
        "/claimants/{lee}/records/{lee_apa}/edit",
        "/claimants/{lee}/records/new/money_plan",
        "/mi",  # refused: no evaluation purpose (the analyst's page is in test_mi_pages.py)
    ],
    "key_worker": [
        "/",
        "/claimants/{lee} !",
        "/claimants/{lee}/plan/entries/new",
        "/claimants/{lee}/plan/entries/{lee_treatment_action} !",
        "/claimants/{lee}/conferences",
        "/claimants/{lee}/conferences/new !",
        "/claimants/{lee}/conferences/{lee_conference} !",
        "/claimants/{lee}/who-has-seen",
        "/referrals",
        "/purpose",
    ],
    "analyst": [
        "/mi !",
        "/mi?from=2026-01-01&to=2026-12-31&by=month&compare_from=2025-01-01&compare_to=2025-12-31",
        "/mi?from=2026-02-31&by=service_line !",
        "/mi/funding !",
        "/mi/funding?from=not-a-date&to= !",
    ],
    "ig_officer": [
        "/ig !",
        "/ig/audit",
        "/ig/audit?searched=1&subject={lee}&limit=50 !",
        "/ig/audit?searched=1&from-day=40&from-month=13&from-year=2026",
        "/ig/access-report",
        "/ig/access-report?claimant=nobody",
        "/ig/claimants/{lee}/access-report !",
        "/ig/unusual-access !",
        "/ig/subject-access-request",
        "/ig/subject-access-request?claimant={lee}",
        "/ig/overrides !",
        "/ig/overrides/{override} !",
        "/ig/outbox",
        "/ig/retention",
        "/ig/retention/holds",
        "/ig/retention/deleted",
        "/ig/claimants/{lee}/legal-hold",
        "/claimants/{lee}",
        "/purpose",
    ],
}

# A few of them again with JavaScript off (the service navigation has no Menu button then).
NO_SCRIPT_PAGES = ["/", "/claimants/{lee}", "/claimants/{lee}/consents/new",
                   "/claimants/{lee}/plan/entries/new"]

# GET pages with no place in the lists above, and why.
EXEMPT = {
    "web.static": "files, not pages",
    "web.ig_audit_csv": "a download", "web.ig_audit_json": "a download",
    "web.ig_access_report_csv": "a download", "web.ig_access_report_json": "a download",
    "web.ig_sar_download": "a download",
    "web.funding_csv": "a download", "web.funding_json": "a download",
    "web.mi_outcomes_csv": "a download", "web.mi_outcomes_json": "a download",
    "web.organisation_sign_in": "redirects to the organisation's identity provider",
    "web.organisation_callback": "the identity provider's return (its error is sign_in.html)",
    "web.sign_in": "visited by every test on the way in",
    "web.enrol": "visited by the IG officer's first sign-in",
    # Steps that need what was typed on the step before (a draft in the session): the start
    # journey walks them at 320 px with JavaScript off (tests/web/test_start_journey.py).
    "web.check_registration": "needs a registration draft",
    "web.claimant_registered": "reached only by registering",
    "web.check_consent": "needs a consent draft",
    # The assessment's steps need a draft or a recorded triage: the assessment journey walks
    # them at 320 px (tests/web/test_assessment_journey.py).
    "web.assessment_question": "needs an assessment draft",
    "web.check_assessment": "needs an assessment draft",
    "web.assessment_result": "needs a recorded assessment",
}


# Typed text with no place to break (a pasted reference, an address, a link) must wrap too.
LONG_WORDS_ENTRY = {
    "kind": "action", "category": "employment",
    "title": "Upload-the-signed-copy-of-the-TenancyAgreementAndRentStatementToTheCouncilPortal",
    "detail": ("Send to housing.options.rent-arrears-team@derby-city-council-housing.example "
               "via https://portal.derby-housing.example/documents/upload?reference="
               "HOU-2026-00042-ARREARS-REPAYMENT-PLAN-SIGNED-COPY"),
    "owner_name": "Samuel-Oluwaseun Okafor-Whitfield-Montgomery-Fitzgerald",
}


@dataclass(frozen=True)
class Story:
    """Ids from the demo story that the page paths need."""

    claimants: dict[str, uuid.UUID]
    rt: Runtime

    def holes(self) -> dict[str, str]:
        lee, rhian = self.claimants["lee"], self.claimants["rhian"]
        with self.rt.session_factory() as s:
            def first_consent(subject: uuid.UUID) -> uuid.UUID | None:
                return s.scalars(select(Consent.id).where(Consent.subject_id == subject)
                                 .order_by(Consent.captured_at)).first()

            def action(category: str) -> uuid.UUID | None:
                return s.scalars(select(PlanEntry.id).where(
                    PlanEntry.subject_id == lee, PlanEntry.kind == "action",
                    PlanEntry.category == category)).first()

            referral = s.scalars(select(Referral.id).where(
                Referral.status == "open", Referral.to_org == "derby-housing")).first()
            accepted = s.scalars(select(Referral.id).where(
                Referral.status == "accepted", Referral.to_org == "derby-housing")).first()
            override = s.scalars(select(OverrideRecord.id)).first()
            conference = s.scalars(select(Conference.id)
                                   .where(Conference.subject_id == lee)).first()
            records = {r.kind: r.id for r in s.scalars(select(SupportRecord).where(
                SupportRecord.subject_id == lee))}
            return {**{k: str(v) for k, v in self.claimants.items()},
                    "lee_tenancy": str(records.get("tenancy")),
                    "lee_apa": str(records.get("apa")),
                    "lee_consent": str(first_consent(lee)),
                    "rhian_consent": str(first_consent(rhian)),
                    "lee_employment_action": str(action("employment")),
                    "lee_treatment_action": str(action("substance_misuse")),
                    "open_referral": str(referral), "accepted_referral": str(accepted),
                    "override": str(override), "lee_conference": str(conference),
                    "missing": str(uuid.uuid4())}


@pytest.fixture
def engine() -> str:
    return "sqlite"


@pytest.fixture
def story(rt: Runtime, app: Flask, clock: Clock) -> Story:
    """The demo with its history (referrals, a partial withdrawal, overrides awaiting review),
    and one more referral to Derby Housing left open so its decline page has something."""
    from caseshare.demo import seed

    with rt.session_factory() as s:
        lines = list(seed(s, rt, history_days=6))
    ids = {line.split()[1].lower(): uuid.UUID(line.split()[3]) for line in lines
           if line.startswith("claimant:")}
    from tests.builders import refer
    from tests.conftest import issue_token

    client, coach = app.test_client(), {"Authorization": f"Bearer {issue_token(rt, COACH)}"}
    r = refer(client, coach, str(ids["lee"]), "derby-housing", "tenancy_sustainment", clock.now)
    assert r.status_code == 201, r.json
    r = client.post(f"/api/v1/subjects/{ids['lee']}/case-plan/entries?purpose=case_management",
                    headers=coach, json=LONG_WORDS_ENTRY)
    assert r.status_code == 201, r.json
    housing = {"Authorization": f"Bearer {issue_token(rt, HOUSING)}"}
    records = f"/api/v1/subjects/{ids['lee']}/records?purpose=tenancy_sustainment"
    tenancy = client.post(records, headers=housing, json={"kind": "tenancy", "data": {
        "landlord_type": "supported", "rent_pence": 123456, "rent_frequency": "four_weekly",
        "paid_by": "managed_payment", "start_on": "2025-04-01"}})
    assert tenancy.status_code == 201, tenancy.json
    r = client.post(f"/api/v1/subjects/{ids['lee']}/records/{tenancy.json['id']}/snapshots"
                    "?purpose=tenancy_sustainment", headers=housing, json={
                        "month": "2026-10", "rent_due_pence": 123456, "rent_paid_pence": 100000,
                        "arrears_pence": 23456, "paid_by": "managed_payment"})
    assert r.status_code == 201, r.json
    r = client.post(records, headers=housing, json={"kind": "apa", "data": {
        "trigger": "vulnerability", "type": "more_frequent_payments",
        "status": "identified", "status_dates": {"identified": "2026-10-02"}}})
    assert r.status_code == 201, r.json
    return Story(ids, rt)


@pytest.fixture
def phone(chromium: Any) -> Iterator[Any]:
    """A 320x640 page (bypass_csp only so axe-core can be injected, as in browser_page)."""
    context = chromium.new_context(bypass_csp=True, viewport={"width": WIDTH, "height": HEIGHT})
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        yield page
    finally:
        context.close()


OVERFLOWING = """w => [...document.querySelectorAll('body *')].filter(el => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.right > w + 0.5; })
  .filter(el => ![...el.children].some(c => c.getBoundingClientRect().right > w + 0.5))
  .slice(0, 8).map(el => el.tagName.toLowerCase()
    + (el.className && el.className.baseVal === undefined
       ? '.' + String(el.className).trim().split(/\\s+/).join('.') : '') + ' "'
    + (el.textContent || '').trim().slice(0, 40) + '"')"""


def assert_reflows(page: Any) -> None:
    """No horizontal scrolling at the viewport width; on failure, name the widest offenders."""
    scroll = page_width(page)
    if scroll > WIDTH:
        offenders = page.evaluate(OVERFLOWING, WIDTH)
        pytest.fail(f"{page.url} is {scroll}px wide at {WIDTH}px: {offenders}")


def visit(page: Any, base: str, paths: list[str], holes: dict[str, str]) -> None:
    for entry in paths:
        path, check = entry.removesuffix(" !"), entry.endswith(" !")
        response = page.goto(base + path.format(**holes))
        assert response is not None and response.status < 500, (path, response)
        assert_reflows(page)
        if check:
            check_accessibility(page)


def sign_in_at_phone_width(page: Any, base: str, email: str, purpose: str) -> None:
    page.goto(f"{base}/sign-in")
    assert_reflows(page)
    sign_in(page, base, email, purpose)


def test_work_coach_pages_reflow(live_url: str, phone: Any, chromium: Any,
                                story: Story) -> None:
    holes = story.holes()
    sign_in_at_phone_width(phone, live_url, COACH, "case_management")
    visit(phone, live_url, PAGES["work_coach"], holes)
    check_without_javascript(chromium, live_url, holes)
    # The forms' error states, with long typed values kept.
    phone.goto(f"{live_url}/claimants/{holes['kerry']}/consents/new")
    phone.get_by_role("button", name="Continue").click()
    assert_reflows(phone)
    withdraw = f"{live_url}/claimants/{holes['rhian']}/consents/{holes['rhian_consent']}/withdraw"
    phone.goto(withdraw)
    phone.get_by_role("button", name="Withdraw consent").click()
    assert_reflows(phone)
    check_accessibility(phone)
    phone.locator("input[name=extent][value=all]").check()
    phone.locator("input[name=channel][value=phone]").check()
    phone.get_by_role("button", name="Withdraw consent").click()
    assert "withdrawn" in phone.locator("h1").inner_text().lower()
    assert_reflows(phone)


def test_analyst_pages_reflow(live_url: str, phone: Any, story: Story) -> None:
    from caseshare.demo_outcomes import ANALYST

    sign_in_at_phone_width(phone, live_url, ANALYST[0], "evaluation")
    visit(phone, live_url, PAGES["analyst"], story.holes())


def check_without_javascript(chromium: Any, base: str, holes: dict[str, str]) -> None:
    """Without the page script the service navigation shows every item (no Menu button) and
    the pages still reflow."""
    context = chromium.new_context(java_script_enabled=False,
                                   viewport={"width": WIDTH, "height": HEIGHT})
    try:
        page = context.new_page()
        sign_in_at_phone_width(page, base, COACH, "case_management")
        assert page.locator(".govuk-service-navigation__list").is_visible()
        visit(page, base, NO_SCRIPT_PAGES, holes)
    finally:
        context.close()


def test_housing_officer_pages_reflow(live_url: str, phone: Any, story: Story) -> None:
    holes = story.holes()
    sign_in_at_phone_width(phone, live_url, HOUSING, "tenancy_sustainment")
    visit(phone, live_url, PAGES["housing_officer"], holes)
    # Kerry is not in the council's case, so emergency access is not offered: the page says
    # why instead of showing the form, and that explanation must reflow too.
    phone.goto(f"{live_url}/claimants/{holes['kerry']}/emergency-access")
    assert phone.get_by_role("button", name="Request emergency access").count() == 0
    assert_reflows(phone)


def test_key_worker_pages_reflow(live_url: str, phone: Any, story: Story) -> None:
    holes = story.holes()
    sign_in_at_phone_width(phone, live_url, KEY_WORKER, "recovery_support")
    visit(phone, live_url, PAGES["key_worker"], holes)


def test_ig_officer_pages_reflow(live_url: str, phone: Any, story: Story, clock: Clock) -> None:
    holes = story.holes()
    phone.goto(f"{live_url}/sign-in")
    assert_reflows(phone)
    sign_in_ig_first_time(phone, live_url, clock)  # the second-factor enrolment page, checked
    visit(phone, live_url, PAGES["ig_officer"], holes)


def test_every_page_is_listed(app: Flask) -> None:
    """Every GET page of the blueprint is in a list above or exempt (no browser needed)."""
    adapter = app.url_map.bind("localhost")
    hole = str(uuid.uuid4())
    listed = set()
    for paths in PAGES.values():
        for entry in paths:
            path = entry.removesuffix(" !").split("?")[0]
            endpoint, _args = adapter.match(path.format_map(defaultdict(lambda: hole)),
                                            method="GET")
            listed.add(endpoint)
    pages = {rule.endpoint for rule in app.url_map.iter_rules()
             if rule.endpoint.startswith("web.") and "GET" in (rule.methods or ())}
    assert pages - listed - set(EXEMPT) == set()
