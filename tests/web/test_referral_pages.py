"""The referral pages through the Flask client (both engines): the form offers only the
organisations a referral may lawfully go to for this claimant, explains the rest with the next
step and says what each could read; a refusal keeps everything typed; the boxes name the
claimant where the viewer may see identity (otherwise "a claimant", and why), the person who
sent it with their work e-mail, and the status history."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient

from caseshare.runtime import Runtime
from tests.audit_helpers import events
from tests.conftest import ADVISER, COACH, Demo
from tests.web.test_frontline_pages import post, refer_kerry, text
from tests.web.test_pages import sign_in


def _radio_values(page: str, name: str) -> set[str]:
    return set(re.findall(rf'name="{name}" type="radio" value="([^"]+)"', page))


def _cards(page: str) -> list[str]:
    return page.split('data-testid="referral"')[1:]


def test_the_form_offers_only_lawful_targets_and_explains_the_others(client: FlaskClient,
                                                                     rt: Runtime,
                                                                     demo: Demo) -> None:
    sign_in(client, COACH)
    resp = client.get(f"/claimants/{demo.kerry}/referrals/new")
    assert resp.status_code == 200
    page = text(resp)
    # Kerry's consent names only Jobcentre Plus and Citizens Advice, for case management and
    # budgeting support: the one lawful target is Citizens Advice, for those two purposes.
    assert _radio_values(page, "to_org") == {"ca-derby"}
    assert _radio_values(page, "purpose") == {"budgeting_support", "case_management"}
    offered = page[page.index('data-testid="not-offered"'):]
    assert ("Derby City Council Housing Options:</strong> The claimant's consent does not name "
            "Derby City Council Housing Options. Ask the claimant to add Derby City Council "
            "Housing Options to their consent") in offered
    assert "Ask the claimant to add Derby Recovery Partnership to their consent" in offered
    # Citizens Advice has no grant for tenancy sustainment: not a choice, so not explained.
    assert "tenancy" not in offered.split("</ul>")[0].lower()
    readable = page[page.index('data-testid="readable"'):page.index("Send referral")]
    assert 'class="govuk-table cs-table--stack"' in page
    assert 'data-label="It will be able to read"' in readable
    assert "Citizens Advice Derby" in readable and "Budgeting support" in readable
    assert "Derby City Council Housing Options" not in readable
    [asked] = [e for e in events(rt, type="access:decision:explain", subject_id=demo.kerry)
               if e.details["action"] == "refer"]
    assert asked.org == "jcp-derby"
    assert sorted(asked.details["allowed"]) == ["ca-derby/budgeting_support",
                                                "ca-derby/case_management"]
    assert "Kerry" not in str(asked.details)


def test_a_refusal_on_send_keeps_everything_typed(client: FlaskClient, rt: Runtime,
                                                  demo: Demo) -> None:
    sign_in(client, COACH)
    resp = refer_kerry(client, demo, to_org="derby-housing", purpose="case_management",
                       contact_name="Priya Sharma")
    assert resp.status_code == 403
    page = text(resp)
    assert 'href="#to_org"' in page
    assert "Ask the claimant to add Derby City Council Housing Options to their consent" in page
    assert "Kerry would like help with a budget around her UC payment date." in page
    assert 'value="Priya Sharma"' in page and 'value="10:30"' in page
    assert 'value="3"' in page and 'value="12"' in page and 'value="2026"' in page
    assert 'value="case_management" checked' in page  # the purpose chosen stays chosen
    [denied] = events(rt, type="referral:referral:create", decision="deny")
    assert denied.reasons == ["recipient_not_in_consent"]


def test_boxes_name_the_claimant_and_the_sender_with_the_history(app: Any, client: FlaskClient,
                                                                 rt: Runtime,
                                                                 demo: Demo) -> None:
    sign_in(client, COACH)
    assert refer_kerry(client, demo).status_code == 302
    referral_id = events(rt, type="referral:referral:create")[0].details["referral_id"]

    adviser = app.test_client()
    sign_in(adviser, ADVISER, "budgeting_support")
    [card] = _cards(text(adviser.get("/referrals")))
    claimant = card[card.index('data-testid="referral-claimant"'):]
    assert f'href="/claimants/{demo.kerry}">Kerry Dunn</a>' in claimant
    sender = card[card.index('data-testid="referral-sender"'):]
    assert "Sam Okafor, Derby Jobcentre Plus" in sender
    assert f'href="mailto:{COACH}"' in sender
    history = card[card.index('data-testid="referral-history"'):]
    assert 'govuk-table cs-table--stack' in card and 'data-label="What happened"' in card
    assert "Sent" in history and "Sam Okafor, Derby Jobcentre Plus" in history
    [read] = events(rt, type="referral:referral:read", subject_id=demo.kerry)
    assert read.details["claimant_named"] is True and "identity" in read.categories

    assert post(adviser, f"/referrals/{referral_id}/accept", {}, "/referrals").status_code == 302
    [sent] = _cards(text(client.get("/referrals?box=sent")))
    history = sent[sent.index('data-testid="referral-history"'):]
    assert "Accepted" in history and "Aisha Begum, Citizens Advice Derby" in history
    assert "Kerry Dunn" in sent
    overview = text(client.get(f"/claimants/{demo.kerry}"))
    table = overview[overview.index('data-testid="overview-referrals"'):]
    assert 'data-label="History"' in table and "Accepted" in table and "by Aisha Begum" in table
    assert f'href="mailto:{COACH}"' in table


def test_a_declined_referral_says_a_claimant_and_why(app: Any, client: FlaskClient,
                                                     rt: Runtime, demo: Demo) -> None:
    sign_in(client, COACH)
    refer_kerry(client, demo)
    referral_id = events(rt, type="referral:referral:create")[0].details["referral_id"]
    adviser = app.test_client()
    sign_in(adviser, ADVISER, "budgeting_support")
    # Citizens Advice already works with Kerry, so take it out of her case first: a declining
    # organisation that is no case member must not see who the claimant is.
    from caseshare.subjects.models import CaseMember

    with rt.session_factory() as s:
        s.query(CaseMember).filter_by(subject_id=demo.kerry, org_id="ca-derby").delete()
        s.commit()
    done = post(adviser, f"/referrals/{referral_id}/decline",
                {"reason": "Outside our area: she lives in South Derbyshire."})
    assert done.status_code == 302
    [card] = _cards(text(adviser.get("/referrals")))
    claimant = card[card.index('data-testid="referral-claimant"'):]
    assert "A claimant" in claimant and "Kerry Dunn" not in card
    assert "Citizens Advice Derby declined this referral" in claimant
    history = card[card.index('data-testid="referral-history"'):]
    assert "Declined: Outside our area" in history
    # The sender still sees its own claimant, and the reason.
    [sent] = _cards(text(client.get("/referrals?box=sent")))
    assert "Kerry Dunn" in sent and "Declined: Outside our area" in sent
