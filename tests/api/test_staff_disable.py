"""Switching staff off (issue 18, item 8), both engines: `staff disable` ends every token and
session of the person on the next request, in this app and in another app instance on the same
database (whose verified-token cache has the token); `staff enable` lets them in again without
reviving anything; a change of organisation or roles ends earlier tokens for good (moving back
revives nothing); every token kind can be revoked (CLI, public client, operator command)."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from flask import Flask
from flask.testing import FlaskClient

from caseshare import create_app
from caseshare.identity import service as identity
from caseshare.runtime import Runtime
from tests.audit_helpers import events
from tests.conftest import COACH, Clock, Demo
from tests.web.browser import PASSWORD

PLAN = "/api/v1/subjects/{}/case-plan?purpose=case_management"
REDIRECT = "https://web.derby.example/auth/callback"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _cli(app: Flask, *args: str, stdin: str | None = None) -> Any:
    result = app.test_cli_runner().invoke(args=["caseshare", *args], input=stdin)
    assert result.exit_code == 0, result.output
    return result.output.strip()


def _read(client: FlaskClient, demo: Demo, token: str) -> int:
    return client.get(PLAN.format(demo.lee),
                      headers={"Authorization": f"Bearer {token}"}).status_code


@pytest.fixture
def other(app: Flask, rt: Runtime, tmp_path: Path, clock: Clock) -> Iterator[Flask]:
    """A second app instance (another worker or server) on the same database and keys."""
    second = create_app({"instance_path": rt.settings.instance_path,
                         "database_url": rt.settings.database_url, "clock": clock,
                         "ratelimit_default": "100000 per minute"})
    second.config["TESTING"] = True
    yield second
    second.extensions["caseshare"].engine.dispose()


@pytest.fixture
def public_client(rt: Runtime, demo: Demo) -> str:
    with rt.session_factory() as s:
        identity.add_client(s, protocols=rt.protocols, client_id="derby-web", name="Derby web",
                            org="jcp-derby", roles=["work_coach"], now=rt.now(),
                            redirect_uris=[REDIRECT], public=True)
        s.commit()
    return "derby-web"


def _client_token(client: FlaskClient, client_id: str = "derby-web",
                  secret: str | None = None) -> str:
    """An access token for the coach through a web client (authorization code + PKCE; the
    public client unless a secret is given)."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(
        hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT,
              "scope": "openid case_plans:read", "state": "s", "nonce": "n",
              "code_challenge": challenge, "code_challenge_method": "S256"}
    page = client.get("/oauth/authorize", query_string=params).get_data(as_text=True)
    csrf = CSRF.search(page)
    assert csrf is not None
    answer = client.post("/oauth/authorize", query_string=params,
                         data={"csrf_token": csrf.group(1), "email": COACH,
                               "password": PASSWORD})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    code = parse_qs(urlparse(answer.headers["Location"]).query)["code"][0]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "client_id": client_id, "code_verifier": verifier}
    if secret:
        form["client_secret"] = secret
    r = client.post("/oauth/token", data=form)
    assert r.status_code == 200, r.get_data(as_text=True)
    return str(r.json["access_token"])


def _web_sign_in(client: FlaskClient) -> None:
    csrf = CSRF.search(client.get("/sign-in").get_data(as_text=True))
    assert csrf is not None
    r = client.post("/sign-in", data={"email": COACH, "password": PASSWORD,
                                      "csrf_token": csrf.group(1)})
    assert r.status_code == 302 and r.headers["Location"] == "/purpose", r.status_code


def _web_page(client: FlaskClient) -> int:
    return client.get("/purpose").status_code  # 200 signed in, 302 to /sign-in otherwise


def test_disable_ends_cli_client_and_web_credentials_on_the_next_request_everywhere(
    app: Flask, other: Flask, rt: Runtime, demo: Demo, public_client: str
) -> None:
    here, there = app.test_client(), other.test_client()
    cli_token = _cli(app, "token", "issue", "--user", COACH)
    client_token = _client_token(app.test_client())
    browser = other.test_client()
    _web_sign_in(browser)
    for token in (cli_token, client_token):  # verified and cached by both instances
        assert _read(here, demo, token) == 200 and _read(there, demo, token) == 200
        assert other.extensions["caseshare"].verified_tokens.get(token, rt.now()) is not None
    assert _web_page(browser) == 200

    staff_id = _cli(app, "staff", "disable", "--email", COACH)

    for token in (cli_token, client_token):
        assert _read(there, demo, token) == 401  # the other instance's cache does not keep it
        assert _read(here, demo, token) == 401
    assert _web_page(browser) == 302
    disabled = events(rt, type="identity:staff:disable")
    assert len(disabled) == 1 and disabled[0].details["staff_id"] == staff_id
    assert COACH not in str(disabled[0].details)
    assert app.test_cli_runner().invoke(
        args=["caseshare", "token", "issue", "--user", COACH]).exit_code != 0


