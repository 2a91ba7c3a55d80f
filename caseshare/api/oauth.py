"""The built-in OAuth 2 authorization server (Authlib): client credentials for partner systems,
and the JWKS that resource servers validate against."""

from __future__ import annotations

from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, grants
from flask import Blueprint, Flask

from caseshare.api.common import runtime
from caseshare.extensions import limiter
from caseshare.identity import tokens
from caseshare.identity.models import OAuthClient
from caseshare.identity.service import check_secret
from caseshare.web_session import get_session

bp = Blueprint("oauth", __name__)


class Client(ClientMixin):  # type: ignore[misc]
    """Authlib's view of a registered partner system."""

    def __init__(self, row: OAuthClient) -> None:
        self.row = row

    def get_client_id(self) -> str:
        return self.row.client_id

    def get_default_redirect_uri(self) -> None:
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        allowed = set(self.row.scopes)
        if not scope:
            return " ".join(sorted(allowed))
        return " ".join(sorted(s for s in scope.split() if s in allowed))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return False

    def check_client_secret(self, client_secret: str) -> bool:
        return check_secret(client_secret, self.row.secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "client_credentials"


def _query_client(client_id: str) -> Client | None:
    row = get_session().get(OAuthClient, client_id)
    return Client(row) if row is not None and row.active else None


def _save_token(token: dict[str, Any], request: Any) -> None:
    """JWT access tokens are self-contained; revocation is recorded by jti when it happens."""


def _generate_token(grant_type: str, client: Client, user: Any = None, scope: str | None = None,
                    expires_in: int | None = None, include_refresh_token: bool = True) -> dict[
                        str, Any]:
    rt = runtime()
    ttl = rt.settings.token_ttl_seconds
    row = client.row
    token, _claims = tokens.issue(
        rt.token_keys, issuer=rt.settings.issuer, audience=rt.settings.audience,
        subject=row.client_id, client_id=row.client_id, org=row.org_id, roles=row.roles,
        scopes=(scope or "").split(), purposes=row.purposes, actor_type="client",
        now=rt.now(), ttl_seconds=ttl,
    )
    return {"access_token": token, "token_type": "Bearer", "expires_in": ttl,
            "scope": scope or ""}


authorization = AuthorizationServer(query_client=_query_client, save_token=_save_token)


def init_app(app: Flask) -> None:
    authorization.init_app(app)
    authorization.register_grant(grants.ClientCredentialsGrant)
    authorization.register_token_generator("default", _generate_token)
    app.register_blueprint(bp)


@bp.route("/oauth/token", methods=["POST"])
@limiter.limit("30 per minute")
def issue_token() -> Any:
    return authorization.create_token_response()
