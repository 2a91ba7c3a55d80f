"""Interactive API documentation at /api/docs: Swagger UI over /openapi.json, with its script
and styles served by the app from the flask-swagger-ui package (never a CDN), started by a
served script rather than an inline one, as the CSP allows no inline script."""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from flask import Blueprint, Response, abort, render_template, send_from_directory

bp = Blueprint("swagger_ui", __name__, template_folder="templates")

# Swagger UI's compiled files, as the flask-swagger-ui package ships them (only its files are
# used, not its blueprint, whose page starts Swagger UI with an inline script).
SWAGGER_UI_DIST = files("flask_swagger_ui") / "dist"
ASSETS = frozenset({"swagger-ui.css", "swagger-ui-bundle.js"})

# Swagger UI draws its icons as data: images in its stylesheet; nothing else is loosened, and the
# page and the spec come from this origin only.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
       "object-src 'none'; frame-ancestors 'none'")

# Starts Swagger UI. validatorUrl null: no badge fetched from the public validator.
INIT_JS = """\
"use strict";
// Caseshare: starts Swagger UI on /api/docs (served, not inline: the CSP forbids inline script).
(function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-spec-url"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout"
  });
})();
"""


def _with_csp(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    return response


@bp.route("/api/docs", methods=["GET"])
def api_docs() -> Any:
    """The interactive documentation page (a link to /openapi.json without JavaScript)."""
    return _with_csp(Response(render_template("api_docs.html"), mimetype="text/html"))


@bp.route("/api/docs/init.js", methods=["GET"])
def api_docs_init() -> Any:
    return _with_csp(Response(INIT_JS, mimetype="text/javascript"))


@bp.route("/api/docs/assets/<name>", methods=["GET"])
def api_docs_asset(name: str) -> Any:
    if name not in ASSETS:
        abort(404)
    return _with_csp(send_from_directory(str(SWAGGER_UI_DIST), name))
