"""Staff sign-in through an external OpenID Connect provider, end to end against a real
provider: a second Caseshare (the built-in provider) served over HTTP on a loopback port."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import requests
from flask import Flask
from sqlalchemy import select
from werkzeug.serving import make_server

from caseshare import create_app
from caseshare.demo import DEMO_PASSWORD, seed
from caseshare.identity import service as identity
from caseshare.identity.models import ExternalIdentity
from caseshare.runtime import Runtime
from tests.audit_helpers import events
from tests.conftest import COACH, Clock, _database_url
from tests.pg_server import _free_port

CALLBACK = "http://localhost/sign-in/organisation/callback"


@pytest.fixture
def provider(templates: dict[str, Any], tmp_path: Path, clock: Clock) -> Iterator[str]:
    """Caseshare's built-in provider on a real port, with the demo staff and a confidential
    client registered for the relying party's callback."""
    (tmp_path / "p").mkdir()
    port = _free_port()
    issuer = f"http://127.0.0.1:{port}"
    app = create_app({"instance_path": tmp_path / "provider", "issuer": issuer, "clock": clock,
                      "database_url": _database_url("sqlite", templates, tmp_path / "p")})
    rt: Runtime = app.extensions["caseshare"]
    with rt.session_factory() as s:
        list(seed(s, rt))
        identity.add_client(s, protocols=rt.protocols, client_id="council-web",
                            name="Derby council web", org="derby-housing",
                            roles=["housing_officer"], now=rt.now(), secret="rp-secret-0123456789",
                            redirect_uris=[CALLBACK])
        s.commit()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield issuer
    server.shutdown()
    rt.engine.dispose()


@pytest.fixture
def relying(provider: str, templates: dict[str, Any], tmp_path: Path, clock: Clock) -> Flask:
    (tmp_path / "r").mkdir()
    app = create_app({"instance_path": tmp_path / "relying", "clock": clock,
                      "database_url": _database_url("sqlite", templates, tmp_path / "r"),
                      "oidc_issuer": provider, "oidc_client_id": "council-web",
                      "oidc_client_secret": "rp-secret-0123456789"})
    rt: Runtime = app.extensions["caseshare"]
    with rt.session_factory() as s:
        list(seed(s, rt))
    return app


def _provider_sign_in(location: str, email: str, browser: requests.Session | None = None) -> str:
    """What the browser does at the provider: load its sign-in page and post credentials."""
    browser = browser or requests.Session()
    page = browser.get(location, timeout=10)
    assert page.status_code == 200 and "Sign in to Caseshare" in page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf is not None
    answer = browser.post(location, data={"csrf_token": csrf.group(1), "email": email,
                                          "password": DEMO_PASSWORD},
                          allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    return str(answer.headers["Location"])


def test_sign_in_with_the_organisation_provider(relying: Flask, provider: str) -> None:
    client = relying.test_client()
    assert "Sign in with your organisation" in client.get("/sign-in").get_data(as_text=True)
    start = client.get("/sign-in/organisation")
    assert start.status_code == 302 and start.headers["Location"].startswith(provider)
    assert "code_challenge_method=S256" in start.headers["Location"]

    callback = urlparse(_provider_sign_in(start.headers["Location"], COACH))
    finish = client.get(f"{callback.path}?{callback.query}")
    assert finish.status_code == 302 and finish.headers["Location"].endswith("/purpose")
    purpose = client.get("/purpose")
    assert purpose.status_code == 200 and "Sam Okafor" in purpose.get_data(as_text=True)
    rt: Runtime = relying.extensions["caseshare"]
    started = [e for e in events(rt, type="identity:session:start") if e.decision == "allow"]
    assert started and started[-1].org == "jcp-derby"
    # Bound by the provider's (issuer, subject); the audit event names those, not the e-mail.
    with rt.session_factory() as s:
        link = s.scalars(select(ExternalIdentity)).one()
        assert link.issuer == provider
        assert link.staff_id == identity.get_staff_by_email(s, COACH).id
    assert started[-1].details["issuer"] == provider
    assert started[-1].details["subject"] == link.subject and started[-1].details["linked"]
    assert COACH not in str(started[-1].details)


def test_signing_out_ends_the_provider_session_too(relying: Flask, provider: str) -> None:
    client, browser = relying.test_client(), requests.Session()
    start = client.get("/sign-in/organisation")
    callback = urlparse(_provider_sign_in(start.headers["Location"], COACH, browser))
    assert client.get(f"{callback.path}?{callback.query}").status_code == 302
    # While the provider session lasts, the provider hands out a code without a password.
    again = client.get("/sign-in/organisation").headers["Location"]
    silent = browser.get(again, allow_redirects=False, timeout=10)
    assert silent.status_code == 302
    callback = urlparse(silent.headers["Location"])
    assert client.get(f"{callback.path}?{callback.query}").status_code == 302

    page = client.get("/purpose").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf is not None
    out = client.post("/sign-out", data={"csrf_token": csrf.group(1)})
    assert out.status_code == 302
    assert out.headers["Location"].startswith(f"{provider}/oauth/logout?")  # RP-initiated
    back = browser.get(out.headers["Location"], allow_redirects=False, timeout=10)
    assert back.status_code == 302
    assert back.headers["Location"].startswith("http://localhost/sign-in?notice=signed_out")
    assert client.get("/purpose").status_code == 302  # signed out here

    third = client.get("/sign-in/organisation").headers["Location"]
    page_at_provider = browser.get(third, allow_redirects=False, timeout=10)
    assert page_at_provider.status_code == 200  # the password is asked for again
    assert "Sign in to Caseshare" in page_at_provider.text


def test_passwords_are_refused_when_an_organisation_provider_is_configured(
    relying: Flask
) -> None:
    client = relying.test_client()
    page = client.get("/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    data = {"email": COACH, "password": DEMO_PASSWORD}
    if token:
        data["csrf_token"] = token.group(1)
    # Refused by the CSRF check (the page has no password form to take a token from) or by the
    # provider rule; either way no session starts.
    assert client.post("/sign-in", data=data).status_code in (400, 403)
    after = client.get("/purpose")
    assert after.status_code == 302 and "/sign-in" in after.headers["Location"]


def test_a_forged_state_or_an_unknown_person_does_not_sign_in(
    relying: Flask, provider: str
) -> None:
    client = relying.test_client()
    start = client.get("/sign-in/organisation")
    callback = urlparse(_provider_sign_in(start.headers["Location"], COACH))
    forged = re.sub(r"state=[^&]+", "state=forged", callback.query)
    assert client.get(f"{callback.path}?{forged}").status_code == 400

    # A staff member the relying party's directory does not know.
    rt: Runtime = relying.extensions["caseshare"]
    with rt.session_factory() as s:
        identity.get_staff_by_email(s, COACH).active = False
        s.commit()
    start = client.get("/sign-in/organisation")
    callback = urlparse(_provider_sign_in(start.headers["Location"], COACH))
    refused = client.get(f"{callback.path}?{callback.query}")
    assert refused.status_code == 401
    denied = [e for e in events(rt, type="identity:session:start") if e.decision == "deny"]
    assert denied and denied[-1].details["via"] == "oidc"
