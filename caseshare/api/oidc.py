"""Authorization code + PKCE and OpenID Connect on the built-in provider: how staff sign in to a
web front end (ours, or another Caseshare acting as a relying party) without giving it their
password. Only registered first-party clients, only S256 PKCE, only exact redirect URIs."""

from __future__ import annotations

import hmac
import secrets
import uuid
from typing import Any
from urllib.parse import urlencode, urlsplit

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc7636 import CodeChallenge
from flask import Blueprint, Flask, jsonify, redirect, render_template, request, session

from caseshare.api.common import runtime
from caseshare.api.oauth import authorization, profile, server_metadata
from caseshare.errors import AuthenticationError
from caseshare.extensions import account_key, limiter
from caseshare.identity import provider, revocation, tokens
from caseshare.identity.models import AuthorizationCode, OAuthClient, StaffMember
from caseshare.request_db import db_session
from caseshare.unit_of_work import UnitOfWork

bp = Blueprint("oidc", __name__, template_folder="templates")


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ["none", "client_secret_basic", "client_secret_post"]  # noqa: RUF012

    def validate_authorization_request(self) -> Any:
        # PKCE with S256 for every client, confidential ones included (OAuth 2.1, RFC 9700).
        data = self.request.payload.data
        if not data.get("code_challenge") or data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("PKCE with code_challenge_method=S256 is required.")
        return super().validate_authorization_request()

    def save_authorization_code(self, code: str, request: Any) -> None:
        rt, db = runtime(), db_session()
        payload = request.payload
        with UnitOfWork(db):
            provider.save_authorization_code(
                db, code=code, client_id=request.client.get_client_id(),
                staff_id=request.user.id, redirect_uri=payload.redirect_uri or "",
                scope=payload.scope or "", nonce=payload.data.get("nonce"),
                code_challenge=payload.data.get("code_challenge", ""),
                code_challenge_method=payload.data.get("code_challenge_method", "S256"),
                auth_time=session_auth_time() or rt.now(), now=rt.now())

    def query_authorization_code(self, code: str, client: Any) -> AuthorizationCode | None:
        return provider.find_authorization_code(db_session(), code=code,
                                                client_id=client.get_client_id(),
                                                now=runtime().now())

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        db = db_session()
        with UnitOfWork(db):
            provider.use_authorization_code(db, hashed=authorization_code.code_hash)

    def authenticate_user(self, authorization_code: AuthorizationCode) -> StaffMember | None:
        staff = db_session().get(StaffMember, authorization_code.staff_id)
        return staff if staff is not None and staff.active else None

    def generate_token(self, user: StaffMember | None = None, scope: str | None = None,
                       grant_type: str | None = None, expires_in: int | None = None,
                       include_refresh_token: bool = True) -> dict[str, Any]:
        token: dict[str, Any] = super().generate_token(
            user=user, scope=scope, grant_type=grant_type, expires_in=expires_in,
            include_refresh_token=False)
        code: AuthorizationCode = self.request.authorization_code
        if user is not None and "openid" in (scope or "").split():
            rt = runtime()
            token["id_token"] = tokens.issue_id_token(
                rt.token_keys, issuer=rt.settings.issuer, client_id=code.client_id,
                subject=str(user.id), nonce=code.nonce, auth_time=code.get_auth_time(),
                profile=profile(user), now=rt.now(), ttl_seconds=rt.settings.token_ttl_seconds)
        return token


def session_auth_time() -> Any:
    return session.get("oidc_auth_time") and _from_ts(session["oidc_auth_time"])


def _from_ts(ts: float) -> Any:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts, UTC)


def _signed_in_staff() -> StaffMember | None:
    """The staff member of the provider's own sign-in session, if it is still good: not past
    its lifetime, not ended by a sign-out (a revoked session id, so a copied cookie stops
    working too), and issued under the person's current credentials epoch (a disable or a
    change of organisation or roles ends it)."""
    staff_id, auth_time = session.get("oidc_staff_id"), session.get("oidc_auth_time")
    sid = session.get("oidc_sid")
    if not staff_id or not auth_time or not sid:
        return None
    if runtime().now() - _from_ts(auth_time) > provider.SIGN_IN_TTL:
        session.clear()
        return None
    staff = provider.signed_in_staff(db_session(), staff_id=staff_id, sid=sid,
                                     credentials_epoch=session.get("oidc_cep"))
    if staff is None:
        session.clear()
    return staff


def end_provider_session(reason: str) -> bool:
    """Sign out of the built-in provider: revoke its session id (until it would have expired
    anyway), audit it, forget it. Returns whether there was one. Commits."""
    staff_id, auth_time = session.get("oidc_staff_id"), session.get("oidc_auth_time")
    sid = session.get("oidc_sid")
    for key in ("oidc_staff_id", "oidc_auth_time", "oidc_sid", "oidc_cep"):
        session.pop(key, None)
    if not staff_id or not auth_time or not sid:
        return False
    db = db_session()
    with UnitOfWork(db):
        provider.end_sign_in(db, staff_id=staff_id, sid=sid, auth_time=_from_ts(auth_time),
                             now=runtime().now(), reason=reason)
    return True


