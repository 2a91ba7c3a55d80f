"""Referrals (warm handovers): recording, sealing, the recipient's inbox, accept and decline,
and the later steps of the lifecycle (booked, attended, did not attend, completed, withdrawn),
each kept as a `ReferralEvent` row from which the timeline is read.

Whether a referral may be made, and whether it still stands, is decided in caseshare.access;
this module only keeps the records.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from caseshare.case_plan import referral_steps
from caseshare.case_plan.conflicts import flush_or_conflict
from caseshare.case_plan.models import (
    SEALED_REFERRAL_EVENT_FIELDS,
    SEALED_REFERRAL_FIELDS,
    Referral,
    ReferralEvent,
)
from caseshare.crypto.sealing import FieldRef, open_sealed, seal
from caseshare.errors import BadCursorError, ConflictError
from caseshare.facts import Principal
from caseshare.identity.models import StaffMember

# The associated data names this record kind; a referral's text is not case-plan data of any
# protocol category, it is the handover itself.
REFERRAL_CATEGORY = "referral"


def referral_ref(referral: Referral, field: str) -> FieldRef:
    return FieldRef(referral.subject_id, "referral", str(referral.id), field, REFERRAL_CATEGORY)


def find_open_duplicate(session: Session, *, subject_id: uuid.UUID, to_org: str,
                        purpose: str) -> Referral | None:
    return session.scalar(select(Referral).where(
        Referral.subject_id == subject_id, Referral.to_org == to_org,
        Referral.purpose == purpose, Referral.status == "open"))


def create_referral(
    session: Session,
    *,
    subject_id: uuid.UUID,
    data_key: bytes,
    principal: Principal,
    values: dict[str, Any],
    protocol: str,
    flow_id: str,
    consent_id: uuid.UUID | None,
    now: datetime,
) -> Referral:
    if find_open_duplicate(session, subject_id=subject_id, to_org=values["to_org"],
                           purpose=values["purpose"]) is not None:
        raise ConflictError("An open referral to this organisation for this purpose exists.")
    referral = Referral(
        id=uuid.uuid4(), subject_id=subject_id, from_org=principal.org, to_org=values["to_org"],
        purpose=values["purpose"], status="open", appointment_at=values.get("appointment_at"),
        protocol=protocol, flow_id=flow_id, consent_id=consent_id, created_at=now,
        service_id=values.get("service_id"),
        created_by=principal.actor_uuid, suspended_reasons=[],
    )
    referral.message = seal(data_key, 1, referral_ref(referral, "message"), values["message"])
    referral.contact_name = seal(data_key, 1, referral_ref(referral, "contact_name"),
                                 values["contact_name"])
    session.add(referral)
    session.flush()
    add_event(session, referral, "created", at=now, actor_id=principal.actor_uuid,
              actor_org=principal.org)
    return referral


def event_ref(event: ReferralEvent, field: str) -> FieldRef:
    return FieldRef(event.subject_id, "referral_event", str(event.id), field, REFERRAL_CATEGORY)


def add_event(session: Session, referral: Referral, type: str, *, at: datetime,
              actor_id: uuid.UUID | None, actor_org: str | None,
              data_key: bytes | None = None, sealed: dict[str, str | None] | None = None,
              outcome: str | None = None, reasons: list[str] | None = None) -> ReferralEvent:
    """Record one step of the referral's history; its free text (note, appointment time as ISO
    text, location) sealed under the subject's data key."""
    session.flush()  # earlier events of this unit of work count
    seq = (session.scalar(select(func.max(ReferralEvent.seq))
                          .where(ReferralEvent.referral_id == referral.id)) or 0) + 1
    event = ReferralEvent(id=uuid.uuid4(), referral_id=referral.id, seq=seq,
                          subject_id=referral.subject_id, type=type, at=at, actor_id=actor_id,
                          actor_org=actor_org, outcome=outcome, reasons=list(reasons or []))
    for name, value in (sealed or {}).items():
        if value:
            assert data_key is not None and name in SEALED_REFERRAL_EVENT_FIELDS
            setattr(event, name, seal(data_key, 1, event_ref(event, name), value))
    session.add(event)
    return event


