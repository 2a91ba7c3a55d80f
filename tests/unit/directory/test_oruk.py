"""Reading an Open Referral UK feed: the shipped demo feed is valid; each kind of error names
the record and the field; postcodes and service lines normalised."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from caseshare.directory import oruk, postcodes
from caseshare.directory.taxonomy import SERVICE_LINES

PARTIES = ["ca-derby", "derby-housing", "jcp-derby", "recovery-partnership",
           "carmarthenshire-housing", "jcp-south-west-wales", "tywi-recovery"]
DEMO: dict[str, Any] = json.loads(oruk.DEMO_FEED.read_text(encoding="utf-8"))


def test_the_demo_feed_is_valid_and_normalised() -> None:
    feed = oruk.load_file(oruk.DEMO_FEED, PARTIES)
    assert 30 <= len(feed.services) <= 35
    by_id = {s.id: s for s in feed.services}
    budgeting = by_id["ca-derby-budgeting"]
    assert budgeting.service_lines == ["basic_advice", "personal_budgeting_support"]
    assert budgeting.locations[0].postcode == "DE1 1HA"
    assert budgeting.locations[0].postcode_district == "DE1"
    assert {"DE1", "DE22"} <= set(budgeting.districts)
    orgs = {o.id: o for o in feed.organisations}
    assert orgs["ca-derby"].party_id == "ca-derby"
    assert orgs["derby-food-bank"].party_id is None  # outside every protocol
    assert orgs["tywi-recovery"].name_cy == "Gwasanaeth Adferiad Tywi"
    # Every service line is offered somewhere in the demo, in both areas' feeds.
    assert {line for s in feed.services for line in s.service_lines} == set(SERVICE_LINES)


def _broken(change: Callable[[dict[str, Any]], None]) -> list[str]:
    data = copy.deepcopy(DEMO)
    change(data)
    with pytest.raises(oruk.FeedError) as raised:
        oruk.parse(data, PARTIES)
    return raised.value.problems


def _service(data: dict[str, Any], index: int) -> dict[str, Any]:
    service: dict[str, Any] = data["content"][index]
    return service


@pytest.mark.parametrize(("change", "expected"), [
    (lambda d: _service(d, 0).pop("name"),
     "service 'ca-derby-budgeting' (record 1): name: is required"),
    (lambda d: _service(d, 1)["organization"].pop("name"),
     "service 'ca-derby-help-to-claim' (record 2): organization.name: is required"),
    (lambda d: _service(d, 2).update(status="open"),
     "service 'ca-derby-debt' (record 3): status: 'open' is not one of"),
    (lambda d: _service(d, 3).update(colour="red"),
     "service 'derby-housing-options' (record 4): colour: unknown field"),
    (lambda d: _service(d, 4)["contacts"][0]["phones"][0].update(number="ring us"),
     "service 'derby-housing-apa' (record 5): contacts[0].phones[0].number: 'ring us' does "
     "not match"),
    (lambda d: _service(d, 5)["regular_schedules"][0].update(opens_at="9am"),
     "service 'derby-housing-tenancy-support' (record 6): regular_schedules[0].opens_at: '9am' "
     "does not match"),
    (lambda d: _service(d, 6).update(email="not-an-email"),
     "service 'jcp-derby-work-coach' (record 7): email: 'not-an-email' does not match"),
    (lambda d: _service(d, 7).pop("id"), "service (record 8): id: is required"),
    (lambda d: d.pop("content"), "feed: content: is required"),
])
def test_schema_errors_name_the_record_and_the_field(change: Callable[[dict[str, Any]], None],
                                                     expected: str) -> None:
    problems = _broken(change)
    assert any(p.startswith(expected) for p in problems), problems


def _postcode(d: dict[str, Any]) -> None:
    _service(d, 2)["service_at_locations"][0]["location"]["physical_addresses"][0][
        "postal_code"] = "XX1"


@pytest.mark.parametrize(("change", "expected"), [
    (_postcode, "service 'ca-derby-debt' (record 3): service_at_locations[0].location."
                "physical_addresses[0].postal_code: 'XX1' is not a UK postcode"),
    (lambda d: _service(d, 3)["service_taxonomys"][0]["taxonomy"].update(id="knitting"),
     "service 'derby-housing-options' (record 4): service_taxonomys[0].taxonomy.id: "
     "'knitting' is not an LSSF service line"),
    (lambda d: _service(d, 5).update(id="derby-housing-apa"),
     "service 'derby-housing-apa' (record 6): id: the service id appears more than once"),
    (lambda d: _service(d, 24)["organization"]["organization_identifiers"][0].update(
        identifier="nobody"),
     "service 'tywi-recovery-support' (record 25): organization.organization_identifiers[0]."
     "identifier: 'nobody' is not a party to any protocol"),
    (lambda d: _service(d, 7)["organization"].update(name="Another name"),
     "service 'jcp-derby-online-account' (record 8): organization: organisation 'jcp-derby' "
     "differs from its record in service 'jcp-derby-work-coach' (record 7)"),
    (lambda d: _service(d, 8)["service_areas"][0].update(postcode_districts=["1DE"]),
     "service 'recovery-derby-treatment' (record 9): service_areas[0].postcode_districts[0]: "
     "'1DE' is not a postcode district or area"),
])
def test_rule_errors_name_the_record_and_the_field(change: Callable[[dict[str, Any]], None],
                                                   expected: str) -> None:
    [problem] = _broken(change)
    assert problem.startswith(expected), problem


def test_every_problem_is_reported_at_once() -> None:
    def two(d: dict[str, Any]) -> None:
        _service(d, 0).pop("name")
        _service(d, 9).update(status="closed")

    assert len(_broken(two)) == 2


def test_an_unreadable_file_is_a_feed_error(tmp_path: Path) -> None:
    bad = tmp_path / "feed.json"
    bad.write_text("{ not json")
    with pytest.raises(oruk.FeedError) as raised:
        oruk.load_file(bad, PARTIES)
    assert raised.value.problems[0].startswith("feed.json: not a readable JSON file")


@pytest.mark.parametrize(("given", "district", "area"), [
    ("DE1 2FS", "DE1", "DE"), ("de12fs", "DE1", "DE"), ("  sa31   1jp ", "SA31", "SA"),
    ("DE1", "DE1", "DE"), ("ec1a 1bb", "EC1A", "EC"), ("DE", None, None), ("nowhere", None, None),
])
def test_postcodes_to_districts(given: str, district: str | None, area: str | None) -> None:
    assert postcodes.district(given) == district
    if district:
        assert postcodes.area(district) == area
