"""Web sign-in hardening (issue 18, Low items), through the Flask test client on both engines:
the sign-in form is rate-limited by address and by account; unknown, known and locked accounts
get the same answer after the same work; a TOTP code works once."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient

from caseshare import create_app
from caseshare.demo import seed
from caseshare.identity import passwords
from caseshare.identity.models import StaffMember
from caseshare.runtime import Runtime
from tests.audit_helpers import events
from tests.conftest import COACH, HOUSING, IG, Clock, _database_url
from tests.web.browser import PASSWORD

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ERROR = re.compile(r'class="govuk-error-message">(.*?)</p>', re.S)


@pytest.fixture
def limited(engine: str, templates: dict[str, Any], tmp_path: Path,
            clock: Clock) -> Iterator[Flask]:
    app = create_app({"instance_path": tmp_path / "instance", "clock": clock,
                      "database_url": _database_url(engine, templates, tmp_path),
                      "ratelimit_sign_in": "3 per minute"})
    app.config["TESTING"] = True
    rt: Runtime = app.extensions["caseshare"]
    with rt.session_factory() as s:
        list(seed(s, rt))
    yield app
    rt.engine.dispose()


def _post(client: FlaskClient, email: str, password: str, address: str = "10.0.0.1",
          **extra: str) -> Any:
    env = {"REMOTE_ADDR": address}
    page = client.get("/sign-in", environ_base=env).get_data(as_text=True)
    csrf = CSRF.search(page)
    assert csrf is not None
    return client.post("/sign-in", environ_base=env,
                       data={"email": email, "password": password, "csrf_token": csrf.group(1),
                             **extra})


def test_sign_in_is_limited_per_address(limited: Flask) -> None:
    client = limited.test_client()
    statuses = [_post(client, f"person{i}@example.org", "wrong-password-1").status_code
                for i in range(4)]
    assert statuses == [401, 401, 401, 429]
    # Another address is not held up by this one.
    assert _post(client, COACH, PASSWORD, address="10.0.0.2").status_code == 302
    assert len(events(limited.extensions["caseshare"], type="identity:session:start",
                      decision="deny")) == 3  # the refused attempt never reached a check


def test_sign_in_is_limited_per_account_across_addresses(limited: Flask) -> None:
    client = limited.test_client()
    statuses = [_post(client, f" {COACH.upper()} ", "wrong-password-1",
                      address=f"10.0.1.{i}").status_code for i in range(4)]
    assert statuses == [401, 401, 401, 429]
    assert _post(client, HOUSING, PASSWORD, address="10.0.1.9").status_code == 302


def test_unknown_known_and_locked_accounts_get_the_same_answer_after_the_same_work(
    client: FlaskClient, rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    with rt.session_factory() as s:
        list(seed(s, rt))
    checks: list[str] = []
    real_verify = passwords.PasswordHasher.verify

    def counting_verify(self: Any, hashed: Any, password: Any) -> Any:
        checks.append("verify")
        return real_verify(self, hashed, password)

    monkeypatch.setattr(passwords.PasswordHasher, "verify", counting_verify)

    def answer(email: str, address: str) -> tuple[int, str, str]:
        checks.clear()
        r = _post(client, email, "wrong-password-1", address=address)
        body = r.get_data(as_text=True)
        found = ERROR.search(body)
        assert found is not None and checks == ["verify"], (email, checks)
        # The whole page, but for the address typed and the form's CSRF token.
        page = CSRF.sub("", body.replace(email, ""))
        return r.status_code, " ".join(found.group(1).split()), page

    unknown = answer("nobody@jcp-derby.example", "10.0.2.1")
    known = answer(COACH, "10.0.2.2")
    for i in range(passwords.MAX_FAILURES - 1):
        answer(COACH, f"10.0.2.{3 + i}")
    with rt.session_factory() as s:
        staff = s.query(StaffMember).filter_by(email=COACH).one()
        assert staff.locked_until is not None  # now locked
    locked = answer(COACH, "10.0.2.20")
    assert unknown == known == locked
    assert unknown[0] == 401 and unknown[1].endswith("The email, password or code is not right")
    reasons = [e.reasons for e in events(rt, type="identity:session:start", decision="deny")]
    assert reasons[-1] == ["account-locked"]  # the audit still tells the IG officer why


def test_a_totp_code_works_once(client: FlaskClient, rt: Runtime, clock: Clock) -> None:
    with rt.session_factory() as s:
        list(seed(s, rt))
        staff = s.query(StaffMember).filter_by(email=IG).one()
        secret = passwords.new_totp_secret(staff)
        s.commit()
    code = pyotp.TOTP(secret).at(clock.now)
    assert _post(client, IG, PASSWORD, code=code).status_code == 302
    other = client.application.test_client()
    replay = _post(other, IG, PASSWORD, address="10.0.3.1", code=code)
    assert replay.status_code == 401  # the same code again, within its window
    denied = events(rt, type="identity:session:start", decision="deny")
    assert denied and denied[-1].details["staff_id"]
    # An earlier step's code (still inside the window) is refused too.
    earlier = pyotp.TOTP(secret).at(clock.now, counter_offset=-1)
    assert _post(other, IG, PASSWORD, address="10.0.3.2", code=earlier).status_code == 401
    clock.advance(seconds=30)
    fresh = pyotp.TOTP(secret).at(clock.now)
    assert _post(other, IG, PASSWORD, address="10.0.3.3", code=fresh).status_code == 302