def find_referral(session: Session, referral_id: uuid.UUID) -> Referral | None:
    return session.get(Referral, referral_id)


def require_open(referral: Referral) -> None:
    if referral.status != "open":
        raise ConflictError(f"The referral is {referral.status}, not open.")


def _decided_meanwhile() -> ConflictError:
    return ConflictError("The referral was decided by someone else at the same moment.")


def accept(session: Session, referral: Referral, *, principal: Principal,
           now: datetime) -> None:
    require_open(referral)
    referral.status = "accepted"
    referral.decided_at = now
    referral.decided_by = principal.actor_uuid
    flush_or_conflict(session, _decided_meanwhile)
    add_event(session, referral, "accepted", at=now, actor_id=principal.actor_uuid,
              actor_org=principal.org)


def decline(session: Session, referral: Referral, *, data_key: bytes, principal: Principal,
            reason: str, now: datetime) -> None:
    require_open(referral)
    referral.status = "declined"
    referral.decided_at = now
    referral.decided_by = principal.actor_uuid
    referral.decline_reason = seal(data_key, 1, referral_ref(referral, "decline_reason"), reason)
    flush_or_conflict(session, _decided_meanwhile)
    add_event(session, referral, "declined", at=now, actor_id=principal.actor_uuid,
              actor_org=principal.org, data_key=data_key, sealed={"note": reason})


def suspend(session: Session, referral: Referral, *, reasons: list[str],
            now: datetime) -> None:
    """The basis it relied on is gone (consent withdrawn or expired): it can no longer be
    accepted, and its message is no longer shown."""
    decided = referral.status != "open"
    referral.status = "suspended"
    if not decided:
        referral.decided_at = now  # an accepted one keeps the moment it was accepted
    referral.suspended_reasons = sorted(set(reasons))
    flush_or_conflict(session, _decided_meanwhile)
    add_event(session, referral, "suspended", at=now, actor_id=None, actor_org=None,
              reasons=referral.suspended_reasons)


@dataclass(frozen=True)
class Step:
    """One lifecycle step as asked for: its type and, where it takes them, the appointment,
    place, outcome code and a note (validated by the caller)."""

    type: str
    appointment_at: datetime | None = None
    location: str | None = None
    outcome: str | None = None
    note: str | None = None


def require_may_follow(referral: Referral, step: str) -> None:
    """A step out of order (attended before booked, anything after completed): 409."""
    if not referral_steps.may_follow(step, referral.status):
        raise ConflictError(f"A referral that is {referral.status.replace('_', ' ')} cannot "
                            f"be {step.replace('_', ' ')} now.")


def record_step(session: Session, referral: Referral, step: Step, *, data_key: bytes,
                principal: Principal, now: datetime) -> ReferralEvent:
    """Move the referral on by one step (booked, attended, did_not_attend, completed,
    withdrawn) and record it; a step its status does not allow is a conflict (409)."""
    require_may_follow(referral, step.type)
    referral.status = step.type
    if step.type == "completed":
        referral.outcome = step.outcome
    flush_or_conflict(session, _decided_meanwhile)
    at = step.appointment_at.isoformat() if step.appointment_at else None
    return add_event(session, referral, step.type, at=now, actor_id=principal.actor_uuid,
                     actor_org=principal.org, data_key=data_key, outcome=step.outcome,
                     sealed={"note": step.note, "appointment_at": at,
                             "location": step.location})


def events_of(session: Session, referral_ids: list[uuid.UUID]) -> dict[uuid.UUID,
                                                                     list[ReferralEvent]]:
    """Referral id -> its events, oldest first (one statement for a page of referrals)."""
    out: dict[uuid.UUID, list[ReferralEvent]] = {}
    if not referral_ids:
        return out
    rows = session.scalars(select(ReferralEvent)
                           .where(ReferralEvent.referral_id.in_(sorted(set(referral_ids), key=str)))
                           .order_by(ReferralEvent.referral_id, ReferralEvent.seq))
    for event in rows:
        out.setdefault(event.referral_id, []).append(event)
    return out


