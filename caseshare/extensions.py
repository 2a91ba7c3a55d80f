"""Unbound extension objects, bound to the app in create_app."""

from __future__ import annotations

import base64
import binascii
import http
import time
from collections.abc import Callable, Collection
from hashlib import sha256

from flask import Flask, Response, current_app, g, request
from flask_limiter import Limit, Limiter
from flask_limiter.util import get_remote_address
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from limits import RateLimitItem, parse_many
from werkzeug.exceptions import TooManyRequests

from caseshare.schemas.common import ProblemSchema

PROBLEM_CONTENT_TYPE = "application/problem+json"


class ProblemApi(Api):  # type: ignore[misc]
    """flask-smorest without its own error handlers: errors.py is the one place for those."""

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self) -> None:
        return None

    def _register_responses(self) -> None:
        """Document error responses as they are sent: RFC 9457 problem+json (errors.py), not
        flask-smorest's own error shape."""
        for status in http.HTTPStatus:
            response: dict[str, object] = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_CONTENT_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Error (RFC 9457 problem details)",
                    "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_CONTENT_TYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


def caller_key() -> str:
    """Rate-limit bucket of the caller: their access token, their client id, or their address.

    The token is hashed, never stored; its unverified claims are not used, so nobody can spend
    another user's allowance by forging a token that names them.
    """
    authorization = request.headers.get("Authorization", "")
    if authorization.startswith("Bearer ") and len(authorization) > 16:
        return "token:" + sha256(authorization[7:].encode()).hexdigest()[:32]
    if authorization.startswith("Basic "):
        try:
            client_id = base64.b64decode(authorization[6:]).decode().split(":", 1)[0]
        except (binascii.Error, UnicodeDecodeError):
            client_id = ""
        if client_id:
            return "client:" + client_id[:64]
    return "ip:" + get_remote_address()


def account_key() -> str:
    """Rate-limit bucket of a sign-in attempt's account: the e-mail address typed, normalised
    and hashed (never stored), whether or not it has an account, so guessing one person's
    password from many addresses is limited too."""
    email = (request.form.get("email") or "").strip().lower()
    return "account:" + sha256(email.encode()).hexdigest()[:32]


def _caller_limit() -> str:
    limit: str = current_app.extensions["caseshare"].settings.ratelimit_default
    return limit


def _address_limit() -> str:
    limit: str = current_app.extensions["caseshare"].settings.ratelimit_per_address
    return limit


api = ProblemApi()
limiter = Limiter(
    key_func=get_remote_address,
    default_limits=[
        Limit(_caller_limit, key_function=caller_key, shared=True, scope="caller"),
        Limit(_address_limit, key_function=get_remote_address, shared=True, scope="address"),
    ],
)


# ---------------------------------------------------------------------------------------------
# The API's default limits without flask-limiter's per-request resolution

class LeanDefaultLimits:
    """The two default limits for the /api/v1 blueprints, checked directly on flask-limiter's
    own `limits` strategy and storage.

    flask-limiter resolves a request's limits generically every time (exemptions of the app,
    blueprint and view, the limit strings re-read and re-parsed from the per-app callables,
    meta limits, its request context): about 0.17 ms of an audited read. These blueprints have
    no limits of their own and are not exempt, so their limits are just the defaults: parsed
    once per app here, hit in flask-limiter's order with the same keys (so the counters are the
    ones flask-limiter keeps for the web pages), the same 429 (problem+json, errors.py) and the
    same `X-RateLimit-*` and `Retry-After` headers. flask-limiter's own check is not called for
    these requests (even an exempt request costs it its generic resolution) and still handles
    every other route (the stricter sign-in limits, exemptions).
    """

    def __init__(self, app: Flask, limiter: Limiter, blueprints: Collection[str], *,
                 caller: str, address: str) -> None:
        self.limiter = limiter
        checks: list[tuple[RateLimitItem, Callable[[], str], str]] = [
            (item, caller_key, "caller") for item in parse_many(caller)]
        checks += [(item, get_remote_address, "address") for item in parse_many(address)]
        # flask-limiter checks limits sorted by their window (a stable sort) and stops at the
        # first breached one.
        self.checks = sorted(checks, key=lambda check: check[0])
        self.blueprints = frozenset(blueprints)
        # flask-limiter's check, registered by its init_app, runs for the other requests only.
        hooks = app.before_request_funcs.setdefault(None, [])
        generic = limiter._check_request_limit
        if generic not in hooks:
            raise RuntimeError("flask-limiter's request check is not registered on the app")

        def check_other_routes() -> None:
            if request.blueprint not in self.blueprints:
                generic()

        hooks[hooks.index(generic)] = check_other_routes
        app.before_request(self.check)
        app.after_request(self.headers)

    def check(self) -> None:
        if request.blueprint not in self.blueprints or not self.limiter.enabled:
            return
        strategy = self.limiter.limiter
        header: tuple[RateLimitItem, list[str]] | None = None
        for item, key, scope in self.checks:
            args = [key(), scope]
            if not strategy.hit(item, *args):
                g.rate_limit = (item, args)
                raise TooManyRequests(description=str(item))
            header = header or (item, args)
        g.rate_limit = header

    def headers(self, response: Response) -> Response:
        limit = g.pop("rate_limit", None)
        if limit is None:
            return response
        item, args = limit
        reset_time, remaining = self.limiter.limiter.get_window_stats(item, *args)
        reset_at = int(reset_time + 1)
        response.headers.add("X-RateLimit-Limit", str(item.amount))
        response.headers.add("X-RateLimit-Remaining", str(remaining))
        response.headers.add("X-RateLimit-Reset", str(reset_at))
        existing = response.headers.get("Retry-After")  # errors.py's, in seconds, on a 429
        if existing is not None:
            reset_at = max(int(time.time() + int(existing)), reset_at)
        response.headers.set("Retry-After", str(int(reset_at - time.time())))
        return response
