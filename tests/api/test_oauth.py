"""The built-in authorization server: client credentials for partner systems, JWKS."""

from __future__ import annotations

import base64
from typing import Any

from flask.testing import FlaskClient
from joserfc import jwt

from caseshare.identity import service as identity
from caseshare.runtime import Runtime
from tests.audit_helpers import events
from tests.conftest import Demo


def _client(rt: Runtime) -> tuple[str, str]:
    with rt.session_factory() as s:
        _c, secret = identity.add_client(s, protocols=rt.protocols, client_id="recovery-test",
                                         name="Recovery case system", org="recovery-partnership",
                                         roles=["key_worker"], now=rt.now())
        s.commit()
    return "recovery-test", secret


def _basic(client_id: str, secret: str) -> dict[str, str]:
    raw = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def test_client_credentials_token_reads_the_plan_as_the_partner_org(
    client: FlaskClient, rt: Runtime, demo: Demo
) -> None:
    client_id, secret = _client(rt)
    r = client.post("/oauth/token", data={"grant_type": "client_credentials",
                                          "scope": "case_plans:read"},
                    headers=_basic(client_id, secret))
    assert r.status_code == 200, r.json
    token = r.json["access_token"]
    decoded = jwt.decode(token, rt.token_keys.key_set())
    assert decoded.header["typ"] == "at+jwt"
    assert decoded.claims["org"] == "recovery-partnership"
    assert decoded.claims["scope"] == "case_plans:read"
    purposes = decoded.claims["authorization_details"][0]["purposes"]
    assert set(purposes) == {"case_management", "recovery_support"}

    plan = client.get(f"/api/v1/subjects/{demo.lee}/case-plan?purpose=recovery_support",
                      headers={"Authorization": f"Bearer {token}"})
    assert plan.status_code == 200
    assert "substance_misuse" in {e["category"] for e in plan.json["entries"]}
    event = next(e for e in events(rt, type="case_plan:plan:read")
             if e.request_id == plan.headers["X-Request-ID"] and e.decision == "allow")
    assert event.actor == client_id and event.org == "recovery-partnership"

    # A scope the token does not carry is refused and audited.
    write = client.post(f"/api/v1/subjects/{demo.lee}/case-plan/entries?purpose=recovery_support",
                        json={"kind": "note", "category": "substance_misuse", "title": "x"},
                        headers={"Authorization": f"Bearer {token}"})
    assert write.status_code == 403 and write.json["reasons"] == ["insufficient_scope"]


def test_wrong_secret_and_unknown_grant_are_refused(client: FlaskClient, rt: Runtime,
                                                    demo: Demo) -> None:
    client_id, _secret = _client(rt)
    r = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                    headers=_basic(client_id, "wrong"))
    assert r.status_code == 401 and r.json["error"] == "invalid_client"
    r = client.post("/oauth/token", data={"grant_type": "password", "username": "x"},
                    headers=_basic(client_id, _secret))
    assert r.status_code == 400 and r.json["error"] == "unsupported_grant_type"


def test_jwks_publishes_only_public_keys(client: FlaskClient, demo: Demo) -> None:
    keys: list[dict[str, Any]] = client.get("/.well-known/jwks.json").json["keys"]
    assert keys and all("d" not in k for k in keys)


def test_healthz_and_openapi(client: FlaskClient) -> None:
    assert client.get("/healthz").json == {"status": "ok"}
    spec = client.get("/openapi.json").json
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/subjects/{subject_id}/case-plan" in spec["paths"]


def _token(client: FlaskClient, client_id: str, secret: str) -> str:
    r = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                    headers=_basic(client_id, secret))
    assert r.status_code == 200
    return str(r.json["access_token"])


def test_revoked_token_is_refused_on_the_very_next_request(
    client: FlaskClient, rt: Runtime, demo: Demo
) -> None:
    client_id, secret = _client(rt)
    token = _token(client, client_id, secret)
    url = f"/api/v1/subjects/{demo.lee}/case-plan?purpose=recovery_support"
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get(url, headers=bearer).status_code == 200

    r = client.post("/oauth/revoke", data={"token": token}, headers=_basic(client_id, secret))
    assert r.status_code == 200
    assert client.get(url, headers=bearer).status_code == 401
    assert events(rt, type="identity:token:revoke")


def test_introspection_reports_active_then_inactive_and_only_to_the_owner(
    client: FlaskClient, rt: Runtime, demo: Demo
) -> None:
    client_id, secret = _client(rt)
    token = _token(client, client_id, secret)
    r = client.post("/oauth/introspect", data={"token": token}, headers=_basic(client_id, secret))
    assert r.status_code == 200 and r.json["active"] is True
    assert r.json["org"] == "recovery-partnership" and r.json["client_id"] == client_id

    with rt.session_factory() as s:
        _c, other_secret = identity.add_client(s, protocols=rt.protocols, client_id="other",
                                               name="Other", org="jcp-derby",
                                               roles=["work_coach"], now=rt.now())
        s.commit()
    r = client.post("/oauth/introspect", data={"token": token},
                    headers=_basic("other", other_secret))
    assert r.json == {"active": False}

    client.post("/oauth/revoke", data={"token": token}, headers=_basic(client_id, secret))
    r = client.post("/oauth/introspect", data={"token": token}, headers=_basic(client_id, secret))
    assert r.json == {"active": False}


def test_authorization_server_metadata(client: FlaskClient, rt: Runtime) -> None:
    meta = client.get("/.well-known/oauth-authorization-server").json
    assert meta["issuer"] == rt.settings.issuer
    assert meta["token_endpoint"].endswith("/oauth/token")
    assert "client_credentials" in meta["grant_types_supported"]
    assert "case_plans:read" in meta["scopes_supported"]


def test_metadata_and_oidc_discovery_agree(client: FlaskClient) -> None:
    """Both documents describe the one server: every endpoint and grant the OAuth metadata lists
    appears unchanged in the OpenID Connect discovery document (the code grant was once missing
    from the RFC 8414 document)."""
    meta = client.get("/.well-known/oauth-authorization-server").json
    oidc = client.get("/.well-known/openid-configuration").json
    assert "authorization_code" in meta["grant_types_supported"]
    assert meta["code_challenge_methods_supported"] == ["S256"]
    for key, value in meta.items():
        if key != "scopes_supported":
            assert oidc[key] == value, key
    assert set(meta["scopes_supported"]) < set(oidc["scopes_supported"])
