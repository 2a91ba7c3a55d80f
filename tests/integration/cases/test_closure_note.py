"""Who reads the closure note: the words given for an "other" closure are administrative
words no agreement shares (sealed under `case_admin`), so only the organisation that closed
the case and the lead organisation see them on the claimant's page, not every case member."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import COACH, HOUSING, KEY_WORKER, Demo
from tests.web.test_pages import sign_in

CLOSURE = "/api/v1/subjects/{}/closure?purpose={}"
REOPENING = "/api/v1/subjects/{}/reopening?purpose={}"
COACH_WORDS = "Claimant moved to a scheme out of area"
HOUSING_WORDS = "Tenancy ended by mutual agreement"


def _page(app: Flask, email: str, purpose: str, demo: Demo) -> str:
    client: FlaskClient = app.test_client()
    sign_in(client, email, purpose)
    r = client.get(f"/claimants/{demo.lee}")
    assert r.status_code == 200
    return r.get_data(as_text=True)


def test_the_closure_note_is_for_the_closing_and_the_lead_organisation_only(
    app: Flask, client: FlaskClient, auth: Any, demo: Demo
) -> None:
    # The lead organisation (jcp-derby) closes: housing and recovery, case members, see the
    # reason code but not the words.
    r = client.post(CLOSURE.format(demo.lee, "case_management"), headers=auth(COACH),
                    json={"reason": "other", "note": COACH_WORDS})
    assert r.status_code == 200, r.json
    assert COACH_WORDS in _page(app, COACH, "case_management", demo)
    for email, purpose in ((HOUSING, "tenancy_sustainment"), (KEY_WORKER, "case_management")):
        page = _page(app, email, purpose, demo)
        assert "closed" in page.lower() and COACH_WORDS not in page
    # Housing closes it the second time: housing (closing) and jcp-derby (lead) read the note,
    # recovery does not.
    r = client.post(REOPENING.format(demo.lee, "case_management"), headers=auth(COACH))
    assert r.status_code == 200, r.json
    r = client.post(CLOSURE.format(demo.lee, "tenancy_sustainment"), headers=auth(HOUSING),
                    json={"reason": "other", "note": HOUSING_WORDS})
    assert r.status_code == 200, r.json
    assert HOUSING_WORDS in _page(app, HOUSING, "tenancy_sustainment", demo)
    assert HOUSING_WORDS in _page(app, COACH, "case_management", demo)
    assert HOUSING_WORDS not in _page(app, KEY_WORKER, "case_management", demo)
