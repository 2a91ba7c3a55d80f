"""Welsh consent pages and receipts name organisations, purposes and categories as the
protocol names them in Welsh (Flask client, both engines): a Carmarthenshire housing officer,
on the partnership's own bilingual form (consent_forms/carmarthenshire-support.v1.yaml), for a
claimant registered in Wales."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from caseshare.identity.passwords import set_password
from caseshare.identity.service import add_or_update_staff
from caseshare.runtime import Runtime
from tests.builders import register
from tests.conftest import Demo
from tests.web.browser import PASSWORD
from tests.web.test_pages import sign_in, token

WALES_HOUSING = "eleri.morgan@carmarthenshire-housing.example"
WELSH_PARTIES = {
    "carmarthenshire-housing": "Gwasanaethau Tai Cyngor Sir Caerfyrddin",
    "tywi-recovery": "Gwasanaeth Adferiad Tywi",
}


def welsh_claimant(client: FlaskClient, rt: Runtime, auth: Any) -> str:
    """The Carmarthenshire housing officer (signed in) and a claimant she registered in Wales."""
    with rt.session_factory() as s:
        staff = add_or_update_staff(s, protocols=rt.protocols, email=WALES_HOUSING,
                                    name="Eleri Morgan", org="carmarthenshire-housing",
                                    roles=["housing_officer"], now=rt.now())
        set_password(staff, PASSWORD)
        s.commit()
    subject = register(client, auth(WALES_HOUSING), given_name="Rhys", family_name="Thomas",
                       nino="AB 65 43 21 D", postcode="SA31 1LE", jurisdiction="wales")
    sign_in(client, WALES_HOUSING)
    return subject


def text(resp: Any) -> str:
    return str(resp.get_data(as_text=True))


def test_the_welsh_consent_page_names_the_options_in_welsh_with_english_beside(
        client: FlaskClient, rt: Runtime, auth: Any, demo: Demo) -> None:
    subject = welsh_claimant(client, rt, auth)
    page = text(client.get(f"/claimants/{subject}/consents/new?lang=cy"))
    for welsh in [*WELSH_PARTIES.values(), "Cadw&#39;r hawlydd yn ei gartref",
                  "Tenantiaeth, cyfrif rhent ac ôl-ddyledion"]:
        assert f'<span lang="cy">{welsh}</span>' in page
    # The staff member's English name is beside each, as a hint.
    assert "Tywi Recovery Service" in page and "Tenancy sustainment" in page
    english = text(client.get(f"/claimants/{subject}/consents/new?lang=en"))
    assert "Tywi Recovery Service" in english
    assert not any(welsh in english for welsh in WELSH_PARTIES.values())
    assert 'lang="cy">Cadw' not in english


def test_a_welsh_receipt_names_the_carmarthenshire_organisations_in_welsh(
        client: FlaskClient, rt: Runtime, auth: Any, demo: Demo) -> None:
    subject = welsh_claimant(client, rt, auth)
    path = f"/claimants/{subject}/consents/new?lang=cy"
    sent = client.post(path, data={
        "csrf_token": token(client, path), "recipients": list(WELSH_PARTIES),
        "purposes": ["tenancy_sustainment"], "categories": ["housing_tenancy"],
        "given_by_type": "self", "method": "e_signature", "evidence_ref": "DOC-2026-41",
        "expires_at-day": "1", "expires_at-month": "5", "expires_at-year": "2027"})
    assert sent.status_code == 302, text(sent)
    check = sent.headers["Location"]
    done = client.post(check, data={"csrf_token": token(client, check)})
    assert done.status_code == 302 and "lang=cy" in done.headers["Location"]
    receipt = text(client.get(done.headers["Location"]))
    document = re.search(r'<article class="cs-document" lang="cy".*</article>', receipt, re.S)
    assert document is not None
    for org, welsh in WELSH_PARTIES.items():
        assert f'data-org="{org}"' in document.group(0)
        assert welsh in document.group(0)
    assert "Tywi Recovery Service" not in document.group(0)


def test_papers_name_a_code_without_our_words_as_the_protocol_does(app: Flask) -> None:
    """`evaluation` has no claimant words in the catalogue: the protocol's description is
    shown, not the bare code."""
    from caseshare.web.claimant_words import say
    from caseshare.web.i18n import use_language

    with app.test_request_context():
        use_language("cy")
        named = app.extensions["caseshare"].protocols.display_name("purpose", "evaluation", "cy")
        assert named and say("purpose", "evaluation") == named
        assert say("category", "no_such_category") == "no such category"
