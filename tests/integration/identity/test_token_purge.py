"""`flask caseshare token purge-expired`: the revocations of tokens that have expired go, the
revocations of tokens still live stay (a live revoked token must keep failing)."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import select

from caseshare.identity.models import RevokedToken
from caseshare.runtime import Runtime
from tests.conftest import Clock


def test_purge_expired_drops_only_the_revocations_of_expired_tokens(
    app: Flask, rt: Runtime, clock: Clock,
) -> None:
    now = clock.now
    with rt.session_factory() as s:
        s.add_all([
            RevokedToken(jti="expired-yesterday", expires_at=now - timedelta(days=1),
                         revoked_at=now - timedelta(days=2), staff_id=None),
            RevokedToken(jti="expired-a-second-ago", expires_at=now - timedelta(seconds=1),
                         revoked_at=now - timedelta(minutes=5), staff_id=None),
            RevokedToken(jti="live-for-a-minute", expires_at=now + timedelta(minutes=1),
                         revoked_at=now - timedelta(minutes=5), staff_id=None),
        ])
        s.commit()

    result = app.test_cli_runner().invoke(args=["caseshare", "token", "purge-expired"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "purged 2"

    with rt.session_factory() as s:
        assert list(s.scalars(select(RevokedToken.jti))) == ["live-for-a-minute"]

    again = app.test_cli_runner().invoke(args=["caseshare", "token", "purge-expired"])
    assert again.exit_code == 0 and again.output.strip() == "purged 0"
