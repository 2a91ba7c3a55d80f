"""Staff sign-in for the built-in provider: Argon2id passwords, TOTP for privileged roles (each
code works once), lockout after repeated failures. Every failure, for a known account, an
unknown one or a locked one, gives the same message after the same work (an Argon2id check), so
the answer never tells whether an address has an account."""

from __future__ import annotations

import contextlib
import hmac
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
FAILED = "The email, password or code is not right."
_dummy_hash: str | None = None


def _spend_a_check(password: str) -> None:
    """The work of a real password check, for an account that does not exist or is locked."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash("caseshare-dummy-password")
    with contextlib.suppress(VerificationError, InvalidHashError):
        _hasher.verify(_dummy_hash, password)


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
        _spend_a_check(password)
        raise AuthenticationError(FAILED)
    if staff.locked_until is not None and staff.locked_until > now:
        _spend_a_check(password)
        raise AccountLockedError(FAILED)  # the same answer: the slug is for the audit only
    ok = _password_ok(staff, password)
    step = None
    if ok and needs_second_factor(staff):
        step = totp_step(staff, totp_code, now)
        ok = step is not None
    if not ok:
        staff.failed_logins += 1
        if staff.failed_logins >= MAX_FAILURES:
            staff.locked_until, staff.failed_logins = now + LOCKOUT, 0
        raise AuthenticationError(FAILED)
    if step is not None:
        staff.totp_last_step = step  # this code, and any earlier one, never works again
    staff.failed_logins, staff.locked_until = 0, None
    if _hasher.check_needs_rehash(staff.password_hash or ""):
        staff.password_hash = _hasher.hash(password)
    return staff


def totp_step(staff: StaffMember, code: str | None, now: datetime) -> int | None:
    """The time step of a valid TOTP code (the current step or one either side) that is later
    than the last step this person used, else None: each code works once."""
    if not staff.totp_secret or not code:
        return None
    totp = pyotp.TOTP(staff.totp_secret)
    current = totp.timecode(now)
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code.strip()):
            if staff.totp_last_step is not None and step <= staff.totp_last_step:
                return None
            return step
    return None


def _password_ok(staff: StaffMember, password: str) -> bool:
    try:
        return _hasher.verify(staff.password_hash or "", password)
    except (VerificationError, InvalidHashError):
        return False
