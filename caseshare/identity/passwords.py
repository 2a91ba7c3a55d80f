"""Staff sign-in for the built-in provider: Argon2id passwords, TOTP for privileged roles,
lockout after repeated failures. Messages never say which part was wrong."""

from __future__ import annotations

from datetime import datetime, timedelta

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from caseshare.errors import AuthenticationError, ValidationError
from caseshare.identity.models import StaffMember

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
SECOND_FACTOR_ROLES = frozenset({"ig_officer", "admin"})
MIN_PASSWORD = 12

_hasher = PasswordHasher()


class AccountLockedError(AuthenticationError):
    slug, title = "account-locked", "Account temporarily locked"


def needs_second_factor(staff: StaffMember) -> bool:
    return bool(SECOND_FACTOR_ROLES & set(staff.roles))


def set_password(staff: StaffMember, password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ValidationError({"password": [f"Use at least {MIN_PASSWORD} characters."]})
    staff.password_hash = _hasher.hash(password)


def new_totp_secret(staff: StaffMember) -> str:
    staff.totp_secret = pyotp.random_base32()
    return staff.totp_secret


def totp_uri(staff: StaffMember) -> str:
    assert staff.totp_secret is not None
    return pyotp.TOTP(staff.totp_secret).provisioning_uri(name=staff.email,
                                                           issuer_name="Caseshare")


def sign_in(session: Session, *, email: str, password: str, totp_code: str | None,
            now: datetime) -> StaffMember:
    """Check the credentials; count failures and lock the account after MAX_FAILURES.
    The caller commits (the failure count must persist even when sign-in fails)."""
    staff = session.scalar(select(StaffMember).where(StaffMember.email == email.strip().lower()))
    if staff is None or not staff.active or staff.password_hash is None:
        _hasher.hash(password)  # spend the same time as a real check
        raise AuthenticationError("The email, password or code is not right.")
    if staff.locked_until is not None and staff.locked_until > now:
        raise AccountLockedError("Too many failed attempts; try again later.")
    ok = _password_ok(staff, password)
    if ok and needs_second_factor(staff):
        ok = bool(staff.totp_secret and totp_code
                  and pyotp.TOTP(staff.totp_secret).verify(totp_code, for_time=now,
                                                            valid_window=1))
    if not ok:
        staff.failed_logins += 1
        if staff.failed_logins >= MAX_FAILURES:
            staff.locked_until, staff.failed_logins = now + LOCKOUT, 0
        raise AuthenticationError("The email, password or code is not right.")
    staff.failed_logins, staff.locked_until = 0, None
    if _hasher.check_needs_rehash(staff.password_hash or ""):
        staff.password_hash = _hasher.hash(password)
    return staff


def _password_ok(staff: StaffMember, password: str) -> bool:
    try:
        return _hasher.verify(staff.password_hash or "", password)
    except (VerificationError, InvalidHashError):
        return False
