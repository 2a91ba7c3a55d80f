"""Revoking access tokens before they expire (RFC 7009). JWTs are self-contained, so a
revocation is a row naming the token's jti until the token would have expired anyway."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from caseshare import db
from caseshare.identity.models import RevokedToken
from caseshare.identity.tokens import TokenClaims


def revoke(session: Session, claims: TokenClaims, *, now: datetime) -> bool:
    """Record the revocation; returns False if it was already revoked. Caller commits."""
    if session.get(RevokedToken, claims.jti) is not None:
        return False
    staff_id = None
    if claims.actor_type == "staff":
        try:
            staff_id = uuid.UUID(claims.subject)
        except ValueError:
            staff_id = None
    session.add(RevokedToken(
        jti=claims.jti, expires_at=datetime.fromtimestamp(claims.expires_at, UTC),
        revoked_at=now, staff_id=staff_id,
    ))
    return True


_REVOKED = select(RevokedToken.jti).where(RevokedToken.jti == bindparam("jti"))


def is_revoked(session: Session, jti: str) -> bool:
    return bool(db.rows(session, _REVOKED, {"jti": jti}))


def purge_expired(session: Session, *, now: datetime) -> int:
    """Revocations of tokens that have expired anyway can go. Caller commits."""
    result = session.execute(delete(RevokedToken).where(RevokedToken.expires_at < now))
    return int(getattr(result, "rowcount", 0) or 0)