def is_overdue(referral: Referral, now: datetime) -> bool:
    """Still not accepted or declined after its response standard."""
    return (referral.status == "open" and referral.respond_by is not None
            and now >= referral.respond_by)


def overdue_unnotified(session: Session, now: datetime, limit: int = 500) -> list[Referral]:
    """Open referrals past their response standard whose receiver has not been told yet."""
    return list(session.scalars(select(Referral).where(
        Referral.status == "open", Referral.respond_by <= now,
        Referral.overdue_notified_at.is_(None)).order_by(Referral.respond_by).limit(limit)))


def claim_overdue_notice(session: Session, referral_id: uuid.UUID, now: datetime) -> bool:
    """Mark the overdue notice sent; False when another worker already did (so it goes once)."""
    result = session.execute(update(Referral).where(
        Referral.id == referral_id, Referral.overdue_notified_at.is_(None))
        .values(overdue_notified_at=now).execution_options(synchronize_session=False))
    return bool(getattr(result, "rowcount", 0) == 1)


def open_referrals_of(session: Session, subject_id: uuid.UUID) -> list[Referral]:
    """The claimant's referrals still in progress (sent, accepted, booked, attended or missed):
    the ones a lost basis or an erasure suspends."""
    return list(session.scalars(select(Referral).where(
        Referral.subject_id == subject_id, Referral.status.in_(referral_steps.IN_PROGRESS))))


def referrals_of(session: Session, subject_id: uuid.UUID) -> list[Referral]:
    """Every referral of a claimant, oldest first."""
    return list(session.scalars(select(Referral).where(Referral.subject_id == subject_id)
                                .order_by(Referral.created_at, Referral.id)))


def referrals_about(session: Session, *, subject_id: uuid.UUID, org: str) -> list[Referral]:
    """A claimant's referrals sent or received by `org`, newest first."""
    query = select(Referral).where(Referral.subject_id == subject_id,
                                   or_(Referral.from_org == org, Referral.to_org == org))
    return list(session.scalars(query.order_by(Referral.created_at.desc(), Referral.id)))


