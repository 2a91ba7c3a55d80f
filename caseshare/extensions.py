"""Unbound extension objects, bound to the app in create_app."""

from __future__ import annotations

import base64
import binascii
import http
from hashlib import sha256
from typing import Any

from apispec import BasePlugin
from flask import Flask, current_app, request
from flask_limiter import Limit, Limiter
from flask_limiter.util import get_remote_address
from flask_smorest import Api

from caseshare.policy.models import RESERVED_PURPOSES
from caseshare.schemas.common import ProblemSchema

PROBLEM_CONTENT_TYPE = "application/problem+json"


class ProblemResponses(BasePlugin):
    """An apispec plugin that documents flask-smorest's error responses as they are sent:
    RFC 9457 problem+json (errors.py), not flask-smorest's own `application/json` error shape.
    flask-smorest registers one component response per HTTP status and `DEFAULT_ERROR`; only
    the error statuses (400 and up) carry the problem schema."""

    def response_helper(self, response: dict[str, Any], **kwargs: Any) -> dict[str, Any] | None:
        content = response.get("content") or {}
        if "application/json" not in content:
            return None
        description = response.get("description")
        if description == _DEFAULT_ERROR:
            return {"description": "Error (RFC 9457 problem details)",
                    "content": {PROBLEM_CONTENT_TYPE: content["application/json"]}}
        if description in _BELOW_400:
            return {"content": {}}
        return {"content": {PROBLEM_CONTENT_TYPE: content["application/json"]}}


_DEFAULT_ERROR = "Default error response"  # flask-smorest's description of DEFAULT_ERROR
_BELOW_400 = frozenset(status.phrase for status in http.HTTPStatus if status < 400)

BEARER_AUTH = {
    "type": "http",
    "scheme": "bearer",
    "bearerFormat": "JWT",
    "description": (
        "A signed access token in `Authorization: Bearer <token>` on every /api/v1 call (401 "
        "problem without a valid one). Partner systems get one from the OAuth 2 token endpoint "
        "`POST /oauth/token` with `grant_type=client_credentials` and their client id and "
        "secret (HTTP Basic); staff applications through the authorization code flow "
        "(`/oauth/authorize`, then `POST /oauth/token`). Server metadata: "
        "`/.well-known/oauth-authorization-server`; signing keys: `/.well-known/jwks.json`. "
        "An operator can print a token for a staff member with `caseshare token issue`. The "
        "token's scopes and purposes limit what each call may do."
    ),
}
IF_MATCH = {
    "in": "header",
    "name": "If-Match",
    "required": True,
    "description": "The ETag of the version you read (from the response that gave it). "
                   "Missing: 428; no longer the current version: 412.",
    "schema": {"type": "string"},
}


class OperationDocs(BasePlugin):
    """An apispec plugin for what every operation shares: the bearer security scheme (applied
    to all), the values `purpose` may take (the purposes the loaded protocols declare and the
    built-in ones, which depend on the partnership's rule files, so they are added here rather
    than in the schema), and the required `If-Match` header wherever an operation documents a
    428 (this API answers 428 only for a missing If-Match)."""

    def __init__(self, purposes: list[str]) -> None:
        super().__init__()
        self.purposes = purposes

    def init_spec(self, spec: Any) -> None:
        spec.components.security_scheme("bearerAuth", BEARER_AUTH)
        spec.options.setdefault("security", [{"bearerAuth": []}])

    def operation_helper(self, path: str | None = None, operations: dict[str, Any] | None = None,
                         **kwargs: Any) -> None:
        for operation in (operations or {}).values():
            parameters = operation.setdefault("parameters", [])
            for parameter in parameters:
                if parameter.get("in") == "query" and parameter.get("name") == "purpose":
                    parameter.setdefault("schema", {})["enum"] = list(self.purposes)
            statuses = {str(status) for status in operation.get("responses", {})}
            if "428" in statuses and not any(
                    p.get("in") == "header" and p.get("name") == "If-Match" for p in parameters):
                parameters.append(dict(IF_MATCH))


class ProblemApi(Api):  # type: ignore[misc]
    """flask-smorest documenting problem+json errors. Its own `HTTPException` handler, which
    `init_app` registers, is replaced by errors.py's when create_app registers those after it:
    errors.py is the one place that turns exceptions into responses."""

    ERROR_SCHEMA = ProblemSchema

    def __init__(self) -> None:
        super().__init__(spec_kwargs={"extra_plugins": [ProblemResponses()]})

    def init_app(self, app: Flask, *, spec_kwargs: dict[str, Any] | None = None) -> None:
        """As flask-smorest's, with the purposes of this app's protocols documented."""
        protocols = app.extensions["caseshare"].protocols
        purposes = sorted(protocols.purposes | RESERVED_PURPOSES)
        plugins = [ProblemResponses(), OperationDocs(purposes)]
        super().init_app(app, spec_kwargs={"extra_plugins": plugins, **(spec_kwargs or {})})


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
