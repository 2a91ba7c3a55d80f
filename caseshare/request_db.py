"""What one request holds: its SQLAlchemy session (closed when the request ends), and the
cookie interface that gives /api/ no cookie at all."""

from __future__ import annotations

from flask import Flask, Request, current_app, g
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from sqlalchemy.orm import Session


def db_session() -> Session:
    if "db_session" not in g:
        g.db_session = current_app.extensions["caseshare"].session_factory()
    session: Session = g.db_session
    return session


def init_app(app: Flask) -> None:
    @app.teardown_appcontext
    def _close(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.rollback()
            session.close()


class WebOnlyCookies(SecureCookieSessionInterface):
    """Cookie sessions belong to the web pages and the OIDC sign-in. /api/ authenticates every
    request by its bearer token alone, so no cookie is read, verified or re-signed there: it gets
    a null session (writing to it is an error)."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path.startswith("/api/"):
            return self.make_null_session(app)
        return super().open_session(app, request)
