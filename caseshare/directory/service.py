"""Directory use cases on a session (they never commit): replace the directory with a feed,
reporting what changed; search services; read one service.

The directory holds no claimant data: these functions take and return only services and
organisations."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from hashlib import sha256
from typing import Any

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.orm import Session

from caseshare.audit import service as audit
from caseshare.audit.event_types import EventType
from caseshare.directory import postcodes
from caseshare.directory.models import (
    DirectoryLocation,
    DirectoryOrganisation,
    DirectoryService,
    DirectoryServiceDistrict,
    DirectoryServiceTaxonomy,
)
from caseshare.directory.oruk import Feed, OrganisationRecord, ServiceRecord
from caseshare.directory.taxonomy import VOCABULARY

CHILDREN = (DirectoryLocation, DirectoryServiceTaxonomy, DirectoryServiceDistrict)


@dataclass
class Changes:
    """What an import changed, by id."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


@dataclass
class ImportReport:
    services: Changes
    organisations: Changes

    @property
    def changed(self) -> bool:
        return self.services.changed or self.organisations.changed


def import_feed(session: Session, feed: Feed, *, now: datetime,
                source: str | None = None) -> ImportReport:
    """Replace the directory with the feed (`replace_all`) and, when anything changed, write
    an audit event saying what (ids and counts only; the directory holds no claimant data).
    Importing the same feed again changes nothing and writes nothing."""
    report = replace_all(session, feed)
    if report.changed:
        audit.record(session, type=EventType.DIRECTORY_FEED_IMPORT, now=now, details={
            "source": source, "services": _summary(report.services),
            "organisations": _summary(report.organisations)})
    return report


def report_lines(report: ImportReport) -> list[str]:
    """What an import did, for an operator: counts, then the ids added, updated and removed."""
    if not report.changed:
        return [f"directory: unchanged ({report.services.unchanged} services, "
                f"{report.organisations.unchanged} organisations): nothing to import"]
    lines = []
    for kind, changes in (("services", report.services),
                          ("organisations", report.organisations)):
        lines.append(f"{kind}: {len(changes.added)} added, {len(changes.updated)} updated, "
                     f"{len(changes.removed)} removed, {changes.unchanged} unchanged")
        lines += [f"  {what} {ident}" for what, ids in (("added", changes.added),
                                                       ("updated", changes.updated),
                                                       ("removed", changes.removed))
                  for ident in ids]
    return lines


def _summary(changes: Changes) -> dict[str, Any]:
    return {"added": changes.added, "updated": changes.updated, "removed": changes.removed,
            "unchanged": changes.unchanged}


def replace_all(session: Session, feed: Feed) -> ImportReport:
    """Make the directory what the feed says: add, update and remove services and
    organisations so that each matches its record (a record whose fingerprint is unchanged is
    left alone, so importing the same feed twice changes nothing)."""
    orgs = Changes()
    have_orgs = dict(session.execute(select(DirectoryOrganisation.id,
                                            DirectoryOrganisation.fingerprint)).all())
    for org in feed.organisations:
        _put_organisation(session, org, have_orgs.get(org.id), orgs)
    services = Changes()
    have = dict(session.execute(select(DirectoryService.id,
                                       DirectoryService.fingerprint)).all())
    wanted = {s.id for s in feed.services}
    services.removed = sorted(set(have) - wanted)
    _delete_services(session, services.removed)
    org_prints = {o.id: o.fingerprint for o in feed.organisations}
    for record in feed.services:
        # A service's search text holds its organisation's names: a renamed organisation
        # updates its services too.
        fingerprint = sha256(f"{record.fingerprint}:{org_prints[record.organization_id]}"
                             .encode()).hexdigest()
        _put_service(session, record, fingerprint, have.get(record.id), services)
    session.flush()
    orgs.removed = sorted(set(have_orgs) - {o.id for o in feed.organisations})
    if orgs.removed:
        session.execute(delete(DirectoryOrganisation)
                        .where(DirectoryOrganisation.id.in_(orgs.removed)))
    return ImportReport(services, orgs)


def _put_organisation(session: Session, org: OrganisationRecord, had: str | None,
                      changes: Changes) -> None:
    if had == org.fingerprint:
        changes.unchanged += 1
        return
    (changes.added if had is None else changes.updated).append(org.id)
    session.merge(DirectoryOrganisation(
        id=org.id, name=org.name, name_cy=org.name_cy, description=org.description,
        url=org.url, email=org.email, party_id=org.party_id, fingerprint=org.fingerprint))


def _put_service(session: Session, record: ServiceRecord, fingerprint: str, had: str | None,
                 changes: Changes) -> None:
    if had == fingerprint:
        changes.unchanged += 1
        return
    if had is None:
        changes.added.append(record.id)
    else:
        changes.updated.append(record.id)
        for table in CHILDREN:
            session.execute(delete(table).where(table.service_id == record.id))
    session.merge(DirectoryService(
        id=record.id, organization_id=record.organization_id, name=record.name,
        name_cy=record.name_cy, description=record.description, url=record.url,
        email=record.email, status=record.status, sort_key=fold(record.name),
        search_text="", eligibility=record.eligibility, contacts=record.contacts,
        regular_schedules=record.regular_schedules, service_areas=record.service_areas,
        fingerprint=fingerprint))
    session.flush()
    org = session.get(DirectoryOrganisation, record.organization_id)
    assert org is not None
    service = session.get(DirectoryService, record.id)
    assert service is not None
    service.search_text = fold(" ".join(n for n in (record.name, record.name_cy, org.name,
                                                    org.name_cy) if n))
    session.add_all([DirectoryLocation(service_id=record.id, **loc.__dict__)
                     for loc in record.locations])
    session.add_all([DirectoryServiceTaxonomy(service_id=record.id, vocabulary=vocab,
                                              term_id=term, name=name)
                     for vocab, term, name in record.taxonomy])
    session.add_all([DirectoryServiceDistrict(service_id=record.id, district=d)
                     for d in record.districts])


