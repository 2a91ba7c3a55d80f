"""Case conferences on a session: record one (attendees, minutes sealed per category, the plan
actions its decisions became), find them, and open a minute. Never commits; the access layer
decides who may write and read what (caseshare/access/conferences.py).

A minute is sealed under the subject's data key with a FieldRef naming the conference and the
category, so a minute copied to another conference, category or subject fails to open. Its
words are the recording organisation's (`Conference.recorded_org`), shared under its flows.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from caseshare.case_plan.models import PlanEntry
from caseshare.conferences.models import (
    Conference,
    ConferenceAttendee,
    ConferenceDecision,
    ConferenceMinute,
)
from caseshare.crypto.sealing import FieldRef, open_sealed, seal
from caseshare.facts import Principal
from caseshare.identity.models import StaffMember
from caseshare.policy.models import ProtocolSet


def minute_ref(subject_id: uuid.UUID, conference_id: uuid.UUID, category: str) -> FieldRef:
    return FieldRef(subject_id, "conference_minute", str(conference_id), "text", category)


@dataclass(frozen=True)
class Attendee:
    org: str
    staff_id: uuid.UUID | None = None


@dataclass
class ConferenceRecord:
    """A conference with its parts, as stored (minutes still sealed)."""

    conference: Conference
    attendees: list[ConferenceAttendee] = field(default_factory=list)
    minutes: list[ConferenceMinute] = field(default_factory=list)
    entry_ids: list[uuid.UUID] = field(default_factory=list)


def eligible_attendees(protocols: ProtocolSet, case_orgs: Iterable[str], today: date) -> set[str]:
    """The organisations that may be named at a claimant's conference: the case members, and
    the parties of every protocol in force that a case member is a party to (an organisation
    the partnership could bring in, such as a service the case is being referred to)."""
    members = set(case_orgs)
    eligible = set(members)
    for org in members:
        for protocol in protocols.for_party(org):
            if protocol.in_force(today):
                eligible |= {p.id for p in protocol.parties}
    return eligible


def staff_orgs(session: Session, staff_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Staff id -> organisation for the active staff members among `staff_ids`."""
    wanted = sorted(set(staff_ids), key=str)
    if not wanted:
        return {}
    rows = session.execute(select(StaffMember.id, StaffMember.org_id)
                           .where(StaffMember.id.in_(wanted), StaffMember.active.is_(True)))
    return {staff_id: org for staff_id, org in rows}


def staff_of(session: Session, orgs: Iterable[str]) -> dict[str, list[tuple[uuid.UUID, str]]]:
    """Org -> its active staff members as (id, name), by name: who may be named as attending."""
    out: dict[str, list[tuple[uuid.UUID, str]]] = {org: [] for org in orgs}
    if not out:
        return out
    rows = session.execute(select(StaffMember.id, StaffMember.name, StaffMember.org_id)
                           .where(StaffMember.org_id.in_(sorted(out)),
                                  StaffMember.active.is_(True))
                           .order_by(StaffMember.name))
    for staff_id, name, org in rows:
        out[org].append((staff_id, name))
    return out


def record_conference(session: Session, *, subject_id: uuid.UUID, held_on: date,
                      attendees: Sequence[Attendee], minutes: dict[str, str], data_key: bytes,
                      principal: Principal, purpose: str, now: datetime) -> Conference:
    """Store the conference, its attendees and its minutes (each sealed per category)."""
    conference = Conference(id=uuid.uuid4(), subject_id=subject_id, held_on=held_on,
                            recorded_at=now, recorded_by=principal.actor_uuid,
                            recorded_org=principal.org, recorded_purpose=purpose)
    session.add(conference)
    session.add_all(ConferenceAttendee(conference_id=conference.id, org_id=a.org,
                                       staff_id=a.staff_id) for a in attendees)
    session.add_all(
        ConferenceMinute(conference_id=conference.id, subject_id=subject_id, category=category,
                         text=seal(data_key, 1, minute_ref(subject_id, conference.id, category),
                                   text))
        for category, text in minutes.items())
    session.flush()
    return conference


def link_decision(session: Session, conference: Conference, entry_id: uuid.UUID) -> None:
    """Record that a decision of the conference became plan entry `entry_id`."""
    session.add(ConferenceDecision(conference_id=conference.id, entry_id=entry_id))
    session.flush()


def find_conference(session: Session, conference_id: uuid.UUID) -> Conference | None:
    return session.get(Conference, conference_id)


def conferences_of(session: Session, subject_id: uuid.UUID, limit: int) -> list[Conference]:
    """The subject's conferences, newest first (by the day held, then when recorded)."""
    return list(session.scalars(
        select(Conference).where(Conference.subject_id == subject_id)
        .order_by(Conference.held_on.desc(), Conference.recorded_at.desc(), Conference.id)
        .limit(limit)))


def count_conferences(session: Session, subject_id: uuid.UUID) -> int:
    return session.scalar(select(func.count()).select_from(Conference)
                          .where(Conference.subject_id == subject_id)) or 0


def with_parts(session: Session, conferences: Sequence[Conference]) -> list[ConferenceRecord]:
    """Each conference with its attendees, minutes and decisions: three statements in all."""
    records = {c.id: ConferenceRecord(c) for c in conferences}
    if not records:
        return []
    ids = list(records)
    for attendee in session.scalars(select(ConferenceAttendee)
                                    .where(ConferenceAttendee.conference_id.in_(ids))
                                    .order_by(ConferenceAttendee.org_id)):
        records[attendee.conference_id].attendees.append(attendee)
    for minute in session.scalars(select(ConferenceMinute)
                                  .where(ConferenceMinute.conference_id.in_(ids))
                                  .order_by(ConferenceMinute.category)):
        records[minute.conference_id].minutes.append(minute)
    for decision in session.scalars(select(ConferenceDecision)
                                    .where(ConferenceDecision.conference_id.in_(ids))):
        records[decision.conference_id].entry_ids.append(decision.entry_id)
    return [records[c.id] for c in conferences]


def entries_by_id(session: Session, entry_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, PlanEntry]:
    """The plan entries the conferences' decisions became, by id."""
    if not entry_ids:
        return {}
    return {e.id: e for e in session.scalars(select(PlanEntry)
                                             .where(PlanEntry.id.in_(set(entry_ids))))}


def open_minute(minute: ConferenceMinute, data_key: bytes | AESGCM) -> str:
    return open_sealed(data_key, minute_ref(minute.subject_id, minute.conference_id,
                                            minute.category), minute.text)
