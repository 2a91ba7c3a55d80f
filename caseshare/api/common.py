"""Per-request plumbing shared by the API modules: who is calling, and the request context."""

from __future__ import annotations

import re
import uuid
from contextlib import AbstractContextManager
from typing import Any

from flask import current_app, g, request
from flask_smorest import Blueprint
from marshmallow import Schema
from webargs.flaskparser import FlaskParser, abort

from caseshare import access
from caseshare.access.context import RequestContext
from caseshare.access.principal import authenticate
from caseshare.facts import Principal
from caseshare.request_db import db_session
from caseshare.runtime import Runtime

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def runtime() -> Runtime:
    rt: Runtime = current_app.extensions["caseshare"]
    return rt


def request_id() -> str:
    if "request_id" not in g:
        supplied = request.headers.get("X-Request-ID", "")
        g.request_id = supplied if _REQUEST_ID.match(supplied) else uuid.uuid4().hex
    rid: str = g.request_id
    return rid


# The deepest nesting of arrays and objects a JSON body may have. No request body of this API
# nests deeper than 3 (a consent's scope); 32 leaves room and keeps every parse and validation
# far from Python's recursion limit (docs/requests.md).
MAX_JSON_DEPTH = 32


def json_depth(value: Any) -> int:
    """How deeply arrays and objects nest in a parsed JSON value (a scalar is 0), iteratively."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, depth + 1)
            stack.extend((child, depth + 1) for child in item
                         if isinstance(child, dict | list))
    return deepest


class ApiParser(FlaskParser):
    """webargs' parser, with a body nested too deeply for Python's JSON parser (RecursionError)
    or deeper than MAX_JSON_DEPTH answered as a 400 problem naming the body."""

    def load_json(self, req: Any, schema: Schema) -> Any:
        try:
            data = super().load_json(req, schema)
        except RecursionError:
            data = None
            too_deep = True
        else:
            too_deep = json_depth(data) > MAX_JSON_DEPTH
        if too_deep:
            abort(400, messages={"json": [f"JSON nested deeper than {MAX_JSON_DEPTH} levels."]})
        return data


PARSER = ApiParser()


def api_blueprint(name: str, import_name: str, description: str) -> Blueprint:
    """A /api/v1 blueprint whose every request must carry a valid bearer token."""
    blp = Blueprint(name, import_name, url_prefix="/api/v1", description=description)
    blp.ARGUMENTS_PARSER = PARSER  # flask-smorest's documented hook for a custom parser

    @blp.before_request
    def _authenticate() -> None:
        rt = runtime()
        g.principal = authenticate(
            db_session(),
            request.headers.get("Authorization"),
            keys=rt.token_keys.key_set(),
            issuer=rt.settings.issuer,
            audience=rt.settings.audience,
            now=rt.now(),
            cache=rt.verified_tokens,
        )

    return blp


def principal() -> Principal:
    p: Principal = g.principal
    return p


def unit_of_work(purpose: str, scope: str) -> AbstractContextManager[RequestContext]:
    """The request's unit of work for the bearer token's caller: `with unit_of_work(purpose,
    scope) as ctx:` checks scope and purpose (refusals audited), runs the use case and
    commits once (access/context.py)."""
    rt = runtime()
    return access.begin(db_session(), principal(), purpose, scope, protocols=rt.protocols,
                        forms=rt.forms, keyring=rt.keyring, now=rt.now(),
                        request_id=request_id(), assessment_forms=rt.assessment_forms,
                        outcome_codes=rt.outcome_codes)


def no_store(headers: dict[str, Any] | None = None) -> dict[str, Any]:
    """Responses carrying case data are never cached by browsers or proxies."""
    return {"Cache-Control": "no-store", **(headers or {})}
