"""Server-rendered pages for front-line staff and IG officers, on the GOV.UK Design System.

Pages read and write claimant data only through the use cases in caseshare.access (the same
path as the API), with a RequestContext whose principal comes from the signed-in web session.
`init_app` is the one wiring point: session cookie, CSRF (this blueprint only; the bearer-token
API stays exempt), the GOV.UK Frontend macros, security headers and HTML error pages.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask_wtf.csrf import CSRFProtect
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader

csrf = CSRFProtect()


def init_app(app: Flask) -> None:
    from caseshare.web import filters, i18n, views

    runtime = app.extensions["caseshare"]
    # The session cookie's key and flags are set once in create_app (session-secret file).
    app.config.update(
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
    i18n.register(app)
    app.register_blueprint(views.bp)
