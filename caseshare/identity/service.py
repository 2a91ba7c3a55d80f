"""Staff accounts, partner clients, and what their tokens may carry."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from caseshare.errors import NotFoundError, ValidationError
from caseshare.identity.models import ExternalIdentity, OAuthClient, Organisation, StaffMember
from caseshare.policy.models import BUILTIN_ROLES, RESERVED_PURPOSES, ProtocolSet

FRONT_LINE_SCOPES = frozenset({
    "subjects:read", "subjects:write", "consents:read", "consents:write",
    "case_plans:read", "case_plans:write", "referrals:read", "referrals:write",
    "overrides:write", "access:explain",
})
IG_SCOPES = frozenset({"audit:read", "overrides:review", "subjects:read", "consents:read",
                       "case_plans:read", "access:explain", "subjects:erase"})
# Management information (counts under the `evaluation` purpose, never one claimant's data):
# the only scope a partnership analyst holds, and the only one `evaluation` may be used with
# (access/context.py).
MI_SCOPE = "mi:read"
# The role protocols grant `evaluation` to (docs/protocols.md): MI only, no claimant work.
ANALYST_ROLE = "analyst"


def roles_known(protocols: ProtocolSet, org: str) -> set[str]:
    roles = set(BUILTIN_ROLES)
    for protocol in protocols.for_party(org):
        for grant in protocol.grants:
            if org in grant.parties:
                roles |= grant.roles
    return roles


def purposes_for(protocols: ProtocolSet, org: str, roles: Iterable[str]) -> set[str]:
    """Purposes the roles hold through grants to this organisation (plus IG's built-ins)."""
    roles = set(roles)
    purposes = set(RESERVED_PURPOSES) if "ig_officer" in roles else set()
    for protocol in protocols.for_party(org):
        for grant in protocol.grants:
            if org in grant.parties and grant.roles & roles:
                purposes |= grant.purposes
    return purposes


def scopes_for(roles: Iterable[str]) -> set[str]:
    """The scopes a staff member's roles carry: front-line work for any protocol role but the
    analyst's, IG tools for IG officers, and MI for analysts."""
    roles = set(roles)
    scopes: set[str] = set()
    if roles - BUILTIN_ROLES - {ANALYST_ROLE}:
        scopes |= FRONT_LINE_SCOPES
    if "ig_officer" in roles:
        scopes |= IG_SCOPES
    if ANALYST_ROLE in roles:
        scopes.add(MI_SCOPE)
    return scopes


def ensure_organisation(session: Session, *, org_id: str, name: str, sector: str,
                        now: datetime) -> Organisation:
    org = session.get(Organisation, org_id)
    if org is None:
        org = Organisation(id=org_id, name=name, sector=sector, created_at=now)
        session.add(org)
    return org


def sync_organisations(session: Session, *, protocols: ProtocolSet, now: datetime) -> int:
    """Make sure every protocol party exists as an organisation row. Returns how many were new."""
    added = 0
    for protocol in protocols.protocols:
        for party in protocol.parties:
            if session.get(Organisation, party.id) is None:
                ensure_organisation(session, org_id=party.id, name=party.name,
                                    sector=party.sector, now=now)
                session.flush()
                added += 1
    return added


def add_or_update_staff(session: Session, *, protocols: ProtocolSet, email: str, name: str,
                        org: str, roles: list[str], now: datetime) -> StaffMember:
    if protocols.for_party(org) == ():
        raise ValidationError({"org": [f"{org!r} is not a party to any protocol."]})
    sync_organisations(session, protocols=protocols, now=now)
    unknown = sorted(set(roles) - roles_known(protocols, org))
    if unknown:
        raise ValidationError({"role": [f"No protocol grants these roles at {org}: "
                                        f"{', '.join(unknown)}."]})
    email = email.strip().lower()
    staff = session.scalar(select(StaffMember).where(StaffMember.email == email))
    new_roles = sorted(set(roles))
    if staff is None:
        staff = StaffMember(id=uuid.uuid4(), email=email, created_at=now, active=True,
                            credentials_epoch=0)
        session.add(staff)
    elif staff.org_id != org or sorted(staff.roles) != new_roles:
        # Earlier tokens and sessions carried the old organisation or roles: end them for good
        # (the epoch only grows, so moving back does not revive them).
        end_credentials(staff, now=now)
        if staff.org_id != org:  # an identity at the old organisation's provider is not theirs
            session.execute(delete(ExternalIdentity)
                            .where(ExternalIdentity.staff_id == staff.id))
    staff.name, staff.org_id, staff.roles, staff.updated_at = name, org, new_roles, now
    session.flush()
    return staff


def end_credentials(staff: StaffMember, *, now: datetime) -> None:
    """End every access token, web session and provider session of this person on their next
    request, in every process (access/principal.py, web/blueprint.py, api/oidc.py)."""
    staff.credentials_epoch = (staff.credentials_epoch or 0) + 1
    staff.updated_at = now


def find_staff_any(session: Session, email: str) -> StaffMember:
    """The staff member with this e-mail, active or not (for the operator commands)."""
    staff = session.scalar(select(StaffMember).where(StaffMember.email == email.strip().lower()))
    if staff is None:
        raise NotFoundError("No staff member with that email.")
    return staff


def set_staff_active(session: Session, *, email: str, active: bool,
                     now: datetime) -> StaffMember:
    """`staff disable` / `staff enable`. Disabling ends every token and session (a new epoch);
    enabling lets the person sign in again but revives nothing issued before. Caller commits."""
    staff = find_staff_any(session, email)
    if not active:
        end_credentials(staff, now=now)
    staff.active, staff.updated_at = active, now
    session.flush()
    return staff


def get_staff_by_email(session: Session, email: str) -> StaffMember:
    staff = session.scalar(select(StaffMember).where(StaffMember.email == email.strip().lower()))
    if staff is None or not staff.active:
        raise NotFoundError("No active staff member with that email.")
    return staff


def hash_secret(secret: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt${salt.hex()}${digest.hex()}"


def check_secret(secret: str, stored: str) -> bool:
    try:
        _alg, salt, digest = stored.split("$")
        expected = hash_secret(secret, bytes.fromhex(salt)).split("$")[2]
    except ValueError:
        return False
    return hmac.compare_digest(expected, digest)


def add_client(session: Session, *, protocols: ProtocolSet, client_id: str, name: str, org: str,
               roles: list[str], now: datetime, secret: str | None = None,
               redirect_uris: list[str] | None = None, public: bool = False) -> tuple[
                   OAuthClient, str]:
    """Register a partner system (client credentials) or, with redirect URIs, a first-party web
    front end (authorization code + PKCE; `public` when it cannot keep a secret)."""
    secret = "" if public else (secret or secrets.token_urlsafe(32))
    purposes = purposes_for(protocols, org, roles)
    client = session.get(OAuthClient, client_id)
    if client is None:
        client = OAuthClient(client_id=client_id, created_at=now, active=True)
        session.add(client)
    client.secret_hash = "" if public else hash_secret(secret)
    client.public, client.redirect_uris = public, list(redirect_uris or [])
    client.grant_types = (["authorization_code"] if public else
                          ["client_credentials", "authorization_code"] if redirect_uris else
                          ["client_credentials"])
    client.name, client.org_id, client.roles = name, org, sorted(roles)
    scopes = scopes_for(roles) | (FRONT_LINE_SCOPES | IG_SCOPES | {MI_SCOPE} if redirect_uris
                                  else set())
    client.scopes, client.purposes = sorted(scopes), sorted(purposes)
    session.flush()
    return client, secret


def staff_names(session: Session, actors: Iterable[str | None]) -> dict[str, str]:
    """Staff id -> name for the actors that are staff members (a partner system's actor is
    not a UUID and is left out), to show names beside audit events."""
    ids = set()
    for actor in actors:
        try:
            ids.add(uuid.UUID(actor or ""))
        except ValueError:
            continue  # a partner system, not a staff member
    if not ids:
        return {}
    rows = session.execute(select(StaffMember.id, StaffMember.name)
                           .where(StaffMember.id.in_(sorted(ids, key=str))))
    return {str(staff_id): name for staff_id, name in rows}
