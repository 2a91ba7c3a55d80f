"""The work coach triages Lee Marsh in Welsh on a phone-sized screen (320 CSS px), in a real
browser (Debian's Chromium): the questions and their furniture in Welsh, an error fixed, check
your answers, then the explained result in English with the proposals his consent allows. He
accepts the two the decision allows (an action on the plan, a referral to Derby Housing); the
budgeting referral to Citizens Advice is not offered, with the reason and the next step (Lee's
consent does not name Citizens Advice). Then the history with its chart and table. Every page
reflows at 320 px; the question, result and history pages get the accessibility check."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import COACH, Demo
from tests.web.browser import check_accessibility, open_claimant, sign_in
from tests.web.test_reflow import HEIGHT, WIDTH, assert_reflows

# Lee answers: every need is raised (money, getting online, housing, health).
CHOICES = [("manage_money", "struggle"), ("bank_account", "no"),
           ("priority_debts", "rent"), ("priority_debts", "energy"), ("get_online", "never"),
           ("online_forms", "no"), ("housing_situation", "private_rent")]
LATER = [("work", "not_ready"), ("health_affects", "mental_health")]


@pytest.fixture
def engine() -> str:
    return "sqlite"  # the pages do not depend on the engine; the use cases are tested on both


def _continue(page: Any) -> None:
    page.get_by_role("button", name="Parhau").click()
    page.wait_for_selector("h1")
    assert_reflows(page)


def test_work_coach_triages_in_welsh_and_accepts_what_consent_allows(
        live_url: str, browser_page: Any, demo: Demo) -> None:
    page = browser_page
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    sign_in(page, live_url, COACH, "triage")
    open_claimant(page, "QQ123456C", "Lee Marsh")
    page.get_by_role("link", name="Assess the claimant\u2019s needs").click()
    assert_reflows(page)
    page.get_by_label("Budgeting and digital support triage").check()
    page.get_by_label("Cymraeg (Welsh)").check()
    page.get_by_role("button", name="Start the assessment").click()

    # The first question, in Welsh; continuing without an answer names the problem in Welsh.
    page.wait_for_selector("h1")
    assert "Pa mor dda ydych chi'n rheoli eich arian" in page.locator("h1").inner_text()
    _continue(page)
    summary = page.locator(".govuk-error-summary")
    assert "Mae problem" in summary.inner_text() and "Dewiswch ateb" in summary.inner_text()
    check_accessibility(page)
    for name, value in CHOICES:
        if page.locator(f"input[name={name}][value={value}]").count() == 0:
            _continue(page)  # the question before is done: on to this one
        page.locator(f"input[name={name}][value={value}]").check()
    _continue(page)
    # The number question: a word is refused in Welsh and kept; a number goes on.
    page.locator("#rent_arrears_weeks").fill("chwech")
    _continue(page)
    assert "Rhowch rif, fel 3" in page.locator(".govuk-error-summary").inner_text()
    assert page.locator("#rent_arrears_weeks").input_value() == "chwech"
    check_accessibility(page)
    page.locator("#rent_arrears_weeks").fill("6")
    _continue(page)
    for name, value in LATER:
        page.locator(f"input[name={name}][value={value}]").check()
        _continue(page)

    # Check your answers, in Welsh, then record.
    assert "Gwiriwch yr atebion" in page.locator("h1").inner_text()
    assert "Nwy neu drydan" in page.get_by_test_id("check-answers").inner_text()
    page.get_by_role("button", name="Cofnodi\u2019r asesiad").click()

    # The explained result.
    page.wait_for_selector("h1")
    assert_reflows(page)
    assert page.locator("h1").inner_text() == "Assessment result"
    assert "Intensive support" in page.get_by_test_id("level").inner_text()
    assert "Their mental health makes day-to-day life harder" in page.get_by_test_id(
        "flags").inner_text()
    scores = page.get_by_test_id("scores").inner_text()
    assert "Managing money" in scores and "Yn dda" not in scores
    assert "Rwy'n cael trafferth bron bob mis" in scores  # what produced the money score
    check_accessibility(page)

    refused = page.get_by_test_id("proposal").filter(has_text="Citizens Advice Derby")
    assert refused.get_by_role("button", name="Accept").count() == 0
    words = refused.get_by_test_id("proposal-refused").inner_text()
    assert "Next step:" in words and "Citizens Advice Derby" in words

    digital = page.get_by_test_id("proposal").filter(has_text="assisted digital session")
    digital.get_by_role("button", name="Accept").click()
    page.wait_for_selector("[data-testid=accepted]")
    assert_reflows(page)
    assert "Action added to the shared plan" in page.get_by_test_id("accepted").inner_text()
    housing = page.get_by_test_id("proposal").filter(has_text="Derby Housing Options")
    housing.get_by_role("button", name="Accept").click()
    page.wait_for_selector("[data-testid=accepted]")
    assert "Referral made" in page.get_by_test_id("accepted").inner_text()
    assert page.get_by_test_id("proposal-accepted").count() == 2

    # The banner links to the referral; the history shows the assessment with its chart.
    page.get_by_role("link", name="See it in your organisation\u2019s referrals").click()
    page.wait_for_selector("h1")
    open_claimant(page, "QQ123456C", "Lee Marsh")
    page.get_by_role("link", name="their assessments").click()
    page.wait_for_selector("h1")
    assert_reflows(page)
    assert page.get_by_test_id("score-chart").get_attribute("aria-hidden") == "true"
    assert page.get_by_test_id("history-row").count() == 1
    check_accessibility(page)
