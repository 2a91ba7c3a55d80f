"""Who is calling: a validated token, checked against the current directory on every request."""

from __future__ import annotations

import uuid
from datetime import datetime

from joserfc.jwk import KeySet
from sqlalchemy.orm import Session

from caseshare.access.decision import Principal
from caseshare.errors import AuthenticationError
from caseshare.identity import revocation, tokens
from caseshare.identity.models import OAuthClient, StaffMember


def authenticate(
    session: Session,
    authorization: str | None,
    *,
    keys: KeySet,
    issuer: str,
    audience: str,
    now: datetime,
) -> Principal:
    if not authorization or not authorization.startswith("Bearer "):
        raise AuthenticationError("A bearer access token is required.")
    claims = tokens.validate(
        authorization.removeprefix("Bearer ").strip(), keys,
        issuer=issuer, audience=audience, now=now,
    )
    if revocation.is_revoked(session, claims.jti):
        raise AuthenticationError("The access token has been revoked.")
    if claims.actor_type == "staff":
        return _staff_principal(session, claims)
    return _client_principal(session, claims)


def _staff_principal(session: Session, claims: tokens.TokenClaims) -> Principal:
    try:
        staff = session.get(StaffMember, uuid.UUID(claims.subject))
    except ValueError:
        staff = None
    # Leaving an organisation or being suspended ends access at once, whatever the token says.
    if staff is None or not staff.active or staff.org_id != claims.org:
        raise AuthenticationError("The staff account is no longer active for this organisation.")
    roles = frozenset(staff.roles) & frozenset(claims.roles)
    return Principal(
        actor_id=str(staff.id),
        actor_type="staff",
        org=staff.org_id,
        roles=roles,
        scopes=frozenset(claims.scopes),
        purposes=frozenset(claims.purposes),
        token_id=claims.jti,
    )


def _client_principal(session: Session, claims: tokens.TokenClaims) -> Principal:
    client = session.get(OAuthClient, claims.client_id)
    if client is None or not client.active or client.org_id != claims.org:
        raise AuthenticationError("The partner client is no longer active.")
    return Principal(
        actor_id=client.client_id,
        actor_type="client",
        org=client.org_id,
        roles=frozenset(client.roles) & frozenset(claims.roles),
        scopes=frozenset(claims.scopes) & frozenset(client.scopes),
        purposes=frozenset(claims.purposes) & frozenset(client.purposes),
        token_id=claims.jti,
    )
