"""Staff sessions for the web pages, without Flask: who is signed in, what they may do, and
revocation of a session on sign-out (so a copied cookie stops working straight away)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from caseshare.facts import Principal
from caseshare.identity import service as identity
from caseshare.identity.models import Organisation, RevokedToken, StaffMember
from caseshare.policy.models import ProtocolSet

IDLE_TIMEOUT = timedelta(minutes=30)
ABSOLUTE_TIMEOUT = timedelta(hours=8)


def principal_for(staff: StaffMember, protocols: ProtocolSet) -> Principal:
    """The same principal a bearer token for this staff member would carry."""
    return Principal(
        actor_id=str(staff.id), actor_type="staff", org=staff.org_id,
        roles=frozenset(staff.roles), scopes=frozenset(identity.scopes_for(staff.roles)),
        purposes=frozenset(identity.purposes_for(protocols, staff.org_id, staff.roles)),
    )


def find_active_staff(session: Session, staff_id: str) -> StaffMember | None:
    try:
        staff = session.get(StaffMember, uuid.UUID(staff_id))
    except ValueError:
        return None
    return staff if staff is not None and staff.active else None


def find_staff_by_email(session: Session, email: str) -> StaffMember | None:
    return session.scalar(select(StaffMember).where(StaffMember.email == email.strip().lower()))


def organisation_name(session: Session, org_id: str) -> str:
    org = session.get(Organisation, org_id)
    return org.name if org is not None else org_id


def _jti(sid: str) -> str:
    return f"web-{sid}"


def revoke_session(session: Session, *, sid: str, staff_id: uuid.UUID, started_at: datetime,
                   now: datetime) -> None:
    """Record a signed-out session id until it could no longer be valid anyway."""
    if session.get(RevokedToken, _jti(sid)) is None:
        session.add(RevokedToken(jti=_jti(sid), expires_at=started_at + ABSOLUTE_TIMEOUT,
                                 revoked_at=now, staff_id=staff_id))


def is_revoked(session: Session, sid: str) -> bool:
    return session.get(RevokedToken, _jti(sid)) is not None


def timed_out(*, started_at: datetime, seen_at: datetime, now: datetime) -> str | None:
    """'idle' or 'absolute' when the session has run out, else None."""
    if now - started_at >= ABSOLUTE_TIMEOUT:
        return "absolute"
    if now - seen_at >= IDLE_TIMEOUT:
        return "idle"
    return None
