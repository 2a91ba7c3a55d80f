"""The directory's tables: organisations, their services, each service's locations and
taxonomy terms, and the postcode districts it serves (the search key).

What search filters on (status, service lines, postcode districts, names) has columns, tables
and indexes of its own; what a page shows of a service (its service lines and locations again,
service areas, contacts, eligibility, opening times) is also kept together as the service's
`card`, one JSON value, so a page of results is read in one statement. Every row carries the
`fingerprint` of the record it came from, so a re-import knows what changed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from caseshare.db import Base


class DirectoryOrganisation(Base):
    """An Open Referral UK organization. `party_id` is the protocol party it is (for example
    `ca-derby`), or None for an organisation outside every protocol (signposting only)."""

    __tablename__ = "directory_organisations"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_cy: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(500))
    email: Mapped[str | None] = mapped_column(String(200))
    party_id: Mapped[str | None] = mapped_column(String(64), index=True)
    fingerprint: Mapped[str] = mapped_column(String(64))


class DirectoryService(Base):
    """An Open Referral UK service. `search_text` is the folded names (service, Welsh name,
    organisation) that `q` matches; `sort_key` orders results and pages (folded name)."""

    __tablename__ = "directory_services"
    __table_args__ = (Index("ix_directory_services_status_sort", "status", "sort_key", "id"),)

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("directory_organisations.id"),
                                                 index=True)
    name: Mapped[str] = mapped_column(String(200))
    name_cy: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(500))
    email: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(32))
    sort_key: Mapped[str] = mapped_column(String(200))
    search_text: Mapped[str] = mapped_column(Text)
    # {service_lines, locations, service_areas, contacts, eligibility, regular_schedules}
    card: Mapped[dict[str, Any]]
    fingerprint: Mapped[str] = mapped_column(String(64))


class DirectoryLocation(Base):
    """Where a service is delivered (an Open Referral UK service_at_location's location), with
    the postcode and its district (the outward code, "DE1")."""

    __tablename__ = "directory_locations"

    service_id: Mapped[str] = mapped_column(ForeignKey("directory_services.id"),
                                            primary_key=True)
    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(500))
    postcode: Mapped[str | None] = mapped_column(String(10))
    postcode_district: Mapped[str | None] = mapped_column(String(4))


class DirectoryServiceTaxonomy(Base):
    """A taxonomy term a service carries (service_taxonomys): vocabulary `lssf` for the
    service lines; other vocabularies are kept as given."""

    __tablename__ = "directory_service_taxonomys"
    __table_args__ = (Index("ix_directory_service_taxonomys_term", "vocabulary", "term_id",
                            "service_id"),)

    service_id: Mapped[str] = mapped_column(ForeignKey("directory_services.id"),
                                            primary_key=True)
    vocabulary: Mapped[str] = mapped_column(String(64), primary_key=True)
    term_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class DirectoryServiceDistrict(Base):
    """A postcode district (or a whole postcode area, "DE") a service serves: its locations'
    districts and its service areas' districts. The search key for `postcode`."""

    __tablename__ = "directory_service_districts"
    __table_args__ = (Index("ix_directory_service_districts_district", "district",
                            "service_id"),)

    service_id: Mapped[str] = mapped_column(ForeignKey("directory_services.id"),
                                            primary_key=True)
    district: Mapped[str] = mapped_column(String(4), primary_key=True)
