"""Per-request plumbing shared by the API modules: who is calling, and the request context."""

from __future__ import annotations

import re
import uuid
from typing import Any

from flask import current_app, g, request
from flask_smorest import Blueprint

from caseshare.access import pipeline
from caseshare.access.context import RequestContext
from caseshare.access.decision import Principal
from caseshare.access.principal import authenticate
from caseshare.errors import ForbiddenError
from caseshare.runtime import Runtime
from caseshare.web_session import get_session

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


def api_blueprint(name: str, import_name: str, description: str) -> Blueprint:
    """A /api/v1 blueprint whose every request must carry a valid bearer token."""
    blp = Blueprint(name, import_name, url_prefix="/api/v1", description=description)

    @blp.before_request
    def _authenticate() -> None:
        rt = runtime()
        g.principal = authenticate(
            get_session(),
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


def context(purpose: str, scope: str) -> RequestContext:
    """Build the request context, then check scope and purpose (both audited when denied)."""
    rt = runtime()
    ctx = RequestContext(
        session=get_session(),
        principal=principal(),
        purpose=purpose,
        protocols=rt.protocols,
        forms=rt.forms,
        keyring=rt.keyring,
        now=rt.now(),
        request_id=request_id(),
    )
    if scope not in ctx.principal.scopes:
        event = ctx.audit("access:scope:deny", outcome="deny", reasons=["insufficient_scope"],
                          details={"scope": scope})
        ctx.commit()
        raise ForbiddenError(f"The token lacks the {scope} scope.",
                             reasons=["insufficient_scope"], audit_id=event.event_uuid)
    pipeline.check_purpose(ctx)
    return ctx


def no_store(headers: dict[str, Any] | None = None) -> dict[str, Any]:
    """Responses carrying case data are never cached by browsers or proxies."""
    return {"Cache-Control": "no-store", **(headers or {})}
