"""Read an Open Referral UK feed: validate it against the JSON Schema shipped beside this
module (feed.schema.json) and the rules a schema cannot say (unique ids, known service lines,
known protocol parties, one version of each organisation, real postcodes), then normalise each
service into the plain records `service.replace_all` stores. Pure: no database.

Every problem names the record (the service's id, or its position when it has none) and the
field (a dotted path inside the record), so an operator can find it in the file."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from caseshare.directory import postcodes
from caseshare.directory.taxonomy import SERVICE_LINES, VOCABULARY

SCHEMA_PATH = Path(__file__).with_name("feed.schema.json")
# The demo partnership's directory: services in Derby and Carmarthenshire (fictional contacts).
DEMO_FEED = Path(__file__).with_name("demo-feed.json")
PARTY_SCHEME = "caseshare_party"  # organization_identifiers scheme naming a protocol party


class FeedError(Exception):
    """The feed is invalid: `problems` lists each one (record and field named)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class OrganisationRecord:
    id: str
    name: str
    name_cy: str | None
    description: str | None
    url: str | None
    email: str | None
    party_id: str | None

    @property
    def fingerprint(self) -> str:
        return _fingerprint(self.__dict__)


@dataclass(frozen=True)
class LocationRecord:
    id: str
    name: str | None
    address: str | None
    postcode: str | None
    postcode_district: str | None


@dataclass(frozen=True)
class ServiceRecord:
    id: str
    organization_id: str
    name: str
    name_cy: str | None
    description: str | None
    url: str | None
    email: str | None
    status: str
    eligibility: list[dict[str, Any]]
    contacts: list[dict[str, Any]]
    regular_schedules: list[dict[str, Any]]
    service_areas: list[dict[str, Any]]
    locations: list[LocationRecord]
    taxonomy: list[tuple[str, str, str]]  # (vocabulary, term id, name)
    districts: list[str] = field(default_factory=list)

    @property
    def fingerprint(self) -> str:
        return _fingerprint({**self.__dict__,
                             "locations": [loc.__dict__ for loc in self.locations]})

    @property
    def service_lines(self) -> list[str]:
        return sorted(term for vocab, term, _name in self.taxonomy if vocab == VOCABULARY)


@dataclass(frozen=True)
class Feed:
    organisations: list[OrganisationRecord]
    services: list[ServiceRecord]


def _fingerprint(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


@cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text()))


