"""GET /services (the directory search) and `service_id` on POST /subjects/{id}/referrals."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from caseshare.runtime import Runtime
from caseshare.schemas.services import ServiceList
from tests.audit_helpers import events
from tests.builders import assert_problem, consent, register
from tests.conftest import COACH, IG, Clock

SERVICES = "/api/v1/services?purpose=case_management"


def _search(client: FlaskClient, headers: dict[str, str], query: str = "") -> Any:
    r = client.get(f"{SERVICES}&{query}", headers=headers)
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.json


def test_search_by_service_line_and_postcode_finds_budgeting_near_the_claimant(
    client: FlaskClient, auth: Any, rt: Runtime
) -> None:
    coach = auth(COACH)
    before = len(events(rt))
    body = _search(client, coach, "service_line=personal_budgeting_support&postcode=de1%202fs")
    # Built without the schema's dump (api/services.py), the body is the documented shape.
    assert ServiceList().validate(body) == {}
    ids = [s["id"] for s in body["items"]]
    # Derby's budgeting services (by location or service area, DE1 and the whole DE area),
    # never Carmarthenshire's; sorted by name.
    assert "ca-derby-budgeting" in ids and "midlands-money-line-phone" in ids
    assert "ca-carmarthenshire-money" not in ids
    names = [s["name"].casefold() for s in body["items"]]
    assert names == sorted(names)
    item = next(s for s in body["items"] if s["id"] == "ca-derby-budgeting")
    assert item["organisation"] == {"id": "ca-derby", "name": "Citizens Advice Derby",
                                    "name_cy": None, "party_id": "ca-derby"}
    assert item["service_lines"] == ["basic_advice", "personal_budgeting_support"]
    assert item["contacts"][0]["phones"] == ["01632 960 303"]
    assert item["eligibility"][0]["eligibility"] == "Adults living in Derby"
    assert "DE1" in item["service_areas"][0]["postcode_districts"]
    assert item["locations"][0]["postcode"] == "DE1 1HA"
    # The coach's organisation shares data with Citizens Advice Derby; not with a helpline
    # outside every protocol (signposting only).
    assert item["shares_data"] is True and "budgeting_support" in item["referral_purposes"]
    helpline = next(s for s in body["items"] if s["id"] == "midlands-money-line-phone")
    assert helpline["shares_data"] is False and helpline["organisation"]["party_id"] is None
    # No claimant data: a search writes no audit event.
    assert len(events(rt)) == before


def test_search_by_district_by_name_and_welsh_name(client: FlaskClient, auth: Any) -> None:
    coach = auth(COACH)
    sa31 = {s["id"] for s in _search(client, coach, "postcode=SA31")["items"]}
    assert "tywi-recovery-support" in sa31 and "ca-derby-budgeting" not in sa31
    food = {s["id"] for s in _search(client, coach, "q=FOOD%20Bank")["items"]}
    assert food == {"derby-food-bank-parcels", "carmarthen-food-bank-parcels"}
    welsh = _search(client, coach, "q=cyffuriau")["items"]
    assert [s["id"] for s in welsh] == ["tywi-recovery-support"]
    assert welsh[0]["name_cy"] == "Cymorth cyffuriau ac alcohol"
    # A wildcard in q is a literal character, not a pattern.
    assert _search(client, coach, "q=%25")["items"] == []


def test_inactive_services_are_not_found(client: FlaskClient, auth: Any) -> None:
    found = _search(client, auth(COACH), "q=job%20club")
    assert found["items"] == []


def test_pages_with_a_cursor_and_a_tampered_cursor_is_400(client: FlaskClient,
                                                          auth: Any) -> None:
    coach = auth(COACH)
    seen, cursor = [], None
    while True:
        body = _search(client, coach, "limit=7" + (f"&cursor={cursor}" if cursor else ""))
        seen += [s["id"] for s in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 30  # 31 in the feed, one temporarily closed
    r = client.get(f"{SERVICES}&cursor=not-a-cursor", headers=coach)
    assert_problem(r, 400, "cursor")


def test_bad_filters_are_422_naming_the_field(client: FlaskClient, auth: Any) -> None:
    coach = auth(COACH)
    assert_problem(client.get(f"{SERVICES}&service_line=knitting", headers=coach), 422,
                   "service_line")
    assert_problem(client.get(f"{SERVICES}&postcode=nowhere", headers=coach), 422, "postcode")
    assert_problem(client.get(f"{SERVICES}&q=a%00b", headers=coach), 422, "q")
    assert_problem(client.get("/api/v1/services", headers=coach), 422, "purpose")


def test_a_caller_without_front_line_scopes_is_refused_and_audited(
    client: FlaskClient, auth: Any, rt: Runtime
) -> None:
    r = client.get("/api/v1/services?purpose=audit", headers=auth(IG))
    assert_problem(r, 403, reason="insufficient_scope")
    assert events(rt, type="access:scope:deny")


REFERRALS = "/api/v1/subjects/{}/referrals?purpose=case_management"
BODY = {"purpose": "recovery_support", "message": "Would like help with alcohol use.",
        "contact_name": "Dan Whitfield"}


def _claimant(client: FlaskClient, auth: Any, clock: Clock) -> str:
    subject = register(client, auth(COACH))
    consent(client, auth(COACH), subject, clock.now)
    return subject


def test_a_referral_to_a_service_takes_its_organisation_and_records_the_service(
    client: FlaskClient, auth: Any, clock: Clock
) -> None:
    subject = _claimant(client, auth, clock)
    r = client.post(REFERRALS.format(subject), headers=auth(COACH),
                    json={**BODY, "service_id": "recovery-derby-treatment"})
    assert r.status_code == 201, r.get_data(as_text=True)
    assert r.json["to_org"] == "recovery-partnership"
    assert r.json["service_id"] == "recovery-derby-treatment"
    inbox = client.get("/api/v1/referrals?purpose=case_management&box=sent",
                       headers=auth(COACH)).json["items"]
    assert [i["service_id"] for i in inbox] == ["recovery-derby-treatment"]


def test_a_referral_to_a_service_with_its_organisation_named_is_accepted(
    client: FlaskClient, auth: Any, clock: Clock
) -> None:
    subject = _claimant(client, auth, clock)
    r = client.post(REFERRALS.format(subject), headers=auth(COACH),
                    json={**BODY, "to_org": "recovery-partnership",
                          "service_id": "recovery-derby-peer-mentoring"})
    assert r.status_code == 201, r.get_data(as_text=True)
    assert r.json["service_id"] == "recovery-derby-peer-mentoring"


def test_service_id_refusals_name_the_field(client: FlaskClient, auth: Any,
                                            clock: Clock) -> None:
    subject = _claimant(client, auth, clock)
    url = REFERRALS.format(subject)
    cases = [
        {**BODY, "service_id": "no-such-service"},  # unknown
        {**BODY, "service_id": "nul\x00"},  # unknown (and not text PostgreSQL can hold)
        {**BODY, "to_org": "derby-housing", "service_id": "recovery-derby-treatment"},  # other org
        {**BODY, "service_id": "derby-food-bank-parcels"},  # outside every protocol
        {**BODY, "service_id": "llanelli-job-club"},  # not active
    ]
    for body in cases:
        problem = assert_problem(client.post(url, headers=auth(COACH), json=body), 422,
                                 "service_id")
        assert "service_id" in problem["errors"], body
    # Without a service, to_org is still required.
    assert_problem(client.post(url, headers=auth(COACH), json=BODY), 422, "to_org")
