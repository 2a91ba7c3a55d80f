"""Referrals (warm handovers): recording, sealing, the recipient's inbox, accept and decline.

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

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from caseshare.case_plan.conflicts import flush_or_conflict
from caseshare.case_plan.models import SEALED_REFERRAL_FIELDS, Referral
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
    return referral


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


def decline(session: Session, referral: Referral, *, data_key: bytes, principal: Principal,
            reason: str, now: datetime) -> None:
    require_open(referral)
    referral.status = "declined"
    referral.decided_at = now
    referral.decided_by = principal.actor_uuid
    referral.decline_reason = seal(data_key, 1, referral_ref(referral, "decline_reason"), reason)
    flush_or_conflict(session, _decided_meanwhile)


def suspend(session: Session, referral: Referral, *, reasons: list[str],
            now: datetime) -> None:
    """The basis it relied on is gone (consent withdrawn or expired): it can no longer be
    accepted, and its message is no longer shown."""
    referral.status = "suspended"
    referral.decided_at = now
    referral.suspended_reasons = sorted(set(reasons))
    flush_or_conflict(session, _decided_meanwhile)


def open_referrals_of(session: Session, subject_id: uuid.UUID) -> list[Referral]:
    return list(session.scalars(select(Referral).where(Referral.subject_id == subject_id,
                                                       Referral.status == "open")))


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


def timeline(referral: Referral, *, decline_reason: str | None,
             names: dict[uuid.UUID, StaffContact]) -> list[dict[str, Any]]:
    """The referral's status history, oldest first, from what its row records: created, then
    at most one decision (accepted, declined with its reason where the caller opened it, or
    suspended with the reason codes when the basis was lost). Statuses only move forward from
    open, so the row holds the whole history."""
    def by(actor: uuid.UUID | None) -> str | None:
        found = names.get(actor) if actor is not None else None
        return found.name if found else None

    events: list[dict[str, Any]] = [{
        "type": "created", "at": referral.created_at, "actor_org": referral.from_org,
        "actor_name": by(referral.created_by), "note": None, "reasons": []}]
    if referral.status in ("accepted", "declined"):
        events.append({"type": referral.status, "at": referral.decided_at,
                       "actor_org": referral.to_org, "actor_name": by(referral.decided_by),
                       "note": decline_reason if referral.status == "declined" else None,
                       "reasons": []})
    elif referral.status == "suspended":
        events.append({"type": "suspended", "at": referral.decided_at, "actor_org": None,
                       "actor_name": None, "note": None,
                       "reasons": list(referral.suspended_reasons)})
    return events
