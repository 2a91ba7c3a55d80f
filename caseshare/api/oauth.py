"""The built-in OAuth 2 authorization server (Authlib): client credentials for partner
systems, token revocation (RFC 7009), introspection (RFC 7662) and server metadata (RFC 8414).
Token endpoint errors keep the OAuth format (RFC 6749 section 5.2), as OAuth clients expect."""

from __future__ import annotations

from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, grants
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from flask import Blueprint, Flask, jsonify

from caseshare.api.common import runtime
from caseshare.errors import AuthenticationError
from caseshare.extensions import limiter
from caseshare.identity import provider, revocation, tokens
from caseshare.identity import service as identity
from caseshare.identity.models import OAuthClient, StaffMember
from caseshare.identity.service import check_secret
from caseshare.request_db import db_session
from caseshare.unit_of_work import UnitOfWork

bp = Blueprint("oauth", __name__)

OIDC_SCOPES = frozenset({"openid", "email", "profile"})
SCOPES = sorted({
    "subjects:read", "subjects:write", "consents:read", "consents:write", "case_plans:read",
    "case_plans:write", "referrals:read", "referrals:write", "overrides:write",
    "overrides:review", "access:explain", "audit:read", "mi:read",
})


class Client(ClientMixin):  # type: ignore[misc]
    """Authlib's view of a registered partner system."""

    def __init__(self, row: OAuthClient) -> None:
        self.row = row

    def get_client_id(self) -> str:
        return self.row.client_id

    def get_default_redirect_uri(self) -> str | None:
        return self.row.redirect_uris[0] if self.row.redirect_uris else None

    def get_allowed_scope(self, scope: str | None) -> str:
        allowed = set(self.row.scopes)
        if "authorization_code" in self.row.grant_types:
            allowed |= OIDC_SCOPES
        if not scope:
            return " ".join(sorted(allowed - OIDC_SCOPES))
        return " ".join(sorted(s for s in scope.split() if s in allowed))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.row.redirect_uris  # exact match only

    def check_client_secret(self, client_secret: str) -> bool:
        return not self.row.public and check_secret(client_secret, self.row.secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.row.public:
            return method == "none"
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and "authorization_code" in self.row.grant_types

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.row.grant_types


class IssuedToken:
    """A presented JWT access token, as Authlib's revocation and introspection see it."""

    def __init__(self, claims: tokens.TokenClaims) -> None:
        self.claims = claims

    def check_client(self, client: Client) -> bool:
        return self.claims.client_id == client.get_client_id()

    def is_expired(self) -> bool:
        return self.claims.expires_at <= int(runtime().now().timestamp())

    def is_revoked(self) -> bool:
        """Revoked by jti, or (a staff token) its person disabled, moved or re-roled since:
        introspection then answers `active: false`, as the API would refuse it."""
        session = db_session()
        if revocation.is_revoked(session, self.claims.jti):
            return True
        return (self.claims.actor_type == "staff"
                and provider.staff_for(session, self.claims) is None)

    def get_scope(self) -> str:
        return " ".join(self.claims.scopes)


def _decode(token_string: str) -> IssuedToken | None:
    rt = runtime()
    try:
        claims = tokens.validate(token_string, rt.token_keys.key_set(), issuer=rt.settings.issuer,
                                 audience=rt.settings.audience, now=rt.now())
    except AuthenticationError:
        return None
    return IssuedToken(claims)


class Revocation(RevocationEndpoint):  # type: ignore[misc]
    # "none": a public client (authorization code + PKCE) revokes its own tokens by client_id
    # (RFC 7009 section 2.1); Client.check_endpoint_auth_method keeps confidential clients to
    # their secret.
    CLIENT_AUTH_METHODS = ["none", "client_secret_basic", "client_secret_post"]  # noqa: RUF012

    def query_token(self, token_string: str, token_type_hint: str | None) -> IssuedToken | None:
        return _decode(token_string)

    def revoke_token(self, token: IssuedToken, request: Any) -> None:
        session = db_session()
        with UnitOfWork(session):
            provider.revoke_token(session, claims=token.claims, now=runtime().now())


class Introspection(IntrospectionEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]  # noqa: RUF012

    def query_token(self, token_string: str, token_type_hint: str | None) -> IssuedToken | None:
        return _decode(token_string)

    def check_permission(self, token: IssuedToken, client: Client, request: Any) -> bool:
        # A partner system may introspect its own tokens only.
        return token.check_client(client)

    def introspect_token(self, token: IssuedToken) -> dict[str, Any]:
        c = token.claims
        return {"active": True, "client_id": c.client_id, "token_type": "Bearer",
                "scope": " ".join(c.scopes), "sub": c.subject, "exp": c.expires_at,
                "iss": runtime().settings.issuer, "aud": runtime().settings.audience,
                "org": c.org, "roles": list(c.roles), "purposes": list(c.purposes)}


def _query_client(client_id: str) -> Client | None:
    row = db_session().get(OAuthClient, client_id)
    return Client(row) if row is not None and row.active else None


def _save_token(token: dict[str, Any], request: Any) -> None:
    """JWT access tokens are self-contained; issuance is audited, revocation recorded by jti."""
    user = getattr(request, "user", None)
    session = db_session()
    with UnitOfWork(session):
        provider.record_token_issue(
            session, client_id=request.client.get_client_id(), scope=token.get("scope", ""),
            via=request.payload.grant_type,
            staff_id=user.id if isinstance(user, StaffMember) else None, now=runtime().now())


def _generate_token(grant_type: str, client: Client, user: Any = None, scope: str | None = None,
                    expires_in: int | None = None, include_refresh_token: bool = True) -> dict[
                        str, Any]:
    if isinstance(user, StaffMember):
        return staff_token(user, client, scope)
    rt = runtime()
    ttl = rt.settings.token_ttl_seconds
    row = client.row
    scope = client.get_allowed_scope(scope)  # none asked: all the client is allowed
    token, _claims = tokens.issue(
        rt.token_keys, issuer=rt.settings.issuer, audience=rt.settings.audience,
        subject=row.client_id, client_id=row.client_id, org=row.org_id, roles=row.roles,
        scopes=(scope or "").split(), purposes=row.purposes, actor_type="client",
        now=rt.now(), ttl_seconds=ttl,
    )
    return {"access_token": token, "token_type": "Bearer", "expires_in": ttl,
            "scope": scope or ""}


def profile(staff: StaffMember) -> dict[str, Any]:
    """The claims a relying party maps to organisation and roles (docs/identity.md)."""
    return {"email": staff.email, "email_verified": True, "name": staff.name,
            "caseshare_org": staff.org_id, "caseshare_roles": list(staff.roles)}


def staff_token(user: StaffMember, client: Client, scope: str | None) -> dict[str, Any]:
    """Access token for a signed-in staff member: their role scopes within the client's."""
    rt = runtime()
    allowed = identity.scopes_for(user.roles) & set(client.row.scopes)
    requested = set((scope or "").split())
    granted = sorted((requested & allowed) or allowed)
    token, _claims = tokens.issue(
        rt.token_keys, issuer=rt.settings.issuer, audience=rt.settings.audience,
        subject=str(user.id), client_id=client.get_client_id(), org=user.org_id,
        roles=user.roles, scopes=granted,
        purposes=identity.purposes_for(rt.protocols, user.org_id, user.roles),
        actor_type="staff", now=rt.now(), ttl_seconds=rt.settings.token_ttl_seconds,
        epoch=user.credentials_epoch)
    return {"access_token": token, "token_type": "Bearer",
            "expires_in": rt.settings.token_ttl_seconds, "scope": " ".join(granted)}


authorization = AuthorizationServer(query_client=_query_client, save_token=_save_token)


def init_app(app: Flask) -> None:
    authorization.init_app(app)
    authorization.register_grant(grants.ClientCredentialsGrant)
    authorization.register_token_generator("default", _generate_token)
    authorization.register_endpoint(Revocation)
    authorization.register_endpoint(Introspection)
    app.register_blueprint(bp)


@bp.route("/oauth/token", methods=["POST"])
@limiter.limit(lambda: runtime().settings.ratelimit_sign_in)
def issue_token() -> Any:
    return authorization.create_token_response()


@bp.route("/oauth/revoke", methods=["POST"])
@limiter.limit(lambda: runtime().settings.ratelimit_sign_in)
def revoke_token() -> Any:
    return authorization.create_endpoint_response(Revocation.ENDPOINT_NAME)


@bp.route("/oauth/introspect", methods=["POST"])
def introspect_token() -> Any:
    return authorization.create_endpoint_response(Introspection.ENDPOINT_NAME)


_CLIENT_AUTH = ["client_secret_basic", "client_secret_post"]


def server_metadata() -> dict[str, Any]:
    """RFC 8414 metadata; OpenID Connect discovery (api/oidc.py) extends this one dictionary so
    the two documents cannot drift apart."""
    issuer = runtime().settings.issuer.rstrip("/")
    return {
        "issuer": runtime().settings.issuer,
        "authorization_endpoint": f"{issuer}/oauth/authorize",
        "token_endpoint": f"{issuer}/oauth/token",
        "revocation_endpoint": f"{issuer}/oauth/revoke",
        "introspection_endpoint": f"{issuer}/oauth/introspect",
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "client_credentials"],
        "code_challenge_methods_supported": ["S256"],
        # "none": public clients (authorization code with PKCE) do not authenticate.
        "token_endpoint_auth_methods_supported": ["none", *_CLIENT_AUTH],
        "revocation_endpoint_auth_methods_supported": ["none", *_CLIENT_AUTH],
        "introspection_endpoint_auth_methods_supported": _CLIENT_AUTH,
        "scopes_supported": SCOPES,
        "authorization_details_types_supported": ["caseshare_purpose"],
        "access_token_signing_alg_values_supported": [tokens.ALGORITHM],
        "service_documentation": f"{issuer}/openapi.json",
    }


@bp.route("/.well-known/oauth-authorization-server", methods=["GET"])
def metadata() -> Any:
    return jsonify(server_metadata())
