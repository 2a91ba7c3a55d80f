"""Signed JWT access tokens (RFC 9068 profile), issued and validated with joserfc.

The signing keys live in their own file (0600), apart from the data keys and the audit key. The
public half is served as a JWKS; validation selects the key by `kid`, so a rotated key keeps
validating tokens signed before the rotation until they expire.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet

from caseshare.crypto.keyring import write_private
from caseshare.errors import AuthenticationError

ALGORITHM = "ES256"
TOKEN_TYPE = "at+jwt"  # noqa: S105 (the RFC 9068 media type)


@dataclass
class TokenKeys:
    path: Path
    _cache: tuple[tuple[int, int, int], KeySet] | None = field(default=None, repr=False,
                                                               compare=False)

    @classmethod
    def create_if_missing(cls, path: Path) -> TokenKeys:
        keys = cls(path)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            write_private(path, json.dumps({"keys": [_new_key().as_dict(private=True)]}))
        return keys

    def key_set(self) -> KeySet:
        """The keys, parsed once and again only when the file changes (rotation replaces it)."""
        try:
            st = self.path.stat()
            stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
            if self._cache is None or self._cache[0] != stamp:
                self._cache = (stamp, KeySet.import_key_set(json.loads(self.path.read_text())))
        except (OSError, ValueError) as exc:
            raise AuthenticationError("Token keys are not available.") from exc
        return self._cache[1]

    def signing_key(self) -> ECKey:
        key = self.key_set().keys[-1]  # the newest key signs; older ones still validate
        assert isinstance(key, ECKey)
        return key

    def public_jwks(self) -> dict[str, Any]:
        return {"keys": [k.as_dict(private=False) for k in self.key_set().keys]}

    def rotate(self, keep: int = 2) -> str:
        existing = json.loads(self.path.read_text())["keys"][-(keep - 1) :] if keep > 1 else []
        key = _new_key()
        write_private(self.path, json.dumps({"keys": [*existing, key.as_dict(private=True)]}))
        return str(key.kid)


def _new_key() -> ECKey:
    kid = secrets.token_hex(8)
    return ECKey.generate_key(
        "P-256", parameters={"kid": kid, "alg": ALGORITHM, "use": "sig"}, private=True
    )


@dataclass(frozen=True)
class TokenClaims:
    subject: str
    client_id: str
    org: str
    roles: tuple[str, ...]
    scopes: tuple[str, ...]
    purposes: tuple[str, ...]
    jti: str
    expires_at: int
    actor_type: str
    # The staff member's credentials epoch when the token was issued (claim `cep`); a token
    # issued before epochs existed counts as 0. Compared with the directory on every request.
    epoch: int = 0


def issue(
    keys: TokenKeys,
    *,
    issuer: str,
    audience: str,
    subject: str,
    client_id: str,
    org: str,
    roles: Iterable[str],
    scopes: Iterable[str],
    purposes: Iterable[str],
    actor_type: str,
    now: datetime,
    ttl_seconds: int,
    epoch: int = 0,
) -> tuple[str, TokenClaims]:
    key = keys.signing_key()
    iat = int(now.timestamp())
    claims = TokenClaims(
        subject=subject,
        client_id=client_id,
        org=org,
        roles=tuple(sorted(roles)),
        scopes=tuple(sorted(scopes)),
        purposes=tuple(sorted(purposes)),
        jti=uuid.uuid4().hex,
        expires_at=iat + ttl_seconds,
        actor_type=actor_type,
        epoch=epoch,
    )
    payload = {
        "iss": issuer,
        "aud": audience,
        "sub": subject,
        "client_id": client_id,
        "iat": iat,
        "nbf": iat,
        "exp": claims.expires_at,
        "jti": claims.jti,
        "scope": " ".join(claims.scopes),
        "org": org,
        "roles": list(claims.roles),
        "act_type": actor_type,
        "cep": epoch,
        # RFC 9396 rich authorization request: the purposes this token may be used for.
        "authorization_details": [{"type": "caseshare_purpose", "purposes": list(claims.purposes)}],
    }
    header = {"alg": ALGORITHM, "typ": TOKEN_TYPE, "kid": key.kid}
    return jwt.encode(header, payload, key), claims


def validate(
    token: str, keys: KeySet, *, issuer: str, audience: str, now: datetime
) -> TokenClaims:
    """Check signature, type, issuer, audience and lifetime; the error never echoes the token."""
    try:
        decoded = jwt.decode(token, keys, algorithms=[ALGORITHM])
    except (JoseError, ValueError) as exc:
        raise AuthenticationError("The access token is invalid.") from exc
    if decoded.header.get("typ", "").lower() not in (TOKEN_TYPE, "application/at+jwt"):
        raise AuthenticationError("The access token is not an RFC 9068 access token.")
    registry = jwt.JWTClaimsRegistry(
        now=int(now.timestamp()),
        leeway=30,
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": audience},
        exp={"essential": True},
        sub={"essential": True},
        jti={"essential": True},
    )
    try:
        registry.validate(decoded.claims)
    except JoseError as exc:
        raise AuthenticationError("The access token is expired or not for this service.") from exc
    c = decoded.claims
    purposes: list[str] = []
    for detail in c.get("authorization_details") or []:
        if isinstance(detail, dict) and detail.get("type") == "caseshare_purpose":
            purposes.extend(str(p) for p in detail.get("purposes", []))
    try:
        return TokenClaims(
            subject=str(c["sub"]),
            client_id=str(c.get("client_id", "")),
            org=str(c["org"]),
            roles=tuple(str(r) for r in c.get("roles", [])),
            scopes=tuple(str(c.get("scope", "")).split()),
            purposes=tuple(purposes),
            jti=str(c["jti"]),
            expires_at=int(c["exp"]),
            actor_type=str(c.get("act_type", "staff")),
            epoch=int(c.get("cep", 0)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise AuthenticationError("The access token is missing required claims.") from exc


def issue_id_token(
    keys: TokenKeys,
    *,
    issuer: str,
    client_id: str,
    subject: str,
    nonce: str | None,
    auth_time: int,
    profile: dict[str, Any],
    now: datetime,
    ttl_seconds: int,
) -> str:
    """An OpenID Connect ID token for a staff sign-in (the built-in provider)."""
    key = keys.signing_key()
    iat = int(now.timestamp())
    claims: dict[str, Any] = {
        "iss": issuer, "aud": client_id, "sub": subject, "iat": iat, "exp": iat + ttl_seconds,
        "auth_time": auth_time, **profile,
    }
    if nonce:
        claims["nonce"] = nonce
    return jwt.encode({"alg": ALGORITHM, "typ": "JWT", "kid": key.kid}, claims, key)
