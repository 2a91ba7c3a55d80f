"""Staff sign-ins for the web pages: who is signed in, what they may do, revocation of a
sign-in on sign-out (so a copied cookie stops working straight away), and the sign-in use cases
(password and second factor, first enrolment of a second factor, an organisation's identity
provider), each recording its audit event. The pages parse the form and keep the cookie; these
take a database session and plain values and never commit (the page's unit of work does)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyotp
from sqlalchemy import select
from sqlalchemy.orm import Session

from caseshare.audit import service as audit
from caseshare.audit.event_types import EventType
from caseshare.errors import AuthenticationError
from caseshare.facts import Principal
from caseshare.identity import passwords
from caseshare.identity import service as identity
from caseshare.identity.models import Organisation, RevokedToken, StaffMember
from caseshare.identity.oidc_client import match_staff
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


def revoke_sign_in(session: Session, *, sid: str, staff_id: uuid.UUID, started_at: datetime,
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


@dataclass(frozen=True)
class CredentialCheck:
    """The outcome of a password sign-in: the staff member, and a new TOTP secret when they must
    first enrol a second factor; or the refusal (already audited)."""

    staff: StaffMember | None = None
    pending_secret: str | None = None
    refusal: AuthenticationError | None = None


def check_credentials(session: Session, *, email: str, password: str, code: str | None,
                      now: datetime, request_id: str | None) -> CredentialCheck:
    """Check a password (and second factor) for the sign-in page. A failure is audited (with
    the account's id when the email matched one) and returned rather than raised, so that the
    unit of work commits it together with the failure count behind the lockout."""
    known = find_staff_by_email(session, email)
    pending = None
    last_step = known.totp_last_step if known is not None else None
    if (known is not None and passwords.needs_second_factor(known)
            and known.totp_secret is None):
        # No second factor yet: check the password alone by signing in against a new secret
        # with its current code; the secret is kept only once the user proves they hold it.
        pending = passwords.new_totp_secret(known)
        code = pyotp.TOTP(pending).at(now)
    try:
        staff = passwords.sign_in(session, email=email, password=password, totp_code=code,
                                  now=now)
    except AuthenticationError as exc:
        audit.record(session, type=EventType.IDENTITY_SESSION_START, now=now, decision="deny",
                     reasons=[exc.slug], request_id=request_id,
                     details={"staff_id": str(known.id)} if known else {})
        return CredentialCheck(refusal=exc)
    finally:
        if pending is not None and known is not None:
            known.totp_secret, known.totp_last_step = None, last_step
    return CredentialCheck(staff=staff, pending_secret=pending)


def start(session: Session, *, staff: StaffMember, protocols: ProtocolSet, now: datetime,
          request_id: str | None, details: dict[str, object] | None = None) -> None:
    """Record the start of a staff member's session: it starts only once this event is
    committed."""
    audit.record(session, type=EventType.IDENTITY_SESSION_START, now=now,
                 principal=principal_for(staff, protocols), decision="allow",
                 request_id=request_id, details=details)


def enrol_second_factor(session: Session, *, staff: StaffMember, secret: str, code: str,
                        protocols: ProtocolSet, now: datetime, request_id: str | None) -> bool:
    """First sign-in of an IG officer or admin: keep `secret` if `code` proves they hold it,
    and start their session. False (nothing changed) when the code is not right."""
    staff.totp_secret, previous = secret, staff.totp_last_step
    staff.totp_last_step = None  # a new secret: its steps start afresh
    step = passwords.totp_step(staff, code, now)
    if step is None:
        staff.totp_secret, staff.totp_last_step = None, previous
        return False
    staff.totp_last_step = step
    audit.record(session, type=EventType.IDENTITY_STAFF_TOTP_ENROL, now=now,
                 principal=principal_for(staff, protocols), decision="allow",
                 request_id=request_id)
    start(session, staff=staff, protocols=protocols, now=now, request_id=request_id)
    return True


def sign_in_by_organisation(session: Session, *, claims: dict[str, Any], issuer: str,
                            org_claim: str, tenants: Mapping[str, str], protocols: ProtocolSet,
                            now: datetime, request_id: str | None) -> StaffMember:
    """Start the session of the staff member an organisation's identity provider signed in
    (verified ID token claims), linking them on first use. Raises AuthenticationError."""
    staff, linked = match_staff(session, claims, issuer=issuer, org_claim=org_claim,
                                tenants=tenants, now=now)
    start(session, staff=staff, protocols=protocols, now=now, request_id=request_id,
          details={"via": "oidc", "issuer": issuer, "subject": str(claims["sub"]),
                   "linked": linked})
    return staff


def refuse_sign_in_by_organisation(session: Session, *, reason: str, issuer: str,
                                   subject: str | None, now: datetime,
                                   request_id: str | None) -> None:
    """Audit a refused sign-in through an organisation's identity provider. Issuer and subject
    identify the attempt; the e-mail address is never recorded."""
    audit.record(session, type=EventType.IDENTITY_SESSION_START, now=now, decision="deny",
                 reasons=[reason], request_id=request_id,
                 details={"via": "oidc", "issuer": issuer, "subject": subject})
