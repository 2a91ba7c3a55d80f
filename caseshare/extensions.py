"""Unbound extension objects, bound to the app in create_app."""

from __future__ import annotations

import base64
import binascii
import http
from hashlib import sha256

from flask import current_app, request
from flask_limiter import Limit, Limiter
from flask_limiter.util import get_remote_address
from flask_smorest import Api
from flask_smorest.utils import prepare_response

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