def load_file(path: Path, parties: Iterable[str]) -> Feed:
    """Read and check a feed file (see `parse`)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FeedError([f"{path.name}: not a readable JSON file ({exc})"]) from exc
    return parse(data, parties)


def parse(data: Any, parties: Iterable[str]) -> Feed:
    """A checked, normalised feed, or FeedError listing every problem. `parties` are the
    protocol party ids an organisation may map to."""
    problems = _schema_problems(data)
    if problems:
        raise FeedError(problems)
    known = set(parties)
    services: list[ServiceRecord] = []
    organisations: dict[str, OrganisationRecord] = {}
    org_source: dict[str, str] = {}
    seen: set[str] = set()
    for position, raw in enumerate(data["content"]):
        where = _record(raw, position)
        if raw["id"] in seen:
            problems.append(f"{where}: id: the service id appears more than once")
        seen.add(raw["id"])
        org, org_problems = _organisation(raw["organization"], known)
        problems += [f"{where}: {p}" for p in org_problems]
        if org.id in organisations and organisations[org.id] != org:
            problems.append(f"{where}: organization: organisation {org.id!r} differs from its "
                            f"record in {org_source[org.id]}")
        organisations.setdefault(org.id, org)
        org_source.setdefault(org.id, where)
        service, service_problems = _service(raw)
        problems += [f"{where}: {p}" for p in service_problems]
        services.append(service)
    if problems:
        raise FeedError(problems)
    return Feed(sorted(organisations.values(), key=lambda o: o.id),
                sorted(services, key=lambda s: s.id))


def _record(raw: Any, position: int) -> str:
    sid = raw.get("id") if isinstance(raw, dict) else None
    label = f"service {sid!r} " if isinstance(sid, str) else "service "
    return f"{label}(record {position + 1})"


def _schema_problems(data: Any) -> list[str]:
    problems = []
    for error in sorted(_validator().iter_errors(data), key=lambda e: list(e.absolute_path)):
        path = list(error.absolute_path)
        if len(path) >= 2 and path[0] == "content" and isinstance(path[1], int):
            raw = data["content"][path[1]]
            where, inner = _record(raw, path[1]), path[2:]
        else:
            where, inner = "feed", path
        names = [*inner, *_named_field(error)]
        dotted = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in names)
        problems.append(f"{where}: {dotted.replace('.[', '[') or '(the whole record)'}: "
                        f"{_message(error)}")
    return problems


def _named_field(error: jsonschema.ValidationError) -> list[str]:
    """The field a `required` or `additionalProperties` error is about (the error's own path
    is the object holding it)."""
    if error.validator == "required":
        return [str(error.message.split("'")[1])]
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        return sorted(k for k in error.instance if k not in allowed)[:1]
    return []


def _message(error: jsonschema.ValidationError) -> str:
    if error.validator == "required":
        return "is required"
    if error.validator == "additionalProperties":
        return "unknown field"
    return error.message if len(error.message) < 200 else error.message[:200] + "..."


def _organisation(raw: dict[str, Any], parties: set[str]) -> tuple[OrganisationRecord,
                                                                    list[str]]:
    problems = []
    named = [i for i, ident in enumerate(raw.get("organization_identifiers", []))
             if ident["identifier_scheme"] == PARTY_SCHEME]
    party_id = None
    if len(named) > 1:
        problems.append("organization.organization_identifiers: more than one "
                        f"{PARTY_SCHEME} identifier")
    elif named:
        party_id = raw["organization_identifiers"][named[0]]["identifier"]
        if party_id not in parties:
            problems.append(f"organization.organization_identifiers[{named[0]}].identifier: "
                            f"{party_id!r} is not a party to any protocol")
    return OrganisationRecord(
        id=raw["id"], name=raw["name"], name_cy=raw.get("name_cy"),
        description=raw.get("description"), url=raw.get("url"), email=raw.get("email"),
        party_id=party_id), problems


def _service(raw: dict[str, Any]) -> tuple[ServiceRecord, list[str]]:
    problems: list[str] = []
    locations = [_location(i, sal, problems)
                 for i, sal in enumerate(raw.get("service_at_locations", []))]
    areas = [_area(i, area, problems) for i, area in enumerate(raw.get("service_areas", []))]
    taxonomy = []
    for i, link in enumerate(raw.get("service_taxonomys", [])):
        term = link["taxonomy"]
        if term["vocabulary"] == VOCABULARY and term["id"] not in SERVICE_LINES:
            problems.append(f"service_taxonomys[{i}].taxonomy.id: {term['id']!r} is not an "
                            f"LSSF service line ({', '.join(SERVICE_LINES)})")
        taxonomy.append((term["vocabulary"], term["id"], term["name"]))
    if len({(v, t) for v, t, _n in taxonomy}) != len(taxonomy):
        problems.append("service_taxonomys: a taxonomy term appears more than once")
    if len({loc.id for loc in locations}) != len(locations):
        problems.append("service_at_locations: a location appears more than once")
    districts = sorted({loc.postcode_district for loc in locations if loc.postcode_district}
                       | {d for area in areas for d in area["postcode_districts"]})
    return ServiceRecord(
        id=raw["id"], organization_id=raw["organization"]["id"], name=raw["name"],
        name_cy=raw.get("name_cy"), description=raw.get("description"), url=raw.get("url"),
        email=raw.get("email"), status=raw["status"],
        eligibility=[_eligibility(e) for e in raw.get("eligibilitys", [])],
        contacts=[_contact(c) for c in raw.get("contacts", [])],
        regular_schedules=[{k: s.get(k) for k in ("byday", "opens_at", "closes_at",
                                                  "description")}
                           for s in raw.get("regular_schedules", [])],
        service_areas=areas, locations=locations, taxonomy=sorted(taxonomy),
        districts=districts), problems


def _location(i: int, raw: dict[str, Any], problems: list[str]) -> LocationRecord:
    location = raw["location"]
    addresses = location.get("physical_addresses", [])
    postcode = district = address = None
    if addresses:
        given = addresses[0]["postal_code"]
        postcode = postcodes.normalise(given)
        if postcode is None:
            problems.append(f"service_at_locations[{i}].location.physical_addresses[0]."
                            f"postal_code: {given!r} is not a UK postcode")
        else:
            district = postcodes.district(postcode)
        address = ", ".join(addresses[0][k] for k in ("address_1", "city")
                            if addresses[0].get(k)) or None
    return LocationRecord(id=location["id"], name=location.get("name"), address=address,
                          postcode=postcode, postcode_district=district)


def _area(i: int, raw: dict[str, Any], problems: list[str]) -> dict[str, Any]:
    districts = []
    for j, value in enumerate(raw.get("postcode_districts", [])):
        if not postcodes.is_district_or_area(value):
            problems.append(f"service_areas[{i}].postcode_districts[{j}]: {value!r} is not a "
                            "postcode district or area")
        else:
            districts.append(value.strip().upper())
    return {"service_area": raw["service_area"], "postcode_districts": sorted(districts)}


def _eligibility(raw: dict[str, Any]) -> dict[str, Any]:
    return {k: raw.get(k) for k in ("eligibility", "minimum_age", "maximum_age")}


def _contact(raw: dict[str, Any]) -> dict[str, Any]:
    return {"name": raw.get("name"), "title": raw.get("title"), "email": raw.get("email"),
            "phones": [p["number"] for p in raw.get("phones", [])]}
