"""A 12-year-old consents for themselves in Scotland, but needs a recorded Gillick competence
assessment in England and Wales; online, 13 everywhere; in Scotland a parent no longer consents
for a 16-year-old (through the API, both engines; the clock is 23 November 2026)."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from caseshare.runtime import Runtime
from tests.builders import CONSENTS, assert_problem, consent_body, consent_state, register
from tests.conftest import COACH, Demo

TWELVE = "2014-05-01"
SIXTEEN = "2010-05-01"
GILLICK = {"competent": True, "assessed_by": "S. Okafor", "assessed_on": "2026-11-23"}
PARENT = {"type": "parental_responsibility", "name": "A. Parent",
          "authority_ref": "Mother, birth certificate seen"}


def _child(client: FlaskClient, auth: Any, born: str, jurisdiction: str) -> str:
    return str(register(client, auth(COACH), born=born, jurisdiction=jurisdiction, nino=None,
                        postcode=None))


def test_a_twelve_year_old_in_scotland_consents_for_themselves(
        client: FlaskClient, auth: Any, demo: Demo) -> None:
    child = _child(client, auth, TWELVE, "scotland")
    r = client.post(CONSENTS.format(child), json=consent_body(), headers=auth(COACH))
    assert r.status_code == 201, r.json
    assert r.json["competence"] == {"competent": True, "presumed": True,
                                    "basis": "DPA 2018 s.208 (Scotland, 12+)"}


@pytest.mark.parametrize("jurisdiction", ["england", "wales"])
def test_a_twelve_year_old_in_england_or_wales_needs_a_gillick_assessment(
        jurisdiction: str, client: FlaskClient, auth: Any, demo: Demo, rt: Runtime) -> None:
    child = _child(client, auth, TWELVE, jurisdiction)
    before = consent_state(rt)
    refused = client.post(CONSENTS.format(child), json=consent_body(), headers=auth(COACH))
    assert_problem(refused, 422, "competence")
    assert "Gillick" in str(refused.json["errors"]["competence"])
    assert consent_state(rt) == before
    assessed = client.post(CONSENTS.format(child), headers=auth(COACH),
                           json=consent_body(competence=GILLICK))
    assert assessed.status_code == 201, assessed.json
    assert assessed.json["competence"]["presumed"] is False


def test_a_twelve_year_olds_own_consent_online_is_refused_even_in_scotland(
        client: FlaskClient, auth: Any, demo: Demo, rt: Runtime) -> None:
    child = _child(client, auth, TWELVE, "scotland")
    before = consent_state(rt)
    r = client.post(CONSENTS.format(child), headers=auth(COACH),
                    json=consent_body(method="online", evidence_ref="WEB-2026-1123"))
    assert_problem(r, 422, "method")
    assert consent_state(rt) == before


@pytest.mark.parametrize(("jurisdiction", "status"), [("scotland", 422), ("england", 201)])
def test_a_parent_consents_for_a_sixteen_year_old_only_outside_scotland(
        jurisdiction: str, status: int, client: FlaskClient, auth: Any, demo: Demo) -> None:
    child = _child(client, auth, SIXTEEN, jurisdiction)
    r = client.post(CONSENTS.format(child), headers=auth(COACH),
                    json=consent_body(given_by=PARENT))
    if status == 201:
        assert r.status_code == 201, r.json
    else:
        assert_problem(r, 422, "given_by.type")
