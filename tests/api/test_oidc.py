"""Authorization code + PKCE with OpenID Connect on the built-in provider."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from flask.testing import FlaskClient
from joserfc import jwt

from caseshare.identity import passwords
from caseshare.identity import service as identity
from caseshare.runtime import Runtime
from tests.audit_helpers import events
from tests.conftest import COACH, Clock, Demo

REDIRECT = "https://web.derby.example/auth/callback"
PASSWORD = "demo-password-2026"


@pytest.fixture
def web_client(rt: Runtime, demo: Demo) -> str:
    with rt.session_factory() as s:
        identity.add_client(s, protocols=rt.protocols, client_id="derby-web", name="Derby web",
                            org="jcp-derby", roles=["work_coach"], now=rt.now(),
                            redirect_uris=[REDIRECT], public=True)
        s.commit()
    return "derby-web"


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _authorize_params(challenge: str | None, **extra: str) -> dict[str, str]:
    params = {"response_type": "code", "client_id": "derby-web", "redirect_uri": REDIRECT,
              "scope": "openid email case_plans:read", "state": "st-123", "nonce": "n-456"}
    if challenge:
        params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    return params | extra


def _sign_in(client: FlaskClient, params: dict[str, str], email: str = COACH,
             password: str = PASSWORD) -> Any:
    page = client.get("/oauth/authorize", query_string=params)
    assert page.status_code == 200 and "Sign in to Caseshare" in page.get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
    assert csrf is not None
    return client.post("/oauth/authorize", query_string=params,
                       data={"csrf_token": csrf.group(1), "email": email, "password": password})


def _code(response: Any) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)
    location = urlparse(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    query = parse_qs(location.query)
    assert query["state"] == ["st-123"]
    return query["code"][0]


def _exchange(client: FlaskClient, code: str, verifier: str) -> Any:
    return client.post("/oauth/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "client_id": "derby-web", "code_verifier": verifier})


def test_staff_sign_in_with_pkce_gives_access_and_id_tokens(
    client: FlaskClient, rt: Runtime, demo: Demo, web_client: str
) -> None:
    verifier, challenge = _pkce()
    code = _code(_sign_in(client, _authorize_params(challenge)))
    r = _exchange(client, code, verifier)
    assert r.status_code == 200, r.json
    id_token = jwt.decode(r.json["id_token"], rt.token_keys.key_set())
    assert id_token.claims["aud"] == "derby-web" and id_token.claims["nonce"] == "n-456"
    assert id_token.claims["email"] == COACH and id_token.claims["caseshare_org"] == "jcp-derby"
    plan = client.get(f"/api/v1/subjects/{demo.lee}/case-plan?purpose=case_management",
                      headers={"Authorization": f"Bearer {r.json['access_token']}"})
    assert plan.status_code == 200
    userinfo = client.get("/oauth/userinfo",
                          headers={"Authorization": f"Bearer {r.json['access_token']}"})
    assert userinfo.json["caseshare_roles"] == ["work_coach"]
    assert events(rt, type="identity:session:start", decision="allow")
    # A code works once.
    assert _exchange(client, code, verifier).json["error"] == "invalid_grant"


def test_wrong_verifier_and_missing_pkce_are_refused(
    client: FlaskClient, demo: Demo, web_client: str
) -> None:
    _verifier, challenge = _pkce()
    code = _code(_sign_in(client, _authorize_params(challenge)))
    assert _exchange(client, code, _pkce()[0]).json["error"] == "invalid_grant"
    r = client.get("/oauth/authorize", query_string=_authorize_params(None))
    assert r.status_code == 400 and r.json["error"] == "invalid_request"
    assert "PKCE" in r.json["error_description"]


def test_unregistered_redirect_is_never_followed(client: FlaskClient, demo: Demo,
                                                 web_client: str) -> None:
    _v, challenge = _pkce()
    r = client.get("/oauth/authorize", query_string=_authorize_params(
        challenge, redirect_uri="https://evil.example/cb"))
    assert r.status_code == 400 and "Location" not in r.headers


def test_failed_sign_in_is_audited_and_gives_no_code(
    client: FlaskClient, rt: Runtime, demo: Demo, web_client: str
) -> None:
    _v, challenge = _pkce()
    r = _sign_in(client, _authorize_params(challenge), password="not the password")
    assert r.status_code == 401 and "Location" not in r.headers
    assert "not right" in r.get_data(as_text=True)
    refused = events(rt, type="identity:session:start", decision="deny")
    assert refused and refused[-1].reasons
    assert not events(rt, type="identity:session:start", decision="allow")


def test_code_expires_after_two_minutes(client: FlaskClient, demo: Demo, web_client: str,
                                        clock: Clock) -> None:
    verifier, challenge = _pkce()
    code = _code(_sign_in(client, _authorize_params(challenge)))
    clock.advance(minutes=3)
    assert _exchange(client, code, verifier).json["error"] == "invalid_grant"


def test_lockout_applies_to_the_sign_in_page(client: FlaskClient, rt: Runtime, demo: Demo,
                                             web_client: str) -> None:
    _v, challenge = _pkce()
    for _ in range(passwords.MAX_FAILURES):
        _sign_in(client, _authorize_params(challenge), password="wrong password")
    r = _sign_in(client, _authorize_params(challenge))
    # Locked: the same answer as a wrong password, so it tells nobody the address has an account
    assert r.status_code == 401 and "not right" in r.get_data(as_text=True)
    assert "Location" not in r.headers
    unknown = _sign_in(client, _authorize_params(challenge), email="nobody@jcp-derby.example")
    assert unknown.status_code == 401
    assert _error(unknown) == _error(r)
    assert len(events(rt, type="identity:session:start")) == passwords.MAX_FAILURES + 2


def _error(response: Any) -> str:
    found = re.search(r'<div role="alert" id="error-summary">(.*?)</div>',
                      response.get_data(as_text=True), re.S)
    assert found is not None
    return found.group(1)


def _provider_session_alive(client: FlaskClient) -> bool:
    """Whether the provider hands out a code without asking for a password."""
    _v, challenge = _pkce()
    r = client.get("/oauth/authorize", query_string=_authorize_params(challenge))
    if r.status_code == 302:
        return True
    assert r.status_code == 200 and "Sign in to Caseshare" in r.get_data(as_text=True)
    return False


def test_rp_initiated_logout_ends_the_provider_session_even_for_a_copied_cookie(
    client: FlaskClient, rt: Runtime, demo: Demo, web_client: str
) -> None:
    _v, challenge = _pkce()
    _code(_sign_in(client, _authorize_params(challenge)))
    assert _provider_session_alive(client)
    copied = client.get_cookie("caseshare_session")
    assert copied is not None
    discovery = client.get("/.well-known/openid-configuration").json
    assert discovery["end_session_endpoint"].endswith("/oauth/logout")
    back = "https://web.derby.example/signed-out"
    r = client.get("/oauth/logout", query_string={"client_id": "derby-web",
                                                  "post_logout_redirect_uri": back,
                                                  "state": "x"})
    assert r.status_code == 302 and r.headers["Location"] == back + "?state=x"
    assert not _provider_session_alive(client)
    ended = events(rt, type="identity:session:end")
    assert len(ended) == 1 and ended[0].details["reason"] == "rp_logout"
    thief = client.application.test_client()
    thief.set_cookie("caseshare_session", copied.value, domain=copied.domain or "localhost")
    assert not _provider_session_alive(thief)


def test_logout_never_redirects_to_an_unregistered_origin(
    client: FlaskClient, demo: Demo, web_client: str
) -> None:
    _v, challenge = _pkce()
    _code(_sign_in(client, _authorize_params(challenge)))
    r = client.get("/oauth/logout", query_string={
        "client_id": "derby-web", "post_logout_redirect_uri": "https://evil.example/x"})
    assert r.status_code == 200 and "Location" not in r.headers
    assert not _provider_session_alive(client)


def test_signing_out_of_the_caseshare_pages_ends_the_provider_session(
    client: FlaskClient, rt: Runtime, demo: Demo, web_client: str
) -> None:
    _v, challenge = _pkce()
    _code(_sign_in(client, _authorize_params(challenge)))
    page = client.get("/sign-in").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf is not None
    out = client.post("/sign-out", data={"csrf_token": csrf.group(1)})
    assert out.status_code == 302 and "/sign-in" in out.headers["Location"]
    assert not _provider_session_alive(client)
    assert len(events(rt, type="identity:session:end")) == 1


def test_disabling_the_person_ends_their_provider_session(
    client: FlaskClient, rt: Runtime, demo: Demo, web_client: str
) -> None:
    _v, challenge = _pkce()
    _code(_sign_in(client, _authorize_params(challenge)))
    assert _provider_session_alive(client)
    with rt.session_factory() as s:
        identity.set_staff_active(s, email=COACH, active=False, now=rt.now())
        s.commit()
    assert not _provider_session_alive(client)
