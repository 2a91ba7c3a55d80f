"""Who is calling: a validated token, checked against the current directory on every request.

Only the token's signature check may be skipped: a token verified in this process within the
last CASESHARE_TOKEN_CACHE_SECONDS (default 5) is taken from the cache (token_cache.py). The
directory (revocation, active flag, organisation, roles, credentials epoch) is read every time.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from joserfc.jwk import KeySet
from sqlalchemy import bindparam, exists, select
from sqlalchemy.orm import Session

from caseshare import db
from caseshare.errors import AuthenticationError
from caseshare.facts import Principal
from caseshare.identity import revocation, tokens
from caseshare.identity.models import OAuthClient, RevokedToken, StaffMember
from caseshare.identity.token_cache import VerifiedTokens, directory_generation


def authenticate(
    session: Session,
    authorization: str | None,
    *,
    keys: KeySet,
    issuer: str,
    audience: str,
    now: datetime,
    cache: VerifiedTokens | None = None,
) -> Principal:
    """The caller, from a verified token checked against the directory. A repeat of a token
    verified moments ago skips the signature check (`cache`, token_cache.py), never the
    directory check: revocation, disabled staff, a changed organisation, roles or credentials
    epoch bind on the very next request in every process."""
    if not authorization or not authorization.startswith("Bearer "):
        raise AuthenticationError("A bearer access token is required.")
    token = authorization.removeprefix("Bearer ").strip()
    generation = directory_generation.value
    claims = cache.get(token, now) if cache is not None else None
    verified = claims is None
    if claims is None:
        claims = tokens.validate(token, keys, issuer=issuer, audience=audience, now=now)
    # These checks only read. On SQLite they read from a snapshot that takes no write lock and
    # end it, so the request's own unit of work begins as it needs to (an audited read as a
    # snapshot of its own, see RequestContext.read_from_snapshot) rather than inside a
    # transaction holding the lock.
    snapshot = db.begin_snapshot(session)
    try:
        principal = _directory_principal(session, claims)
    finally:
        if snapshot:
            session.rollback()
    if cache is not None and verified:
        cache.put(token, claims, now=now, generation=generation)
    return principal


def _directory_principal(session: Session, claims: tokens.TokenClaims) -> Principal:
    if claims.actor_type == "staff":
        return _staff_principal(session, claims)
    if revocation.is_revoked(session, claims.jti):
        raise AuthenticationError("The access token has been revoked.")
    return _client_principal(session, claims)


# The columns the check needs and the token's revocation, in one statement.
_STAFF = (
    select(StaffMember.active, StaffMember.org_id, StaffMember.roles,
           StaffMember.credentials_epoch,
           exists().where(RevokedToken.jti == bindparam("jti")))
    .where(StaffMember.id == bindparam("staff_id")))


def _staff_principal(session: Session, claims: tokens.TokenClaims) -> Principal:
    try:
        staff_id = uuid.UUID(claims.subject)
    except ValueError:
        staff_id = None
    rows = (db.rows(session, _STAFF, {"staff_id": staff_id, "jti": claims.jti})
            if staff_id is not None else [])
    if rows and rows[0][4]:
        raise AuthenticationError("The access token has been revoked.")
    # Being disabled, leaving an organisation or a change of roles (each bumps the credentials
    # epoch) ends access at once, whatever the token says.
    if not rows or not rows[0][0] or rows[0][1] != claims.org or rows[0][3] != claims.epoch:
        raise AuthenticationError("The staff account is no longer active for this organisation.")
    _active, org, staff_roles, _epoch, _revoked = rows[0]
    roles = frozenset(staff_roles) & frozenset(claims.roles)
    return Principal(
        actor_id=str(staff_id),
        actor_type="staff",
        org=org,
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
