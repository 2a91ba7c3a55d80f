"""Papers for the claimant through the Flask client: consents that read truthfully after a
partial withdrawal (the overview's consent table and the receipt), the receipt's order and a
contact for each organisation, the printable plan copy, and their Welsh versions."""

from __future__ import annotations

import html
import re
from typing import Any

from flask.testing import FlaskClient

from caseshare.runtime import Runtime
from tests.audit_helpers import events
from tests.builders import CONSENTS, consent_body, first_consent
from tests.conftest import COACH, HOUSING, Demo
from tests.web.test_i18n import welsh
from tests.web.test_pages import sign_in

RECEIPT = "/claimants/{}/consents/{}/receipt"


def _withdraw(client: FlaskClient, auth: Any, consent_id: str, scope: dict[str, Any]) -> None:
    r = client.post(f"/api/v1/consents/{consent_id}/withdrawal?purpose=case_management",
                    headers=auth(COACH), json={"channel": "phone", "scope": scope})
    assert r.status_code == 200, r.json


def _receiving(page: str) -> dict[str, str]:
    """org -> 'yes' / 'no' as the overview's consent table marks each recipient."""
    return dict(re.findall(r'data-org="([^"]+)" data-receiving="(yes|no)"', page))


def _text(fragment: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment))).strip()


def _article(page: str) -> str:
    """The claimant's document itself (not the staff tools around it), as text."""
    return _text(page[page.index("<article"):page.index("</article>")])


def _part(page: str, testid: str, end: str) -> str:
    """The text from the element marked `testid` to the next `end` tag."""
    start = page.index(f'data-testid="{testid}"')
    return _text(page[start:page.index(end, start)].split(">", 1)[1])


def _sections(page: str) -> dict[str, str]:
    """org -> the text of its part of the receipt's "who receives" list."""
    parts = re.findall(r'data-testid="receipt-recipient" data-org="([^"]+)">(.*?)</section>',
                       page, flags=re.S)
    return {org: _text(body) for org, body in parts}


