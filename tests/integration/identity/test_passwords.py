from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest

from caseshare.errors import AuthenticationError, ValidationError
from caseshare.identity import passwords
from caseshare.identity import service as identity
from caseshare.runtime import Runtime
from tests.conftest import COACH, IG, Clock, Demo

PASSWORD = "correct horse battery"


def _set(rt: Runtime, email: str, totp: bool = False) -> str | None:
    with rt.session_factory() as s:
        staff = identity.get_staff_by_email(s, email)
        passwords.set_password(staff, PASSWORD)
        secret = passwords.new_totp_secret(staff) if totp else None
        s.commit()
    return secret


def _sign_in(rt: Runtime, email: str, password: str, code: str | None = None) -> None:
    with rt.session_factory() as s:
        try:
            passwords.sign_in(s, email=email, password=password, totp_code=code, now=rt.now())
        finally:
            s.commit()


def test_password_is_hashed_with_argon2id_and_checked(rt: Runtime, demo: Demo) -> None:
    _set(rt, COACH)
    with rt.session_factory() as s:
        staff = identity.get_staff_by_email(s, COACH)
        assert staff.password_hash and staff.password_hash.startswith("$argon2id$")
        assert PASSWORD not in staff.password_hash
    _sign_in(rt, COACH, PASSWORD)
    with pytest.raises(AuthenticationError):
        _sign_in(rt, COACH, "wrong password!!")


def test_short_password_is_refused(rt: Runtime, demo: Demo) -> None:
    with rt.session_factory() as s:
        staff = identity.get_staff_by_email(s, COACH)
        with pytest.raises(ValidationError):
            passwords.set_password(staff, "short")


def test_lockout_after_five_failures_even_with_the_right_password(rt: Runtime, demo: Demo,
                                                                  clock: Clock) -> None:
    _set(rt, COACH)
    for _ in range(passwords.MAX_FAILURES):
        with pytest.raises(AuthenticationError):
            _sign_in(rt, COACH, "not the password")
    with pytest.raises(passwords.AccountLockedError):
        _sign_in(rt, COACH, PASSWORD)
    clock.advance(minutes=16)
    _sign_in(rt, COACH, PASSWORD)


def test_ig_officer_needs_a_valid_totp_code(rt: Runtime, demo: Demo) -> None:
    secret = _set(rt, IG, totp=True)
    assert secret is not None
    with pytest.raises(AuthenticationError):
        _sign_in(rt, IG, PASSWORD)
    with pytest.raises(AuthenticationError):
        _sign_in(rt, IG, PASSWORD, "000000" if pyotp.TOTP(secret).at(rt.now()) != "000000"
                 else "111111")
    _sign_in(rt, IG, PASSWORD, pyotp.TOTP(secret).at(rt.now()))
    stale = pyotp.TOTP(secret).at(rt.now() - timedelta(minutes=5))
    with pytest.raises(AuthenticationError):
        _sign_in(rt, IG, PASSWORD, stale)
