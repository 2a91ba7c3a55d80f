"""Unauthenticated service endpoints: health and the token-signing public keys."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from caseshare.api.common import runtime
from caseshare.errors import ServiceUnavailableError
from caseshare.extensions import limiter
from caseshare.request_db import db_session

bp = Blueprint("meta", __name__)


@bp.route("/healthz", methods=["GET"])
@limiter.exempt
def healthz() -> Any:
    try:
        db_session().execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        raise ServiceUnavailableError("The database is not reachable.") from exc
    return jsonify({"status": "ok"})


@bp.route("/.well-known/jwks.json", methods=["GET"])
def jwks() -> Any:
    return jsonify(runtime().token_keys.public_jwks())
