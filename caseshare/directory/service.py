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

from sqlalchemy import and_, delete, exists, or_, select, text
from sqlalchemy.orm import Session

from caseshare.audit import service as audit
from caseshare.audit.event_types import EventType
from caseshare.db import Base
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
        analyse(session)
        audit.record(session, type=EventType.DIRECTORY_FEED_IMPORT, now=now, details={
            "source": source, "services": _summary(report.services),
            "organisations": _summary(report.organisations)})
    return report


def analyse(session: Session) -> None:
    """Refresh the query planner's statistics of the directory's tables after an import:
    without them SQLite walks every active service in name order to find the few of one
    postcode district (BENCHMARKS.md, "Directory search"); PostgreSQL would otherwise wait
    for autovacuum. Both allow ANALYZE inside the import's transaction."""
    for table in ("directory_organisations", "directory_services", "directory_locations",
                  "directory_service_taxonomys", "directory_service_districts"):
        session.execute(text(f"ANALYZE {table}"))


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
    orgs_by_id = {o.id: o for o in feed.organisations}
    session.flush()
    children: list[Base] = []
    for record in feed.services:
        # A service's search text holds its organisation's names: a renamed organisation
        # updates its services too.
        org = orgs_by_id[record.organization_id]
        fingerprint = sha256(f"{record.fingerprint}:{org.fingerprint}".encode()).hexdigest()
        children += _put_service(session, record, org, fingerprint, have.get(record.id),
                                 services)
    session.flush()  # the services first: their rows are what the children refer to
    session.add_all(children)
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


def _put_service(session: Session, record: ServiceRecord, org: OrganisationRecord,
                 fingerprint: str, had: str | None, changes: Changes) -> list[Base]:
    """Add or replace the service's row; returns its child rows, for the caller to add once
    every service row is written."""
    if had == fingerprint:
        changes.unchanged += 1
        return []
    row = DirectoryService(
        id=record.id, organization_id=record.organization_id, name=record.name,
        name_cy=record.name_cy, description=record.description, url=record.url,
        email=record.email, status=record.status, sort_key=fold(record.name),
        search_text=fold(" ".join(n for n in (record.name, record.name_cy, org.name,
                                              org.name_cy) if n)),
        card={"service_lines": record.service_lines,
              "locations": [{"name": loc.name, "address": loc.address,
                             "postcode": loc.postcode} for loc in record.locations],
              "service_areas": record.service_areas, "contacts": record.contacts,
              "eligibility": record.eligibility,
              "regular_schedules": record.regular_schedules},
        fingerprint=fingerprint)
    if had is None:
        changes.added.append(record.id)
        session.add(row)
    else:
        changes.updated.append(record.id)
        for table in CHILDREN:
            session.execute(delete(table).where(table.service_id == record.id))
        session.merge(row)
    return [*(DirectoryLocation(service_id=record.id, **loc.__dict__)
              for loc in record.locations),
            *(DirectoryServiceTaxonomy(service_id=record.id, vocabulary=vocab, term_id=term,
                                       name=name) for vocab, term, name in record.taxonomy),
            *(DirectoryServiceDistrict(service_id=record.id, district=d)
              for d in record.districts)]


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
    party_id: str | None = None  # only services of the organisation that is this protocol party
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
        # A lookup by primary key per candidate service, rather than a list of every service
        # of the line built first (thousands, for a common line).
        t = DirectoryServiceTaxonomy
        statement = statement.where(exists().where(
            t.service_id == s.id, t.vocabulary == VOCABULARY, t.term_id == query.service_line))
    if query.postcode:
        # The services of a district are few: read them first, so the search starts from
        # them rather than from every active service in name order.
        district = postcodes.district(query.postcode) or "-"
        near = list(session.scalars(
            select(DirectoryServiceDistrict.service_id).distinct().where(
                DirectoryServiceDistrict.district.in_([district, postcodes.area(district)]))))
        if not near:
            return []
        statement = statement.where(s.id.in_(near))
    if query.party_id:
        statement = statement.where(s.organization_id.in_(
            select(DirectoryOrganisation.id).where(
                DirectoryOrganisation.party_id == query.party_id)))
    if query.q:
        statement = statement.where(s.search_text.like(f"%{_escape_like(fold(query.q))}%",
                                                       escape="\\"))
    if query.after:
        key, last = query.after
        statement = statement.where(or_(s.sort_key > key, and_(s.sort_key == key, s.id > last)))
    ids = list(session.scalars(statement.order_by(s.sort_key, s.id).limit(query.limit + 1)))
    return views(session, ids)


def views(session: Session, ids: Sequence[str]) -> list[ServiceView]:
    """These services (in this order; unknown ids left out), with their organisation: one
    column statement whatever the number (the card holds the rest)."""
    if not ids:
        return []
    s, o = DirectoryService, DirectoryOrganisation
    rows = session.execute(
        select(s.id, s.name, s.name_cy, s.description, s.url, s.email, s.status, s.card,
               s.sort_key, o.id, o.name, o.name_cy, o.party_id)
        .join(o, o.id == s.organization_id).where(s.id.in_(ids))).all()
    by_id = {}
    for (sid, name, name_cy, description, url, email, status, card, sort_key, org_id,
         org_name, org_name_cy, party_id) in rows:
        by_id[sid] = ServiceView(
            id=sid, name=name, name_cy=name_cy, description=description, url=url, email=email,
            status=status, sort_key=sort_key, organisation_id=org_id,
            organisation_name=org_name, organisation_name_cy=org_name_cy, party_id=party_id,
            service_lines=card["service_lines"], locations=card["locations"],
            service_areas=card["service_areas"], contacts=card["contacts"],
            eligibility=card["eligibility"], regular_schedules=card["regular_schedules"])
    return [by_id[i] for i in ids if i in by_id]


def get(session: Session, service_id: str) -> ServiceView | None:
    found = views(session, [service_id])
    return found[0] if found else None
