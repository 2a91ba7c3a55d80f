"""Registering and finding claimants: sealed identity, blind-index NINO search, relationship."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from caseshare.runtime import Runtime
from tests.audit_helpers import events
from tests.conftest import ADVISER, COACH, HOUSING, Demo


@pytest.mark.parametrize("nino", ["QQ123456C", "qq 12 34 56 c"])
def test_nino_search_finds_only_claimants_the_org_works_with(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime, nino: str
) -> None:
    r = client.get("/api/v1/subjects", query_string={"nino": nino, "purpose": "case_management"},
                   headers=auth(COACH))
    assert r.status_code == 200
    assert [i["id"] for i in r.json["items"]] == [str(demo.lee)]
    # Citizens Advice is not involved in Lee's case: the same search finds nothing.
    other = client.get("/api/v1/subjects",
                       query_string={"nino": nino, "purpose": "budgeting_support"},
                       headers=auth(ADVISER))
    assert other.status_code == 200 and other.json["items"] == []
    event = events(rt, type="subject:search:nino")[-1]
    assert nino.upper().replace(" ", "") not in repr(event.details)


def test_invalid_nino_is_422(client: FlaskClient, auth: Any, demo: Demo) -> None:
    r = client.get("/api/v1/subjects", query_string={"nino": "DQ123456Z",
                                                     "purpose": "case_management"},
                   headers=auth(COACH))
    assert r.status_code == 422 and "nino" in r.json["errors"]


def test_register_then_read_identity_as_lead_and_as_partner(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    r = client.post("/api/v1/subjects?purpose=case_management", headers=auth(COACH), json={
        "given_name": "Rhys", "family_name": "Evans", "date_of_birth": "1979-06-30",
        "nino": "QQ112233A", "postcode": "DE1 1AB", "jurisdiction": "england"})
    assert r.status_code == 201, r.json
    assert r.json["given_name"] == "Rhys" and r.json["lead_org"] == "jcp-derby"
    created = events(rt, type="subject:record:create")[-1]
    assert str(created.subject_id) == r.json["id"] and "Rhys" not in repr(created.details)

    lee = client.get(f"/api/v1/subjects/{demo.lee}?purpose=tenancy_sustainment",
                     headers=auth(HOUSING))
    assert lee.status_code == 200
    assert lee.json["family_name"] == "Marsh" and lee.json["withheld"] == []
    # Housing has no relationship with the new claimant: 404, not 403.
    new = client.get(f"/api/v1/subjects/{r.json['id']}?purpose=tenancy_sustainment",
                     headers=auth(HOUSING))
    assert new.status_code == 404


def test_timestamps_are_rfc3339_utc_with_z(client: FlaskClient, auth: Any, demo: Demo) -> None:
    r = client.get(f"/api/v1/subjects/{demo.lee}/consents?purpose=case_management",
                   headers=auth(COACH))
    item = r.json["items"][0]
    for key in ("captured_at", "valid_from", "expires_at"):
        assert item[key].endswith("Z") and "+00:00" not in item[key], (key, item[key])
