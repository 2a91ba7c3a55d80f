"""Signing staff in through an external OpenID Connect provider (the relying-party side).

Authorization code flow with PKCE (S256), state and nonce; the ID token is verified with joserfc
against the provider's JWKS (fetched again once when an unknown key id appears, so the provider's
key rotation is honoured). A person at the provider is bound to a staff member by the
provider's (issuer, subject) in `staff_external_identities`: the first sign-in links them by a
verified `email` and the organisation's tenant claim; later sign-ins match by (issuer, subject)
only. The local record decides organisation and roles (docs/identity.md).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import requests
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy import select
from sqlalchemy.orm import Session

from caseshare.errors import AuthenticationError
from caseshare.identity.models import ExternalIdentity, StaffMember

TIMEOUT = 10


class ProviderError(AuthenticationError):
    slug, title = "identity-provider-error", "The identity provider could not sign you in"


@dataclass
class Attempt:
    """What the relying party remembers between the redirect and the callback."""

    state: str
    nonce: str
    verifier: str

    @classmethod
    def new(cls) -> Attempt:
        return cls(secrets.token_urlsafe(24), secrets.token_urlsafe(24), secrets.token_urlsafe(48))

    @property
    def challenge(self) -> str:
        digest = hashlib.sha256(self.verifier.encode()).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass
class RelyingParty:
    issuer: str
    client_id: str
    client_secret: str
    org_claim: str = "caseshare_org"
    # organisation id -> the value of `org_claim` its people carry (e.g. its Entra tenant id,
    # claim `tid`); an organisation not named must carry its own id.
    tenants: Mapping[str, str] = field(default_factory=dict)
    _metadata: dict[str, Any] | None = field(default=None, repr=False)
    _keys: KeySet | None = field(default=None, repr=False)

    def metadata(self) -> dict[str, Any]:
        if self._metadata is None:
            url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
            data = self._get(url)
            if data.get("issuer") != self.issuer:
                raise ProviderError("The identity provider's metadata names another issuer.")
            self._metadata = data
        return self._metadata

    def authorization_url(self, attempt: Attempt, redirect_uri: str) -> str:
        query = urlencode({
            "response_type": "code", "client_id": self.client_id, "redirect_uri": redirect_uri,
            "scope": "openid email profile", "state": attempt.state, "nonce": attempt.nonce,
            "code_challenge": attempt.challenge, "code_challenge_method": "S256",
        })
        return f"{self.metadata()['authorization_endpoint']}?{query}"

    def exchange(self, code: str, attempt: Attempt, redirect_uri: str) -> dict[str, Any]:
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
                "code_verifier": attempt.verifier, "client_id": self.client_id}
        auth = (self.client_id, self.client_secret) if self.client_secret else None
        try:
            response = requests.post(self.metadata()["token_endpoint"], data=form, auth=auth,
                                     timeout=TIMEOUT)
        except requests.RequestException as exc:
            raise ProviderError("The identity provider could not be reached.") from exc
        if response.status_code != 200:
            raise ProviderError("The identity provider refused the sign-in.")
        tokens: dict[str, Any] = response.json()
        return tokens

    def verify_id_token(self, id_token: str, attempt: Attempt, now: datetime) -> dict[str, Any]:
        try:
            decoded = jwt.decode(id_token, self._key_set(id_token), algorithms=["ES256", "RS256"])
            jwt.JWTClaimsRegistry(
                now=int(now.timestamp()), leeway=60,
                iss={"essential": True, "value": self.issuer},
                aud={"essential": True, "value": self.client_id},
                exp={"essential": True}, sub={"essential": True},
                nonce={"essential": True, "value": attempt.nonce},
            ).validate(decoded.claims)
        except (JoseError, ValueError) as exc:
            raise ProviderError("The identity provider's ID token is not valid.") from exc
        return dict(decoded.claims)

    def _key_set(self, id_token: str) -> KeySet:
        kid = _header_kid(id_token)
        if self._keys is None or (kid and not any(k.kid == kid for k in self._keys.keys)):
            jwks = self._get(self.metadata()["jwks_uri"])
            self._keys = KeySet.import_key_set(jwks)  # type: ignore[arg-type]
        return self._keys

    @staticmethod
    def _get(url: str) -> dict[str, Any]:
        try:
            response = requests.get(url, timeout=TIMEOUT)
            response.raise_for_status()
            data: dict[str, Any] = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise ProviderError("The identity provider could not be reached.") from exc
        return data


def _header_kid(token: str) -> str | None:
    try:
        header = token.split(".", 1)[0]
        padded = header + "=" * (-len(header) % 4)
        kid = json.loads(base64.urlsafe_b64decode(padded)).get("kid")
    except (ValueError, IndexError):
        return None
    return str(kid) if kid else None


class EmailNotVerifiedError(AuthenticationError):
    slug = "email-not-verified"


class WrongTenantError(AuthenticationError):
    slug = "wrong-tenant"


class NoAccountError(AuthenticationError):
    slug = "no-account"


class AlreadyLinkedError(AuthenticationError):
    slug = "identity-already-linked"


def parse_tenants(text: str) -> dict[str, str]:
    """'org-a=tenant-a,org-b=tenant-b' -> {org: tenant}; ValueError if malformed."""
    out: dict[str, str] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        org, sep, tenant = item.partition("=")
        if not sep or not org.strip() or not tenant.strip():
            raise ValueError(item)
        out[org.strip()] = tenant.strip()
    return out


def match_staff(session: Session, claims: dict[str, Any], *, issuer: str, org_claim: str,
                tenants: Mapping[str, str], now: datetime) -> tuple[StaffMember, bool]:
    """The local staff member these verified claims belong to, and whether this sign-in linked
    them (docs/identity.md). A linked (issuer, subject) decides alone; the first link needs
    `email_verified: true` and the tenant claim configured for the person's organisation, and
    is added to the session (the caller commits). Errors name no e-mail address."""
    subject = str(claims.get("sub") or "")
    if not subject:
        raise NoAccountError("Your organisation's account has no subject identifier.")
    link = session.get(ExternalIdentity, (issuer, subject))
    if link is not None:
        staff = session.get(StaffMember, link.staff_id)
        if staff is None or not staff.active:
            raise NoAccountError("You do not have a Caseshare account. Ask your administrator.")
        return staff, False
    email = str(claims.get("email") or "").strip().lower()
    if not email or claims.get("email_verified") is not True:
        raise EmailNotVerifiedError("Your organisation's account has no verified email address.")
    staff = session.scalar(select(StaffMember).where(StaffMember.email == email))
    if staff is None or not staff.active:
        raise NoAccountError("You do not have a Caseshare account. Ask your administrator.")
    expected = tenants.get(staff.org_id, staff.org_id)
    if claims.get(org_claim) != expected:
        raise WrongTenantError("Your organisation does not match your Caseshare account.")
    other = session.scalar(select(ExternalIdentity).where(
        ExternalIdentity.staff_id == staff.id, ExternalIdentity.issuer == issuer))
    if other is not None:
        raise AlreadyLinkedError("Another account at your organisation is already linked to "
                                 "this Caseshare account. Ask your administrator.")
    session.add(ExternalIdentity(issuer=issuer, subject=subject, staff_id=staff.id,
                                 linked_at=now))
    session.flush()
    return staff, True