def _delete_services(session: Session, ids: Sequence[str]) -> None:
    if not ids:
        return
    for table in CHILDREN:
        session.execute(delete(table).where(table.service_id.in_(ids)))
    session.execute(delete(DirectoryService).where(DirectoryService.id.in_(ids)))


def fold(text: str) -> str:
    """Case-folded, single-spaced: how names are compared and sorted."""
    return " ".join(text.casefold().split())


@dataclass(frozen=True)
class Query:
    """A search: every given filter must match. `postcode` is a full postcode or a district."""

    service_line: str | None = None
    postcode: str | None = None
    q: str | None = None
    after: tuple[str, str] | None = None  # (sort_key, id) of the last row of the page before
    limit: int = 50


@dataclass(frozen=True)
class ServiceView:
    """A service as search and pages show it."""

    id: str
    name: str
    name_cy: str | None
    description: str | None
    url: str | None
    email: str | None
    status: str
    organisation_id: str
    organisation_name: str
    organisation_name_cy: str | None
    party_id: str | None
    service_lines: list[str]
    service_areas: list[dict[str, Any]]
    contacts: list[dict[str, Any]]
    eligibility: list[dict[str, Any]]
    regular_schedules: list[dict[str, Any]]
    locations: list[dict[str, Any]]
    sort_key: str


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search(session: Session, query: Query) -> list[ServiceView]:
    """Active services matching the query, by name, at most `limit` + 1 (the extra row says
    there is another page). A postcode matches services with a location in its district or a
    service area covering the district or its whole area; `q` matches the service's name, its
    Welsh name or its organisation's name, anywhere, ignoring case."""
    s = DirectoryService
    statement = select(s.id).where(s.status == "active")
    if query.service_line:
        statement = statement.where(s.id.in_(
            select(DirectoryServiceTaxonomy.service_id).where(
                DirectoryServiceTaxonomy.vocabulary == VOCABULARY,
                DirectoryServiceTaxonomy.term_id == query.service_line)))
    if query.postcode:
        district = postcodes.district(query.postcode) or "-"
        statement = statement.where(s.id.in_(
            select(DirectoryServiceDistrict.service_id).where(
                DirectoryServiceDistrict.district.in_([district, postcodes.area(district)]))))
    if query.q:
        statement = statement.where(s.search_text.like(f"%{_escape_like(fold(query.q))}%",
                                                       escape="\\"))
    if query.after:
        key, last = query.after
        statement = statement.where(or_(s.sort_key > key, and_(s.sort_key == key, s.id > last)))
    ids = list(session.scalars(statement.order_by(s.sort_key, s.id).limit(query.limit + 1)))
    return views(session, ids)


def views(session: Session, ids: Sequence[str]) -> list[ServiceView]:
    """These services (in this order; unknown ids left out), with their organisation,
    service lines and locations: four statements whatever the number."""
    if not ids:
        return []
    rows = session.execute(select(DirectoryService, DirectoryOrganisation)
                           .join(DirectoryOrganisation)
                           .where(DirectoryService.id.in_(ids))).all()
    lines: dict[str, list[str]] = {}
    for sid, term in session.execute(
            select(DirectoryServiceTaxonomy.service_id, DirectoryServiceTaxonomy.term_id)
            .where(DirectoryServiceTaxonomy.service_id.in_(ids),
                   DirectoryServiceTaxonomy.vocabulary == VOCABULARY)
            .order_by(DirectoryServiceTaxonomy.term_id)):
        lines.setdefault(sid, []).append(term)
    places: dict[str, list[dict[str, Any]]] = {}
    for loc in session.scalars(select(DirectoryLocation)
                               .where(DirectoryLocation.service_id.in_(ids))
                               .order_by(DirectoryLocation.id)):
        places.setdefault(loc.service_id, []).append(
            {"name": loc.name, "address": loc.address, "postcode": loc.postcode})
    by_id = {svc.id: ServiceView(
        id=svc.id, name=svc.name, name_cy=svc.name_cy, description=svc.description,
        url=svc.url, email=svc.email, status=svc.status, organisation_id=org.id,
        organisation_name=org.name, organisation_name_cy=org.name_cy, party_id=org.party_id,
        service_lines=lines.get(svc.id, []), service_areas=svc.service_areas,
        contacts=svc.contacts, eligibility=svc.eligibility,
        regular_schedules=svc.regular_schedules, locations=places.get(svc.id, []),
        sort_key=svc.sort_key) for svc, org in rows}
    return [by_id[i] for i in ids if i in by_id]


def get(session: Session, service_id: str) -> ServiceView | None:
    found = views(session, [service_id])
    return found[0] if found else None