def test_enable_lets_the_person_in_again_but_revives_nothing(
    app: Flask, rt: Runtime, demo: Demo
) -> None:
    client = app.test_client()
    old = _cli(app, "token", "issue", "--user", COACH)
    assert _read(client, demo, old) == 200
    _cli(app, "staff", "disable", "--email", COACH)
    _cli(app, "staff", "enable", "--email", COACH)
    assert len(events(rt, type="identity:staff:enable")) == 1
    assert _read(client, demo, old) == 401
    new = _cli(app, "token", "issue", "--user", COACH)
    assert _read(client, demo, new) == 200
    browser = app.test_client()
    _web_sign_in(browser)
    assert _web_page(browser) == 200


def test_moving_organisation_and_back_leaves_old_tokens_and_sessions_dead(
    app: Flask, other: Flask, rt: Runtime, demo: Demo
) -> None:
    client = other.test_client()
    old = _cli(app, "token", "issue", "--user", COACH)
    browser = app.test_client()
    _web_sign_in(browser)
    assert _read(client, demo, old) == 200
    _cli(app, "staff", "add", "--email", COACH, "--name", "Sam Okafor", "--org",
         "derby-housing", "--role", "housing_officer")
    _cli(app, "staff", "add", "--email", COACH, "--name", "Sam Okafor", "--org", "jcp-derby",
         "--role", "work_coach")
    assert _read(client, demo, old) == 401
    assert _web_page(browser) == 302
    assert _read(client, demo, _cli(app, "token", "issue", "--user", COACH)) == 200


def test_a_change_of_roles_alone_ends_earlier_tokens(app: Flask, rt: Runtime,
                                                     demo: Demo) -> None:
    client = app.test_client()
    old = _cli(app, "token", "issue", "--user", COACH)
    with rt.session_factory() as s:
        staff = identity.get_staff_by_email(s, COACH)
        roles, org = list(staff.roles), staff.org_id
    _cli(app, "staff", "add", "--email", COACH, "--name", "Sam Okafor", "--org", org,
         *[a for r in [*roles, "ig_officer"] for a in ("--role", r)])
    assert _read(client, demo, old) == 401
    # Re-saving the same organisation and roles changes nothing.
    token = _cli(app, "token", "issue", "--user", COACH)
    _cli(app, "staff", "add", "--email", COACH, "--name", "Sam O.", "--org", org,
         *[a for r in [*roles, "ig_officer"] for a in ("--role", r)])
    assert _read(client, demo, token) == 200


def test_operator_revokes_one_cli_token_or_every_token_of_a_person(
    app: Flask, other: Flask, rt: Runtime, demo: Demo
) -> None:
    client = other.test_client()
    first = _cli(app, "token", "issue", "--user", COACH)
    second = _cli(app, "token", "issue", "--user", COACH)
    assert _read(client, demo, first) == 200 and _read(client, demo, second) == 200
    assert _cli(app, "token", "revoke", "--token", "-", stdin=first) == "revoked"
    assert _read(client, demo, first) == 401 and _read(client, demo, second) == 200
    revoked = events(rt, type="identity:token:revoke")
    assert revoked and revoked[-1].details["via"] == "cli"
    _cli(app, "token", "revoke", "--user", COACH)
    assert _read(client, demo, second) == 401
    assert _read(client, demo, _cli(app, "token", "issue", "--user", COACH)) == 200


def test_a_public_client_revokes_its_own_token(app: Flask, other: Flask, rt: Runtime,
                                                demo: Demo, public_client: str) -> None:
    token = _client_token(app.test_client())
    there = other.test_client()
    assert _read(there, demo, token) == 200
    r = app.test_client().post("/oauth/revoke", data={"token": token, "client_id": "derby-web"})
    assert r.status_code == 200, r.get_data(as_text=True)
    assert _read(there, demo, token) == 401
    assert len(events(rt, type="identity:token:revoke")) == 1
    # Another client cannot revoke it by naming itself without a secret.
    token = _client_token(app.test_client())
    with rt.session_factory() as s:
        identity.add_client(s, protocols=rt.protocols, client_id="confidential", name="C",
                            org="jcp-derby", roles=["work_coach"], now=rt.now(),
                            secret="a-secret-0123456789")
        s.commit()
    r = app.test_client().post("/oauth/revoke", data={"token": token,
                                                      "client_id": "confidential"})
    assert r.status_code in (400, 401)
    assert _read(there, demo, token) == 200


def test_introspection_and_userinfo_agree_once_the_person_is_disabled(
    app: Flask, rt: Runtime, demo: Demo
) -> None:
    auth = ("derby-conf", "web-secret-0123456789")
    with rt.session_factory() as s:
        identity.add_client(s, protocols=rt.protocols, client_id=auth[0], name="Derby web",
                            org="jcp-derby", roles=["work_coach"], now=rt.now(),
                            secret=auth[1], redirect_uris=[REDIRECT])
        s.commit()
    client = app.test_client()
    token = _client_token(client, *auth)
    bearer = {"Authorization": f"Bearer {token}"}

    def introspect() -> Any:
        basic = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        return client.post("/oauth/introspect", data={"token": token},
                           headers={"Authorization": f"Basic {basic}"}).json

    assert introspect()["active"] is True
    assert client.get("/oauth/userinfo", headers=bearer).status_code == 200
    _cli(app, "staff", "disable", "--email", COACH)
    assert introspect() == {"active": False}
    assert client.get("/oauth/userinfo", headers=bearer).status_code == 401
    assert len(events(rt, type="identity:staff:disable")) == 1
