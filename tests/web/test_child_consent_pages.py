"""A child's own consent refused under their jurisdiction's rules is explained on the page, at
"Who is giving consent", with every choice kept (Flask client, both engines)."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from tests.builders import register
from tests.conftest import COACH, Demo
from tests.web.test_consent_pages import CHOICES, text
from tests.web.test_pages import sign_in, token


def test_a_twelve_year_olds_consent_in_england_points_at_who_gives_consent(
        client: FlaskClient, auth: Any, demo: Demo) -> None:
    child = register(client, auth(COACH), born="2014-05-01", jurisdiction="england", nino=None,
                     postcode=None)
    sign_in(client, COACH)
    path = f"/claimants/{child}/consents/new"
    sent = client.post(path, data={"csrf_token": token(client, path), **CHOICES})
    check = sent.headers["Location"]
    refused = client.post(check, data={"csrf_token": token(client, check)})
    assert refused.status_code == 422
    page = text(refused)
    assert 'href="#given_by_type"' in page and "Gillick competence" in page
    assert 'value="DOC-77"' in page  # nothing typed is lost
