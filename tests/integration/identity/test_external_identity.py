"""External sign-in binds a person to staff by the provider's (issuer, subject) (issue 18, item
9), both engines: the first link needs `email_verified: true` and the tenant claim configured
for the staff member's organisation; later sign-ins match by (issuer, subject) only, never by
e-mail; refusals are audited with issuer and subject, never the e-mail address. The provider
is stood in for at the relying party's two network calls (code exchange and ID token check),
so the claims can be exactly those of a hostile or misconfigured provider."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from flask import Flask
from flask.testing import FlaskClient

from caseshare import create_app
from caseshare.demo import seed
from caseshare.identity import service as identity
from caseshare.identity.models import ExternalIdentity
from caseshare.identity.oidc_client import Attempt, RelyingParty
from caseshare.runtime import Runtime
from tests.audit_helpers import count, events
from tests.conftest import COACH, Clock, _database_url

ISSUER = "https://login.example/derby-tenant/v2.0"
TENANT = "0d1e2f-derby"


class StandInProvider(RelyingParty):
    """The relying party with the provider's answers fixed by the test."""

    claims: dict[str, Any]

    def authorization_url(self, attempt: Attempt, redirect_uri: str) -> str:
        return f"{self.issuer}/authorize?state={attempt.state}"

    def exchange(self, code: str, attempt: Attempt, redirect_uri: str) -> dict[str, Any]:
        return {"id_token": "stand-in"}

    def verify_id_token(self, id_token: str, attempt: Attempt, now: datetime) -> dict[str, Any]:
        return dict(self.claims)


@pytest.fixture
def relying(engine: str, templates: dict[str, Any], tmp_path: Path,
            clock: Clock) -> Iterator[Flask]:
    app = create_app({"instance_path": tmp_path / "instance", "clock": clock,
                      "database_url": _database_url(engine, templates, tmp_path),
                      "oidc_issuer": ISSUER, "oidc_client_id": "caseshare",
                      "oidc_org_claim": "tid", "oidc_org_tenants": f"jcp-derby={TENANT}"})
    app.config["TESTING"] = True
    rt: Runtime = app.extensions["caseshare"]
    with rt.session_factory() as s:
        list(seed(s, rt))
    provider = StandInProvider(ISSUER, "caseshare", "", "tid", {"jcp-derby": TENANT})
    provider.claims = {}
    app.extensions["caseshare.oidc"] = provider
    yield app
    rt.engine.dispose()


def _sign_in(app: Flask, **claims: Any) -> tuple[FlaskClient, int]:
    provider: StandInProvider = app.extensions["caseshare.oidc"]
    provider.claims = {"iss": ISSUER, "aud": "caseshare", **claims}
    client = app.test_client()
    start = client.get("/sign-in/organisation")
    assert start.status_code == 302
    state = parse_qs(urlparse(start.headers["Location"]).query)["state"][0]
    finish = client.get(f"/sign-in/organisation/callback?code=c&state={state}")
    return client, finish.status_code


def _session_events(app: Flask, decision: str) -> list[Any]:
    return events(app.extensions["caseshare"], type="identity:session:start", decision=decision)


def test_first_link_needs_a_verified_email_and_the_configured_tenant(relying: Flask) -> None:
    good = {"sub": "entra-sam", "email": COACH, "tid": TENANT}
    for claims, reason in (
        ({**good}, "email-not-verified"),  # email_verified missing
        ({**good, "email_verified": "true"}, "email-not-verified"),  # not the boolean true
        ({**good, "email_verified": False}, "email-not-verified"),
        ({**good, "email_verified": True, "tid": "another-tenant"}, "wrong-tenant"),
        ({**good, "email_verified": True, "tid": None}, "wrong-tenant"),
    ):
        client, status = _sign_in(relying, **claims)
        assert status == 401, claims
        assert client.get("/purpose").status_code == 302  # no session
        denied = _session_events(relying, "deny")[-1]
        assert denied.reasons == [reason], claims
        assert denied.details["issuer"] == ISSUER and denied.details["subject"] == "entra-sam"
        assert COACH not in str(denied.details)
    assert count(relying.extensions["caseshare"], ExternalIdentity) == 0

    client, status = _sign_in(relying, **good, email_verified=True)
    assert status == 302 and client.get("/purpose").status_code == 200
    allowed = _session_events(relying, "allow")[-1]
    assert allowed.details == {"via": "oidc", "issuer": ISSUER, "subject": "entra-sam",
                               "linked": True}
    assert allowed.org == "jcp-derby"


def test_later_sign_ins_match_by_issuer_and_subject_only(relying: Flask) -> None:
    _client, status = _sign_in(relying, sub="entra-sam", email=COACH, email_verified=True,
                               tid=TENANT)
    assert status == 302
    # The linked subject signs in whatever e-mail the provider now sends.
    client, status = _sign_in(relying, sub="entra-sam", email="changed@example.org")
    assert status == 302 and client.get("/purpose").status_code == 200
    assert _session_events(relying, "allow")[-1].details["linked"] is False
    # Someone else at the provider with the coach's verified address is not the coach.
    _client, status = _sign_in(relying, sub="entra-intruder", email=COACH, email_verified=True,
                               tid=TENANT)
    assert status == 401
    denied = _session_events(relying, "deny")[-1]
    assert denied.reasons == ["identity-already-linked"]
    assert denied.details["subject"] == "entra-intruder"


def test_a_link_ends_with_a_move_to_another_organisation(relying: Flask) -> None:
    rt: Runtime = relying.extensions["caseshare"]
    _client, status = _sign_in(relying, sub="entra-sam", email=COACH, email_verified=True,
                               tid=TENANT)
    assert status == 302
    with rt.session_factory() as s:
        identity.add_or_update_staff(s, protocols=rt.protocols, email=COACH, name="Sam Okafor",
                                     org="derby-housing", roles=["housing_officer"],
                                     now=rt.now())
        s.commit()
    assert count(rt, ExternalIdentity) == 0
    # derby-housing has no tenant configured: its people must carry its own id in the claim.
    _client, status = _sign_in(relying, sub="entra-sam", email=COACH, email_verified=True,
                               tid=TENANT)
    assert status == 401
    assert _session_events(relying, "deny")[-1].reasons == ["wrong-tenant"]


def test_a_disabled_person_cannot_sign_in_through_their_link(relying: Flask) -> None:
    rt: Runtime = relying.extensions["caseshare"]
    _client, status = _sign_in(relying, sub="entra-sam", email=COACH, email_verified=True,
                               tid=TENANT)
    assert status == 302
    with rt.session_factory() as s:
        identity.set_staff_active(s, email=COACH, active=False, now=rt.now())
        s.commit()
    _client, status = _sign_in(relying, sub="entra-sam")
    assert status == 401
    assert _session_events(relying, "deny")[-1].reasons == ["no-account"]
