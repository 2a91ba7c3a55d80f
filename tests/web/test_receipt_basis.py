"""The lawful basis and retention on the claimant's consent receipt (Flask client, both
engines): each recipient's Article 6 basis, Article 9 condition for special categories,
statutory function and "kept for N days", in English and Welsh, and in the receipt's JSON."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient

from caseshare.retention.schedule import DEFAULT_RETENTION_DAYS
from tests.builders import first_consent
from tests.conftest import COACH, Demo
from tests.web.test_pages import sign_in
from tests.web.test_papers_pages import RECEIPT, _sections


def test_receipt_says_why_the_law_allows_each_share_and_how_long_it_is_kept(
    client: FlaskClient, auth: Any, demo: Demo
) -> None:
    consent = first_consent(client, auth, demo.lee)
    body = client.get(f"/api/v1/consents/{consent['id']}/receipt?purpose=case_management",
                      headers=auth(COACH)).json
    controllers = {c["id"]: c for c in body["pii_controllers"]}
    jcp = controllers["jcp-derby"]["lawful_basis"]
    treatment = [b for b in jcp if "substance_misuse" in b["categories"]]
    assert treatment and treatment[0]["art9_condition"] == "Art 9(2)(a) explicit consent"
    assert treatment[0]["retention_days"] == 730
    assert "Welfare Reform Act 2012 s.14 claimant commitment" in treatment[0][
        "statutory_functions"]
    housing = controllers["derby-housing"]["lawful_basis"]
    # The Derby support flow states no retention: the default applies, and is said.
    assert housing and {b["retention_days"] for b in housing} == {DEFAULT_RETENTION_DAYS}
    assert all(b["art9_condition"] is None for b in housing)

    sign_in(client, COACH, "case_management")
    url = RECEIPT.format(demo.lee, consent["id"])
    sections = _sections(client.get(url).get_data(as_text=True))
    assert "For sensitive information (UK GDPR Article 9): Art 9(2)(a) explicit consent" in (
        sections["jcp-derby"])
    assert "Their legal duty or power: Welfare Reform Act 2012 s.14" in sections["jcp-derby"]
    assert re.search(r"How long they keep it.*730 days after your case closes or your consent "
                     r"ends, then it is deleted", sections["derby-housing"])

    welsh = _sections(client.get(url + "?lang=cy").get_data(as_text=True))
    assert "Am ba hyd y maent yn ei chadw" in welsh["derby-housing"]
    assert "730 diwrnod ar ôl i\u2019ch achos gau" in welsh["derby-housing"]
    assert "Erthygl 9 GDPR y DU" in welsh["jcp-derby"]

    printable = client.get(f"/api/v1/consents/{consent['id']}/receipt?purpose=case_management",
                           headers={**auth(COACH), "Accept": "text/html"}).get_data(as_text=True)
    assert "Kept for 730 days after the case closes or consent ends" in printable
    assert "UK GDPR Article 9" in printable