def init_app(app: Flask) -> None:
    authorization.register_grant(AuthorizationCodeGrant, [CodeChallenge(required=True)])
    app.register_blueprint(bp)


def _csrf_token() -> str:
    if "oidc_csrf" not in session:
        session["oidc_csrf"] = secrets.token_urlsafe(32)
    token: str = session["oidc_csrf"]
    return token


def _sign_in_page(client_name: str, error: str | None = None, status: int = 200) -> Any:
    return render_template("oauth_sign_in.html", client_name=client_name, error=error,
                           csrf_token=_csrf_token(),
                           email=request.form.get("email", "")), status


@bp.route("/oauth/authorize", methods=["GET", "POST"])
@limiter.limit(lambda: runtime().settings.ratelimit_sign_in, methods=["POST"])
@limiter.limit(lambda: runtime().settings.ratelimit_sign_in, methods=["POST"],
               key_func=account_key, scope="sign-in-account")
def authorize() -> Any:
    try:
        grant = authorization.get_consent_grant(end_user=None)
    except OAuth2Error as error:
        # Never redirect to an unverified client: show the error here.
        return jsonify({"error": error.error, "error_description": error.description}), 400
    client = grant.client
    if not client.row.public and "authorization_code" not in client.row.grant_types:
        return jsonify({"error": "unauthorized_client"}), 400
    if request.method == "POST":
        sent = request.form.get("csrf_token", "")
        if not hmac.compare_digest(sent, session.get("oidc_csrf", "")):
            return _sign_in_page(client.row.name, "Your session expired. Try again.", 400)
        rt, db = runtime(), db_session()
        with UnitOfWork(db):
            outcome = provider.sign_in(db, email=request.form.get("email", ""),
                                       password=request.form.get("password", ""),
                                       totp_code=request.form.get("code") or None,
                                       client_id=client.get_client_id(), now=rt.now())
        if outcome.staff is None:
            detail = outcome.refusal.detail if outcome.refusal else "Sign-in failed."
            return _sign_in_page(client.row.name, detail, 401)
        member = outcome.staff
        session.clear()
        session["oidc_staff_id"], session["oidc_auth_time"] = str(member.id), rt.now().timestamp()
        session["oidc_sid"], session["oidc_cep"] = uuid.uuid4().hex, member.credentials_epoch
    staff = _signed_in_staff()
    if staff is None:
        return _sign_in_page(client.row.name)
    return authorization.create_authorization_response(grant_user=staff, grant=grant)


@bp.route("/oauth/logout", methods=["GET", "POST"])
def end_session_endpoint() -> Any:
    """OpenID Connect RP-Initiated Logout 1.0: ends the provider's own sign-in session, then
    returns to `post_logout_redirect_uri` only when it is on the origin of one of the named
    client's registered redirect URIs (never an open redirect)."""
    end_provider_session("rp_logout")
    target = request.values.get("post_logout_redirect_uri", "")
    client_id = request.values.get("client_id", "")
    if target and client_id:
        row = db_session().get(OAuthClient, client_id)
        origins = {_origin(uri) for uri in (row.redirect_uris if row and row.active else [])}
        if _origin(target) in origins:
            state = request.values.get("state")
            sep = "&" if "?" in target else "?"
            return redirect(target + (f"{sep}{urlencode({'state': state})}" if state else ""))
    return render_template("oauth_signed_out.html"), 200


def _origin(uri: str) -> tuple[str, str]:
    parts = urlsplit(uri)
    return parts.scheme, parts.netloc


@bp.route("/oauth/userinfo", methods=["GET"])
def userinfo() -> Any:
    rt = runtime()
    header = request.headers.get("Authorization", "")
    try:
        claims = tokens.validate(header.removeprefix("Bearer ").strip(),
                                 rt.token_keys.key_set(), issuer=rt.settings.issuer,
                                 audience=rt.settings.audience, now=rt.now())
    except AuthenticationError:
        return jsonify({"error": "invalid_token"}), 401
    db = db_session()
    staff = provider.staff_for(db, claims) if claims.actor_type == "staff" else None
    if staff is None or revocation.is_revoked(db, claims.jti):
        return jsonify({"error": "invalid_token"}), 401
    return jsonify({"sub": str(staff.id), **profile(staff)})


@bp.route("/.well-known/openid-configuration", methods=["GET"])
def discovery() -> Any:
    issuer = runtime().settings.issuer.rstrip("/")
    meta = server_metadata()
    return jsonify({
        **meta,
        "userinfo_endpoint": f"{issuer}/oauth/userinfo",
        "end_session_endpoint": f"{issuer}/oauth/logout",
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [tokens.ALGORITHM],
        "scopes_supported": ["openid", "email", "profile", *meta["scopes_supported"]],
        "claims_supported": ["sub", "email", "name", "caseshare_org", "caseshare_roles"],
    })
