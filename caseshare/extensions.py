"""Unbound extension objects, bound to the app in create_app."""

from __future__ import annotations

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_smorest import Api


class ProblemApi(Api):  # type: ignore[misc]
    """flask-smorest without its own error handlers: errors.py is the one place for those."""

    def _register_error_handlers(self) -> None:
        return None


api = ProblemApi()
limiter = Limiter(key_func=get_remote_address)
