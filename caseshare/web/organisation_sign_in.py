"""Sign in through the organisation's own identity provider (external OpenID Connect), used
instead of Caseshare passwords when CASESHARE_OIDC_ISSUER is set."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import current_app, redirect, request, url_for
from flask import session as cookie
from werkzeug.wrappers import Response as BaseResponse

from caseshare.api.common import request_id
from caseshare.errors import AuthenticationError
from caseshare.identity import sign_ins
from caseshare.identity.oidc_client import Attempt, RelyingParty, parse_tenants
from caseshare.request_db import db_session
from caseshare.unit_of_work import UnitOfWork
from caseshare.web.blueprint import bp, page, runtime, start_sign_in

PENDING = "oidc_attempt"


def relying_party() -> RelyingParty | None:
    settings = runtime().settings
    if not settings.oidc_issuer:
        return None
    rp: RelyingParty | None = current_app.extensions.get("caseshare.oidc")
    if rp is None:
        rp = RelyingParty(settings.oidc_issuer, settings.oidc_client_id,
                          settings.oidc_client_secret, settings.oidc_org_claim,
                          parse_tenants(settings.oidc_org_tenants))
        current_app.extensions["caseshare.oidc"] = rp
    return rp


def _callback_url() -> str:
    return url_for("web.organisation_callback", _external=True)


@bp.route("/sign-in/organisation", methods=["GET"])
def organisation_sign_in() -> BaseResponse | tuple[str, int]:
    rp = relying_party()
    if rp is None:
        return redirect(url_for("web.sign_in"))
    attempt = Attempt.new()
    try:
        target = rp.authorization_url(attempt, _callback_url())
    except AuthenticationError as exc:
        return page("sign_in.html", 503, values={}, errors={"email": exc.detail},
                    oidc=True)
    cookie.clear()
    cookie[PENDING] = {"state": attempt.state, "nonce": attempt.nonce,
                       "verifier": attempt.verifier}
    return redirect(target)


@bp.route("/sign-in/organisation/callback", methods=["GET"])
def organisation_callback() -> BaseResponse | tuple[str, int]:
    rp, rt, db = relying_party(), runtime(), db_session()
    pending = cookie.pop(PENDING, None)
    if rp is None or not pending or request.args.get("state") != pending.get("state"):
        return page("sign_in.html", 400, values={}, oidc=rp is not None,
                    errors={"email": "The sign-in could not be completed. Try again."})
    attempt = Attempt(pending["state"], pending["nonce"], pending["verifier"])
    claims: dict[str, object] = {}
    try:
        if "code" not in request.args:
            raise AuthenticationError("Your organisation did not sign you in.")
        tokens = rp.exchange(request.args["code"], attempt, _callback_url())
        claims = rp.verify_id_token(str(tokens.get("id_token", "")), attempt, rt.now())
        with UnitOfWork(db):
            staff = sign_ins.sign_in_by_organisation(
                db, claims=claims, issuer=rp.issuer, org_claim=rp.org_claim, tenants=rp.tenants,
                protocols=rt.protocols, now=rt.now(), request_id=request_id())
    except AuthenticationError as exc:
        with UnitOfWork(db):
            sign_ins.refuse_sign_in_by_organisation(
                db, reason=exc.slug, issuer=rp.issuer, subject=str(claims.get("sub") or "") or None,
                now=rt.now(), request_id=request_id())
        return page("sign_in.html", 401, values={}, oidc=True, errors={"email": exc.detail})
    start_sign_in(staff)
    return redirect(url_for("web.choose_purpose"))


def provider_logout_url(back: str) -> str | None:
    """The organisation provider's RP-initiated logout URL (its `end_session_endpoint`), when
    an external provider is configured and offers one."""
    rp = relying_party()
    if rp is None:
        return None
    try:
        endpoint = rp.metadata().get("end_session_endpoint")
    except AuthenticationError:
        return None
    if not endpoint:
        return None
    return f"{endpoint}?{urlencode({'client_id': rp.client_id, 'post_logout_redirect_uri': back})}"
