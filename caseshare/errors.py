"""Domain errors, and the one table that maps them to RFC 9457 problem+json responses.

Domain packages raise these; only `register_error_handlers` knows about HTTP.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask, Response
    from sqlalchemy.exc import SQLAlchemyError
    from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

PROBLEM_BASE = "https://caseshare.example/problems/"


class CaseshareError(Exception):
    """Base of every domain error. `detail` must never contain personal data or secrets."""

    status = 500
    slug = "internal-error"
    title = "Internal error"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = extra


class ValidationError(CaseshareError):
    status, slug, title = 422, "validation-error", "Request validation failed"

    def __init__(self, errors: Mapping[str, Sequence[str]], detail: str | None = None) -> None:
        super().__init__(detail or "One or more fields are invalid.", errors=dict(errors))


class BadCursorError(ValidationError):
    """A pagination cursor this API did not return (tampered, truncated, out of range): 400,
    naming `cursor` like a validation error (API.md: a tampered or unknown cursor is a 400)."""

    status, slug, title = 400, "bad-request", "Bad request"

    def __init__(self, message: str = "Not a cursor this API returned.") -> None:
        super().__init__({"cursor": [message]}, "The cursor is not one this API returned.")


class AuthenticationError(CaseshareError):
    status, slug, title = 401, "unauthenticated", "Authentication required"


class ForbiddenError(CaseshareError):
    status, slug, title = 403, "forbidden", "Access denied"

    def __init__(
        self, detail: str | None = None, *, reasons: Sequence[str] = (), audit_id: Any = None
    ) -> None:
        super().__init__(detail, reasons=list(reasons), audit_id=audit_id)


class NotFoundError(CaseshareError):
    status, slug, title = 404, "not-found", "Not found"


class ConflictError(CaseshareError):
    status, slug, title = 409, "conflict", "Conflict"


class PreconditionFailedError(CaseshareError):
    status, slug, title = 412, "precondition-failed", "The resource has changed"


class PreconditionRequiredError(CaseshareError):
    status, slug, title = 428, "precondition-required", "If-Match header required"


class ServiceUnavailableError(CaseshareError):
    status, slug, title = 503, "unavailable", "Service temporarily unavailable"


class AuditWriteError(ServiceUnavailableError):
    """The audit event could not be committed, so nothing may be disclosed (fail closed)."""

    slug, title = "audit-unavailable", "Audit log unavailable"


class KeyUnavailableError(ServiceUnavailableError):
    slug, title = "key-unavailable", "Encryption key unavailable"


class PolicyFileError(Exception):
    """A protocol or consent form file is invalid: names the file and the problem."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = list(problems)


def problem_body(
    status: int, title: str, detail: str, slug: str, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
    }
    for key, value in extra.items():
        if value is not None:
            body[key] = str(value) if key == "audit_id" else value
    return body


