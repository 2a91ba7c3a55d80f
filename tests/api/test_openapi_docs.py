"""The API documentation: /openapi.json documents every operation (summary and description),
the bearer security scheme, the `If-Match` header wherever a 428 is possible and the values
`purpose` takes; /api/docs serves Swagger UI from the app itself (no external URL, no inline
script). The document does not depend on the database, so one SQLite app serves every test."""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from caseshare import create_app
from caseshare.policy.models import RESERVED_PURPOSES

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


@pytest.fixture(scope="module")
def docs_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    tmp: Path = tmp_path_factory.mktemp("openapi-docs")
    app = create_app({"instance_path": tmp / "instance",
                      "database_url": f"sqlite:///{tmp / 'unused.db'}",
                      "ratelimit_default": "100000 per minute"})
    app.config["TESTING"] = True
    yield app
    app.extensions["caseshare"].engine.dispose()


@pytest.fixture(scope="module")
def spec(docs_app: Flask) -> dict[str, Any]:
    document: dict[str, Any] = docs_app.test_client().get("/openapi.json").json
    return document


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any], list[Any]]]:
    """(method, path, operation, parameters including the path's own) for every operation."""
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                op = item[method]
                yield method, path, op, [*item.get("parameters", []), *op.get("parameters", [])]


def test_every_operation_has_a_summary_and_a_description(spec: dict[str, Any]) -> None:
    found = list(operations(spec))
    assert len(found) >= 30
    lacking = [f"{method.upper()} {path}" for method, path, op, _ in found
               if not op.get("summary", "").strip() or not op.get("description", "").strip()]
    assert lacking == [], "operations without a summary and a description (a docstring: " \
                          "summary line, blank line, description)"


def test_the_bearer_security_scheme_is_declared_and_applied(spec: dict[str, Any]) -> None:
    scheme = spec["components"]["securitySchemes"]["bearerAuth"]
    assert scheme["type"] == "http" and scheme["scheme"] == "bearer"
    assert scheme["bearerFormat"] == "JWT"
    assert "/oauth/token" in scheme["description"]  # where a token comes from
    assert "client_credentials" in scheme["description"]
    assert {"bearerAuth": []} in spec["security"]
    for method, path, op, _ in operations(spec):  # nothing opts out of it
        assert op.get("security", spec["security"]) == spec["security"], (method, path)


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def _views_answering_428(app: Flask) -> set[tuple[str, str]]:
    """(method, path) of every API view whose code raises PreconditionRequiredError (428)."""
    found = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        view = inspect.unwrap(app.view_functions[rule.endpoint])
        if "PreconditionRequiredError" in inspect.getsource(view):
            for method in rule.methods or ():
                if method not in ("HEAD", "OPTIONS"):
                    found.add((method.lower(), _openapi_path(rule.rule)))
    return found


def test_if_match_is_a_required_header_wherever_a_428_is_possible(
        docs_app: Flask, spec: dict[str, Any]) -> None:
    raising = _views_answering_428(docs_app)
    assert ("patch", "/api/v1/subjects/{subject_id}/case-plan/entries/{entry_id}") in raising
    documented = set()
    for method, path, op, parameters in operations(spec):
        if "428" in op["responses"]:
            documented.add((method, path))
            if_match = [p for p in parameters if p["in"] == "header" and p["name"] == "If-Match"]
            assert len(if_match) == 1 and if_match[0]["required"] is True, (method, path)
            assert "412" in op["responses"], (method, path)  # a stale If-Match
    assert raising <= documented, "views answering 428 must document it (and If-Match)"


def test_purpose_lists_its_values(docs_app: Flask, spec: dict[str, Any]) -> None:
    protocols = docs_app.extensions["caseshare"].protocols
    expected = sorted(protocols.purposes | RESERVED_PURPOSES)
    assert {"audit", "subject_access", "case_management"} <= set(expected)
    seen = 0
    for method, path, _op, parameters in operations(spec):
        for p in parameters:
            if p["name"] == "purpose" and p["in"] == "query":
                assert p["schema"].get("enum") == expected, (method, path)
                assert p["required"] is True, (method, path)
                seen += 1
    assert seen >= 25


def test_interactive_docs_are_served_by_the_app_without_external_urls(docs_app: Flask) -> None:
    client: FlaskClient = docs_app.test_client()
    page = client.get("/api/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []  # no inline script
    assert not re.search(r"https?://|//[a-z]", html, re.IGNORECASE)  # nothing from elsewhere
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert {a.rsplit("/", 1)[-1] for a in assets} >= {"swagger-ui.css", "swagger-ui-bundle.js",
                                                      "init.js", "openapi.json"}
    for asset in assets:
        assert asset.startswith("/"), asset
        r = client.get(asset)
        assert r.status_code == 200 and r.data, asset
    init = client.get("/api/docs/init.js").get_data(as_text=True)
    assert "SwaggerUIBundle(" in init and "validatorUrl: null" in init
    assert 'data-spec-url="/openapi.json"' in html
    # Only Swagger UI's own files are served from the package's folder.
    assert client.get("/api/docs/assets/LICENSE").status_code == 404
    assert client.get("/api/docs/assets/..%2F__init__.py").status_code == 404
