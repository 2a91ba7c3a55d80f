from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from caseshare.db import Base, uuid_pk


class Organisation(Base):
    """A partner agency. Its id is the party id used in protocol files."""

    __tablename__ = "organisations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    sector: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime]


class StaffMember(Base):
    __tablename__ = "staff_members"

    id: Mapped[uuid_pk]
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    roles: Mapped[list[str]]
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # Built-in sign-in: Argon2id password hash, TOTP secret (IG officers and admins), lockout.
    password_hash: Mapped[str | None] = mapped_column(String(200))
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    # Bumped when the person is disabled or changes organisation or roles: every access token,
    # web session and provider session carries the epoch it was issued under and is refused
    # once it differs (docs/identity.md). It only ever grows, so moving back revives nothing.
    credentials_epoch: Mapped[int] = mapped_column(default=0, server_default="0")
    # The last TOTP time step accepted, so a code works once (passwords.sign_in).
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)


class ExternalIdentity(Base):
    """A person at an external OpenID Connect provider, bound to one staff member by the
    provider's (issuer, subject) at the first sign-in (identity/oidc_client.py)."""

    __tablename__ = "staff_external_identities"

    issuer: Mapped[str] = mapped_column(String(500), primary_key=True)
    subject: Mapped[str] = mapped_column(String(255), primary_key=True)
    staff_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff_members.id"), index=True)
    linked_at: Mapped[datetime]


class OAuthClient(Base):
    """A registered partner system (client-credentials grant). Belongs to one organisation."""

    __tablename__ = "oauth_clients"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200))
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    roles: Mapped[list[str]]
    scopes: Mapped[list[str]]
    purposes: Mapped[list[str]]
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    # Authorization code + PKCE clients (web front ends): where codes may be sent. A public client
    # has no secret and must use PKCE; only first-party clients are supported (no consent page).
    redirect_uris: Mapped[list[str]] = mapped_column(default=list)
    grant_types: Mapped[list[str]] = mapped_column(default=lambda: ["client_credentials"])
    public: Mapped[bool] = mapped_column(default=False)


class AuthorizationCode(Base):
    """A one-time authorization code (stored hashed), bound to client, redirect and PKCE."""

    __tablename__ = "oauth_authorization_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("oauth_clients.client_id"))
    staff_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff_members.id"))
    redirect_uri: Mapped[str] = mapped_column(String(500))
    scope: Mapped[str] = mapped_column(String(500))
    nonce: Mapped[str | None] = mapped_column(String(200))
    code_challenge: Mapped[str] = mapped_column(String(128))
    code_challenge_method: Mapped[str] = mapped_column(String(8))
    auth_time: Mapped[datetime]
    expires_at: Mapped[datetime]

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return int(self.auth_time.timestamp())


class RevokedToken(Base):
    """Access tokens revoked before expiry (by jti); checked on every request."""

    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime]
    staff_id: Mapped[uuid.UUID | None]