# HTTP statuses raised by Flask/Werkzeug themselves (routing, methods, size, media type).
HTTP_SLUGS: dict[int, tuple[str, str]] = {
    400: ("bad-request", "Bad request"),
    401: ("unauthenticated", "Authentication required"),
    403: ("forbidden", "Access denied"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    409: ("conflict", "Conflict"),
    412: ("precondition-failed", "The resource has changed"),
    413: ("payload-too-large", "Request body too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("validation-error", "Request validation failed"),
    428: ("precondition-required", "Precondition required"),
    429: ("too-many-requests", "Too many requests"),
    500: ("internal-error", "Internal error"),
    503: ("unavailable", "Service temporarily unavailable"),
}


def flatten_messages(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """webargs/marshmallow nest messages by location and field; the API names fields flatly."""
    out: dict[str, list[str]] = {}
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, Mapping):
                out.update(flatten_messages(value, name))
            else:
                out[name] = [str(v) for v in (value if isinstance(value, list) else [value])]
    elif messages:
        out[prefix or "body"] = [str(m) for m in messages]
    return out


_LOCATIONS = {"json", "query", "querystring", "form", "headers", "view_args", "path"}


def _webargs_errors(data: Any) -> dict[str, list[str]]:
    messages = data.get("messages", {}) if isinstance(data, Mapping) else {}
    merged: dict[str, list[str]] = {}
    for location, fields_ in messages.items():
        target = fields_ if location in _LOCATIONS else {location: fields_}
        for name, msgs in flatten_messages(target).items():
            merged.setdefault(name, []).extend(msgs)
    return merged


def register_error_handlers(app: Flask) -> None:
    """The one place that turns exceptions into HTTP responses (RFC 9457 problem+json): domain
    errors by their own status, HTTP errors from routing and request parsing, database errors
    as a 503 (fail closed) and anything else as a 500 that says nothing about the request."""
    from sqlalchemy.exc import SQLAlchemyError
    from werkzeug.exceptions import HTTPException

    app.register_error_handler(CaseshareError, _domain_problem)
    app.register_error_handler(HTTPException, _http_problem)
    app.register_error_handler(SQLAlchemyError, _database_problem)
    app.register_error_handler(Exception, _unexpected_problem)


def _problem_response(status: int, body: dict[str, Any],
                      headers: dict[str, str] | None = None) -> Response:
    from flask import Response, json

    resp = Response(json.dumps(body), status=status, mimetype="application/problem+json")
    resp.headers["Cache-Control"] = "no-store"
    for key, value in (headers or {}).items():
        resp.headers[key] = value
    return resp


def _domain_problem(error: CaseshareError) -> Response:
    if error.status >= 500:
        log.warning("request failed closed: %s (%s)", error.slug, type(error).__name__)
    body = problem_body(error.status, error.title, error.detail, error.slug, **error.extra)
    return _problem_response(error.status, body)


def _http_problem(error: HTTPException) -> Response:
    status = error.code or 500
    slug, title = HTTP_SLUGS.get(status, ("error", error.name))
    detail, extra, headers = _http_detail(error, status, title)
    allowed = getattr(error, "valid_methods", None)
    if status == 405 and allowed:
        headers["Allow"] = ", ".join(allowed)
    return _problem_response(status, problem_body(status, title, detail, slug, **extra), headers)


def _http_detail(error: HTTPException, status: int, title: str) -> (
    tuple[str, dict[str, Any], dict[str, str]]
):
    """The detail, extra members and headers of an HTTP error's problem: the fields webargs
    named (422, or 400 for unparsable JSON), when to retry after a 429."""
    data = getattr(error, "data", None)
    if status == 422 and data is not None:
        return "One or more fields are invalid.", {"errors": _webargs_errors(data)}, {}
    if status == 400 and data is not None:
        # webargs reports unparsable JSON as 400; say which part was wrong.
        errors = _webargs_errors(data) or {"body": ["Invalid JSON."]}
        return "The request body could not be parsed.", {"errors": errors}, {}
    if status == 429:
        return ("Too many requests; slow down and retry later.", {},
                {"Retry-After": _retry_after(error)})
    return error.description or title, {}, {}


def _retry_after(error: HTTPException) -> str:
    if error.response is not None and "Retry-After" in error.response.headers:
        return str(error.response.headers["Retry-After"])
    retry = getattr(error, "retry_after", None)
    return str(retry) if retry else "60"


def _database_problem(error: SQLAlchemyError) -> Response:
    # The database refused or is unreachable: fail closed, and say so without details.
    log.warning("database error, request failed closed: %s", type(error).__name__)
    body = problem_body(503, "Service temporarily unavailable",
                        "The database is unavailable; nothing was disclosed or changed.",
                        "unavailable")
    return _problem_response(503, body, {"Retry-After": "5"})


def _unexpected_problem(error: Exception) -> Response:
    # Log the type and traceback, never the request body (it may hold personal data).
    log.exception("unhandled error: %s", type(error).__name__)
    return _problem_response(500, problem_body(500, "Internal error", "Internal error",
                                               "internal-error"))