def inbox(session: Session, *, org: str, box: str, status: str | None, limit: int,
          cursor: str | None) -> tuple[list[Referral], str | None]:
    """Referrals addressed to `org` (box "inbox") or sent by it ("sent"), oldest first,
    keyset-paginated on (created_at, id)."""
    column = Referral.to_org if box == "inbox" else Referral.from_org
    query = select(Referral).where(column == org)
    if status is not None:
        query = query.where(Referral.status == status)
    if cursor is not None:
        after_at, after_id = _decode_cursor(cursor)
        query = query.where(or_(Referral.created_at > after_at,
                                and_(Referral.created_at == after_at, Referral.id > after_id)))
    rows = list(session.scalars(query.order_by(Referral.created_at, Referral.id)
                                .limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (_encode_cursor(rows[-1]) if more else None)


def _encode_cursor(referral: Referral) -> str:
    raw = f"{referral.created_at.isoformat()}|{referral.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """The (created_at, id) in a cursor `_encode_cursor` made; anything else (not base64, not
    ASCII, no aware timestamp, a time that overflows in UTC, not a UUID) is a 400 naming
    `cursor`."""
    try:
        at, rid = base64.urlsafe_b64decode(cursor.encode("ascii")).decode("ascii").split("|")
        parsed = datetime.fromisoformat(at)
        if parsed.tzinfo is None:
            raise ValueError("naive")
        return parsed.astimezone(UTC), uuid.UUID(rid)
    except (ValueError, OverflowError, binascii.Error, UnicodeError):
        raise BadCursorError("Not a valid cursor.") from None


def open_referral(referral: Referral, data_key: bytes | None) -> dict[str, Any]:
    """Plain fields always; sealed ones only given a data key (the caller decided to disclose)."""
    out: dict[str, Any] = {
        "id": referral.id,
        "subject_id": referral.subject_id,
        "from_org": referral.from_org,
        "to_org": referral.to_org,
        "purpose": referral.purpose,
        "status": referral.status,
        "appointment_at": referral.appointment_at,
        "service_id": referral.service_id,
        "created_at": referral.created_at,
        "decided_at": referral.decided_at,
        "reasons": list(referral.suspended_reasons),
        "outcome": referral.outcome,
        "respond_by": referral.respond_by,
    }
    for name in SEALED_REFERRAL_FIELDS:
        sealed = getattr(referral, name)
        out[name] = (None if data_key is None or sealed is None
                     else open_sealed(data_key, referral_ref(referral, name), sealed))
    return out


@dataclass(frozen=True)
class StaffContact:
    """How staff reach one another: a person's name and work e-mail (staff directory data, not
    the claimant's)."""

    name: str
    email: str


def staff_contacts(session: Session, ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID,
                                                                             StaffContact]:
    """Staff id -> name and e-mail, for the senders and deciders of referrals. A partner
    system's actor id (derived from its client, not a staff id) is simply not found."""
    wanted = sorted({i for i in ids if i is not None}, key=str)
    if not wanted:
        return {}
    rows = session.execute(select(StaffMember.id, StaffMember.name, StaffMember.email)
                           .where(StaffMember.id.in_(wanted)))
    return {staff_id: StaffContact(name, email) for staff_id, name, email in rows}


def timeline(referral: Referral, events: list[ReferralEvent], *, data_key: bytes | None,
             decline_reason: str | None,
             names: dict[uuid.UUID, StaffContact]) -> list[dict[str, Any]]:
    """The referral's history, oldest first, from its event rows: who (name where the staff
    directory has one, and organisation), when, what, the outcome code, and the sealed note,
    appointment time and place only given a data key (the caller decided to disclose).
    A referral made before events were recorded has no "created" event: its start and decision
    are read from its row, as before, and any later events follow."""
    def by(actor: uuid.UUID | None) -> str | None:
        found = names.get(actor) if actor is not None else None
        return found.name if found else None

    out = [] if any(e.type == "created" for e in events) else _from_row(
        referral, decline_reason, by, suspended_event=any(e.type == "suspended" for e in events))
    for event in events:
        opened = {name: (None if data_key is None or getattr(event, name) is None
                         else open_sealed(data_key, event_ref(event, name), getattr(event, name)))
                  for name in SEALED_REFERRAL_EVENT_FIELDS}
        appointment = opened["appointment_at"]
        out.append({"type": event.type, "at": event.at, "actor_org": event.actor_org,
                    "actor_name": by(event.actor_id), "note": opened["note"],
                    "reasons": list(event.reasons), "outcome": event.outcome,
                    "appointment_at": (datetime.fromisoformat(appointment)
                                       if appointment else None),
                    "location": opened["location"]})
    return out


def _from_row(referral: Referral, decline_reason: str | None, by: Any, *,
              suspended_event: bool) -> list[dict[str, Any]]:
    """The history a referral made before events were recorded keeps in its row: created, then
    at most one decision (accepted, declined with its reason where opened, or suspended)."""
    blank: dict[str, Any] = {"note": None, "reasons": [], "outcome": None, "appointment_at": None,
             "location": None}
    events: list[dict[str, Any]] = [{
        **blank, "type": "created", "at": referral.created_at, "actor_org": referral.from_org,
        "actor_name": by(referral.created_by)}]
    if referral.decided_by is not None and referral.decided_at is not None:
        declined = referral.decline_reason is not None
        events.append({**blank, "type": "declined" if declined else "accepted",
                       "at": referral.decided_at, "actor_org": referral.to_org,
                       "actor_name": by(referral.decided_by),
                       "note": decline_reason if declined else None})
    if referral.status == "suspended" and not suspended_event:
        events.append({**blank, "type": "suspended", "at": referral.decided_at,
                       "actor_org": None, "actor_name": None,
                       "reasons": list(referral.suspended_reasons)})
    return events