def test_after_a_partial_withdrawal_the_table_and_receipt_say_who_still_receives_what(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    consent = str(first_consent(client, auth, demo.lee)["id"])
    _withdraw(client, auth, consent, {"recipients": ["derby-housing"]})
    _withdraw(client, auth, consent, {"recipients": ["recovery-partnership"],
                                      "categories": ["housing_tenancy"]})
    sign_in(client, COACH)

    overview = client.get(f"/claimants/{demo.lee}").get_data(as_text=True)
    assert _receiving(overview) == {"jcp-derby": "yes", "recovery-partnership": "yes",
                                    "derby-housing": "no"}
    table = _part(overview, "consents", "</table>")
    assert "Receives nothing now" in table and "Withdrawn on" in table
    assert re.search(r'<del>\s*Derby City Council Housing Options\s*</del>', overview)
    assert re.search(r'Withdrawn on [^:]+: <del>housing and tenancy</del>', overview)

    page = client.get(RECEIPT.format(demo.lee, consent)).get_data(as_text=True)
    sections = _sections(page)
    assert list(sections) == ["jcp-derby", "recovery-partnership"]  # housing is not receiving
    assert "Your housing and tenancy" in sections["jcp-derby"]
    recovery = sections["recovery-partnership"]
    assert "You withdrew on" in recovery and "Your housing and tenancy" in recovery
    assert recovery.index("You withdrew on") < recovery.index("Your housing and tenancy")
    stopped = _part(page, "receipt-stopped", "</ul>")
    assert stopped.startswith("Derby City Council Housing Options: you withdrew your consent")

    receipt = client.get(f"/api/v1/consents/{consent}/receipt?purpose=case_management",
                         headers=auth(COACH)).json
    controllers = {c["id"]: c for c in receipt["pii_controllers"]}
    assert controllers["derby-housing"]["receiving"] is False
    assert controllers["derby-housing"]["withdrawn"][0]["everything"] is True
    assert [w["categories"] for w in controllers["recovery-partnership"]["withdrawn"]] == [
        ["housing_tenancy"]]
    assert len(events(rt, type="consent:receipt:export", subject_id=demo.lee)) == 2


def test_receipt_leads_with_the_name_gives_contacts_and_ends_with_verification(
    client: FlaskClient, auth: Any, demo: Demo
) -> None:
    consent = first_consent(client, auth, demo.lee)
    sign_in(client, COACH)
    page = client.get(RECEIPT.format(demo.lee, consent["id"])).get_data(as_text=True)
    text = _article(page)

    assert text.startswith("Lee Marsh Your consent receipt")
    assert text.rstrip().endswith(consent["text_hash"])
    verification = _part(page, "receipt-verification", "</p>")
    assert consent["id"] in verification and "Form and version" in verification
    assert text.index(consent["id"]) > text.index("You can withdraw all or part")
    sections = _sections(page)
    assert set(sections) == {"jcp-derby", "recovery-partnership", "derby-housing"}
    # each organisation's contact comes from its protocol party (policies/*.yaml)
    assert "Phone: 01632 960 202" in sections["derby-housing"]
    assert "Email: hello@recovery-partnership.example" in sections["recovery-partnership"]
    assert "Address: Derby Jobcentre Plus, 1 Station Approach" in sections["jcp-derby"]
    for part in sections.values():
        assert "What they receive" in part and "Why" in part and "How to contact them" in part
    assert "To help you keep your home" in sections["derby-housing"]


def test_a_claimant_whose_consent_no_longer_reaches_the_viewer_is_explained(
    client: FlaskClient, auth: Any, demo: Demo
) -> None:
    consent = str(first_consent(client, auth, demo.lee)["id"])
    _withdraw(client, auth, consent, {"recipients": ["derby-housing"]})
    sign_in(client, HOUSING, "tenancy_sustainment")
    page = html.unescape(client.get(f"/claimants/{demo.lee}").get_data(as_text=True))

    assert "You can no longer see this claimant\u2019s details because the claimant has withdrawn" \
        " consent to share identity details with Derby City Council Housing Options." in page
    assert "Next step: Respect the claimant's decision." in page
    assert ">Claimant</h1>" not in page and "Claimant details withheld" in page
    for refused in ("Add an action", "request emergency access", "Make a referral",
                    "/withdraw"):
        assert refused not in page
    assert _receiving(page) == {"derby-housing": "no"}


def test_plan_copy_shows_only_what_the_caller_may_read_and_is_audited(
    client: FlaskClient, demo: Demo, rt: Runtime
) -> None:
    sign_in(client, HOUSING, "tenancy_sustainment")
    overview = client.get(f"/claimants/{demo.lee}").get_data(as_text=True)
    assert f'href="/claimants/{demo.lee}/plan/copy"' in overview
    before = len(events(rt, type="case_plan:plan:read", subject_id=demo.lee))

    page = client.get(f"/claimants/{demo.lee}/plan/copy").get_data(as_text=True)
    text = _article(page)
    assert text.startswith("Lee Marsh Your plan")
    orgs = re.findall(r'data-testid="plan-copy-org" data-org="([^"]+)"', page)
    assert orgs == sorted(orgs) and "derby-housing" in orgs
    assert "Agree a rent arrears repayment plan" in text and "5 December 2026" in text
    assert "Attend weekly alcohol recovery group" not in text  # treatment: withheld from housing
    assert "Other organisations supporting you may hold more" in text
    assert 'class="govuk-table cs-table--stack"' in page and 'data-label="By when"' in page
    reads = events(rt, type="case_plan:plan:read", subject_id=demo.lee)
    new = reads[before:]  # the read allowed (and the withheld categories denied), audited
    assert {e.purpose for e in new} == {"tenancy_sustainment"}
    assert {e.decision for e in new} == {"allow", "deny"}


def _english_left(text: str) -> list[str]:
    """Catalogue messages whose English (fixed parts of 4+ characters) shows in `text`."""
    found = []
    for english, cy in welsh().items():
        if not cy or cy == english:
            continue
        for part in re.split(r"%\(\w+\)s", english):
            part = part.strip(" .:,")
            if len(part) >= 4 and re.search(rf"(?<!\w){re.escape(part)}(?!\w)", text):
                found.append(english)
    return found


def test_welsh_papers_have_no_english_catalogue_strings(
    client: FlaskClient, auth: Any, demo: Demo
) -> None:
    consent = str(first_consent(client, auth, demo.lee)["id"])
    _withdraw(client, auth, consent, {"recipients": ["derby-housing"]})
    _withdraw(client, auth, consent, {"recipients": ["recovery-partnership"],
                                      "categories": ["housing_tenancy"]})
    sign_in(client, COACH)
    receipt = client.get(RECEIPT.format(demo.lee, consent) + "?lang=cy").get_data(as_text=True)
    copy = client.get(f"/claimants/{demo.lee}/plan/copy?lang=cy").get_data(as_text=True)

    for page, heading in ((receipt, "Eich derbynneb caniatâd"), (copy, "Eich cynllun")):
        assert '<article class="cs-document" lang="cy"' in page
        text = _article(page)
        assert heading in text
        assert _english_left(text) == []
    assert "Fe wnaethoch ei dynnu'n ôl ar" in _article(receipt) and "Ffôn:" in receipt
    assert "Sefydliadau nad ydynt yn cael eich gwybodaeth bellach" in _article(receipt)
    english = client.get(f"/claimants/{demo.lee}/plan/copy?lang=en").get_data(as_text=True)
    assert _english_left(_article(english))  # the check does find English where it is


def test_a_refusal_is_not_shown_as_sharing(client: FlaskClient, auth: Any, demo: Demo) -> None:
    made = client.post(CONSENTS.format(demo.kerry), headers=auth(COACH),
                       json=consent_body(decision="refused", recipients=["ca-derby"],
                                         purposes=["budgeting_support"],
                                         categories=["finances"]))
    assert made.status_code == 201, made.json
    sign_in(client, COACH)
    overview = client.get(f"/claimants/{demo.kerry}").get_data(as_text=True)
    assert "The claimant said no to sharing with:" in overview
    page = client.get(RECEIPT.format(demo.kerry, made.json["id"])).get_data(as_text=True)
    text = _article(page)
    assert "You said no to sharing this information" in text
    assert "Who receives your information" not in text and "What they receive" not in text
