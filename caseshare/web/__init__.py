"""Server-rendered pages for front-line staff and IG officers, on the GOV.UK Design System.

Pages read and write claimant data only through the use cases in caseshare.access (the same
path as the API), with a RequestContext whose principal comes from the signed-in web session.
`init_app` is the one wiring point: session cookie, CSRF (this blueprint only; the bearer-token
API stays exempt), the GOV.UK Frontend macros, security headers and HTML error pages.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

from flask import Flask
from flask_wtf.csrf import CSRFProtect
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader

csrf = CSRFProtect()

SESSION_KEY_FILE = "web-session-key"


def init_app(app: Flask) -> None:
    from caseshare.web import filters, views

    runtime = app.extensions["caseshare"]
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _session_key(Path(app.instance_path) / SESSION_KEY_FILE)
    app.config.update(
        SESSION_COOKIE_NAME="caseshare_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=runtime.settings.production,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=8),
        # CSRF is checked by the web blueprint itself, so /api/v1 (bearer tokens) and the
        # OAuth token endpoint are never subject to it.
        WTF_CSRF_CHECK_DEFAULT=False,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the (time-limited) session
        WTF_CSRF_SSL_STRICT=runtime.settings.production,
    )
    csrf.init_app(app)
    app.jinja_loader = ChoiceLoader([
        app.jinja_loader,  # type: ignore[list-item]
        PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
    ])
    filters.register(app)
    app.register_blueprint(views.bp)


def _session_key(path: Path) -> str:
    """A random key generated on first run (0600), like the keyring; the same file serves every
    worker sharing the instance folder."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass  # made earlier, or by another worker starting at the same moment
    else:
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip()
