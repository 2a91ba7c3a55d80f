"""The built-in OAuth 2 authorization server and OpenID provider: its use cases on the database.

Issuing and revoking tokens (audited), authorization codes (stored hashed, used once), and the
provider's own sign-in session (a password sign-in, audited whether it succeeds or not, and a
sign-out that revokes the session id). The HTTP endpoints in `caseshare.api.oauth` and
`caseshare.api.oidc` parse, call one of these inside a unit of work, and serialise; these take a
database session and plain values and never commit.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from caseshare.audit import service as audit
from caseshare.audit.event_types import EventType
from caseshare.errors import AuthenticationError
from caseshare.identity import passwords, revocation, tokens
from caseshare.identity.models import AuthorizationCode, RevokedToken, StaffMember

CODE_TTL = timedelta(minutes=2)
SIGN_IN_TTL = timedelta(hours=8)  # absolute lifetime of the provider's own sign-in session


def code_hash(code: str) -> str:
    """Authorization codes are stored by their SHA-256 only."""
    return hashlib.sha256(code.encode()).hexdigest()


def _session_jti(sid: str) -> str:
    return f"oidc-{sid}"


def staff_for(session: Session, claims: tokens.TokenClaims) -> StaffMember | None:
    """The active staff member a staff token names, if it was issued under their current
    organisation and credentials epoch."""
    try:
        staff = session.get(StaffMember, uuid.UUID(claims.subject))
    except ValueError:
        return None
    if (staff is None or not staff.active or staff.org_id != claims.org
            or staff.credentials_epoch != claims.epoch):
        return None
    return staff


def record_token_issue(session: Session, *, client_id: str, scope: str, via: str,
                       staff_id: uuid.UUID | None, now: datetime) -> None:
    """JWT access tokens are self-contained; their issue is audited."""
    audit.record(session, type=EventType.IDENTITY_TOKEN_ISSUE, now=now,
                 details={"client_id": client_id, "scope": scope, "via": via,
                          "staff_id": str(staff_id) if staff_id is not None else None})


def revoke_token(session: Session, *, claims: tokens.TokenClaims, now: datetime) -> bool:
    """Revoke a token by its jti (RFC 7009), audited the first time. Whether it was new."""
    if not revocation.revoke(session, claims, now=now):
        return False
    audit.record(session, type=EventType.IDENTITY_TOKEN_REVOKE, now=now,
                 details={"jti": claims.jti, "client_id": claims.client_id})
    return True


def save_authorization_code(session: Session, *, code: str, client_id: str,
                            staff_id: uuid.UUID, redirect_uri: str, scope: str,
                            nonce: str | None, code_challenge: str, code_challenge_method: str,
                            auth_time: datetime, now: datetime) -> None:
    session.add(AuthorizationCode(
        code_hash=code_hash(code), client_id=client_id, staff_id=staff_id,
        redirect_uri=redirect_uri, scope=scope, nonce=nonce, code_challenge=code_challenge,
        code_challenge_method=code_challenge_method, auth_time=auth_time,
        expires_at=now + CODE_TTL,
    ))


def find_authorization_code(session: Session, *, code: str, client_id: str,
                            now: datetime) -> AuthorizationCode | None:
    """The unexpired code issued to this client, if any."""
    item = session.get(AuthorizationCode, code_hash(code))
    if item is None or item.client_id != client_id:
        return None
    return item if item.expires_at > now else None


def use_authorization_code(session: Session, *, hashed: str) -> None:
    """A code works once: delete it when it is exchanged."""
    session.execute(delete(AuthorizationCode).where(AuthorizationCode.code_hash == hashed))


@dataclass(frozen=True)
class ProviderSignIn:
    """A sign-in at the provider's own page: the staff member, or the refusal (audited)."""

    staff: StaffMember | None = None
    refusal: AuthenticationError | None = None


def sign_in(session: Session, *, email: str, password: str, totp_code: str | None,
            client_id: str, now: datetime) -> ProviderSignIn:
    """Check the credentials for a client's authorization request and audit the outcome. A
    refusal is returned rather than raised, so the unit of work commits its audit event
    together with the failure count behind the lockout."""
    try:
        member = passwords.sign_in(session, email=email, password=password,
                                   totp_code=totp_code, now=now)
    except AuthenticationError as exc:
        audit.record(session, type=EventType.IDENTITY_SESSION_START, now=now, decision="deny",
                     reasons=[exc.slug], details={"client_id": client_id, "via": "provider"})
        return ProviderSignIn(refusal=exc)
    audit.record(session, type=EventType.IDENTITY_SESSION_START, now=now, decision="allow",
                 details={"staff_id": str(member.id), "client_id": client_id, "via": "provider"})
    return ProviderSignIn(staff=member)


def signed_in_staff(session: Session, *, staff_id: str, sid: str,
                    credentials_epoch: object) -> StaffMember | None:
    """The staff member of a provider sign-in session, if they are active, the session id is
    not revoked and it was issued under their current credentials epoch."""
    try:
        staff = session.get(StaffMember, uuid.UUID(staff_id))
    except ValueError:
        staff = None
    if (staff is None or not staff.active or staff.credentials_epoch != credentials_epoch
            or session.get(RevokedToken, _session_jti(sid)) is not None):
        return None
    return staff


def end_sign_in(session: Session, *, staff_id: str, sid: str, auth_time: datetime,
                now: datetime, reason: str) -> None:
    """Sign out of the provider: revoke its session id (until it would have expired anyway)
    so a copied cookie stops working, and audit it."""
    try:
        staff_uuid: uuid.UUID | None = uuid.UUID(staff_id)
    except ValueError:
        staff_uuid = None
    if session.get(RevokedToken, _session_jti(sid)) is None:
        session.add(RevokedToken(jti=_session_jti(sid), expires_at=auth_time + SIGN_IN_TTL,
                                 revoked_at=now, staff_id=staff_uuid))
    audit.record(session, type=EventType.IDENTITY_SESSION_END, now=now, decision="allow",
                 details={"staff_id": staff_id, "reason": reason, "via": "provider"})
