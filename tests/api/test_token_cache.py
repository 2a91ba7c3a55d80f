"""The verified-token cache (identity/token_cache.py) saves only the signature check: a change
made in this process or in any other (another worker, the CLI) ends access on the very next
request; expiry at the token's exp."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from flask.testing import FlaskClient
from sqlalchemy import insert, update

from caseshare.identity import service as identity
from caseshare.identity.models import RevokedToken, StaffMember
from caseshare.identity.tokens import validate
from caseshare.runtime import Runtime
from tests.conftest import COACH, Clock, Demo, issue_token

PLAN = "/api/v1/subjects/{}/case-plan?purpose=case_management"


def _read(client: FlaskClient, demo: Demo, token: str) -> int:
    return client.get(PLAN.format(demo.lee),
                      headers={"Authorization": f"Bearer {token}"}).status_code


def _claims(rt: Runtime, token: str) -> tuple[str, str, int]:
    c = validate(token, rt.token_keys.key_set(), issuer=rt.settings.issuer,
                 audience=rt.settings.audience, now=rt.now())
    return c.jti, c.subject, c.expires_at


def _from_another_process(rt: Runtime, statement: object) -> None:
    """A change written straight to the database, as another worker or the CLI would make it:
    no session of this process sees it, so nothing here is told."""
    with rt.engine.begin() as conn:
        conn.execute(statement)  # type: ignore[call-overload]


def test_repeat_token_is_served_from_the_cache(client: FlaskClient, rt: Runtime,
                                               demo: Demo) -> None:
    token = issue_token(rt, COACH)
    assert _read(client, demo, token) == 200
    assert rt.verified_tokens.get(token, rt.now()) is not None
    assert _read(client, demo, token) == 200


def test_suspending_staff_in_this_process_ends_access_on_the_next_request(
    client: FlaskClient, rt: Runtime, demo: Demo
) -> None:
    token = issue_token(rt, COACH)
    assert _read(client, demo, token) == 200
    with rt.session_factory() as s:
        identity.get_staff_by_email(s, COACH).active = False
        s.commit()
    assert _read(client, demo, token) == 401


def test_moving_staff_to_another_organisation_in_this_process_ends_access_at_once(
    client: FlaskClient, rt: Runtime, demo: Demo
) -> None:
    token = issue_token(rt, COACH)
    assert _read(client, demo, token) == 200
    with rt.session_factory() as s:
        identity.add_or_update_staff(s, protocols=rt.protocols, email=COACH, name="Sam Okafor",
                                     org="derby-housing", roles=["housing_officer"],
                                     now=rt.now())
        s.commit()
    assert _read(client, demo, token) == 401


def test_a_rolled_back_directory_change_keeps_the_cache(client: FlaskClient, rt: Runtime,
                                                        demo: Demo) -> None:
    token = issue_token(rt, COACH)
    assert _read(client, demo, token) == 200
    with rt.session_factory() as s:
        identity.get_staff_by_email(s, COACH).active = False
        s.flush()
        s.rollback()
    assert rt.verified_tokens.get(token, rt.now()) is not None
    assert _read(client, demo, token) == 200


def test_revocation_by_another_process_takes_effect_on_the_next_request(
    client: FlaskClient, rt: Runtime, demo: Demo
) -> None:
    token = issue_token(rt, COACH)
    assert _read(client, demo, token) == 200
    assert rt.verified_tokens.get(token, rt.now()) is not None  # cached in this worker
    jti, subject, exp = _claims(rt, token)
    _from_another_process(rt, insert(RevokedToken).values(
        jti=jti, expires_at=datetime.fromtimestamp(exp, UTC), revoked_at=rt.now(),
        staff_id=uuid.UUID(subject)))
    assert _read(client, demo, token) == 401  # no clock advance: the cache does not keep it


def test_suspension_by_another_process_takes_effect_on_the_next_request(
    client: FlaskClient, rt: Runtime, demo: Demo
) -> None:
    token = issue_token(rt, COACH)
    assert _read(client, demo, token) == 200
    _from_another_process(rt, update(StaffMember).where(StaffMember.email == COACH)
                          .values(active=False))
    assert _read(client, demo, token) == 401


def test_cached_token_is_refused_once_it_expires(client: FlaskClient, rt: Runtime, demo: Demo,
                                                 clock: Clock) -> None:
    token = issue_token(rt, COACH, ttl=60)
    assert _read(client, demo, token) == 200
    clock.advance(seconds=61 + 30)  # past exp and the validation leeway
    assert _read(client, demo, token) == 401


def test_only_the_exact_verified_token_hits(client: FlaskClient, rt: Runtime,
                                            demo: Demo) -> None:
    token = issue_token(rt, COACH)
    assert _read(client, demo, token) == 200
    header, payload, signature = token.split(".")
    forged = f"{header}.{payload}.{signature[:-4]}AAAA"
    assert _read(client, demo, forged) == 401
