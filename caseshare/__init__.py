"""Caseshare: consent-based multi-agency case sharing. `create_app` is the one wiring point."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask, Response

    from caseshare.config import Settings

# Nothing heavy is imported here, only in create_app: every `import caseshare.<module>` runs
# this file first, and `audit verify`'s worker processes need only a few small modules of the
# audit package (importing Flask and the whole app cost each of them about a second).


class StartupError(RuntimeError):
    """The app refuses to start; the message names the file and the problem."""


JSON_TYPES = ("application/json",)


def _log_form_warnings(app: Flask, warnings: tuple[str, ...]) -> None:
    """A published consent form offering an option no flow carries cannot be edited (consents
    rely on it), so it does not stop the app; the operator is told to publish a new version."""
    for warning in warnings:
        app.logger.warning("consent form: %s", warning)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    from dataclasses import replace

    from flask import Flask

    from caseshare import ratelimit_storage, request_db
    from caseshare.assessments.forms import load_forms_directory as load_assessment_forms
    from caseshare.audit.service import EVENT_KEY
    from caseshare.audit.signer import AuditSigner
    from caseshare.case_plan import referral_steps
    from caseshare.config import load_settings
    from caseshare.consent.forms import load_forms_directory
    from caseshare.crypto.keyring import LocalKeyring
    from caseshare.crypto.shreds import shredding
    from caseshare.db import make_engine, make_session_factory
    from caseshare.errors import PolicyFileError, register_error_handlers
    from caseshare.extensions import api as smorest_api
    from caseshare.extensions import limiter
    from caseshare.identity.token_cache import VerifiedTokens, install_directory_hooks
    from caseshare.identity.tokens import TokenKeys
    from caseshare.mi.funding import load_agreements
    from caseshare.outcomes.codes import load_partnerships
    from caseshare.policy.loader import load_directory
    from caseshare.runtime import Runtime

    settings = load_settings(config)
    settings.instance_path.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        protocols = replace(load_directory(settings.policies_dir),
                            referral_response_days=settings.referral_response_days)
        referral_steps.outcomes(), referral_steps.bank_holidays()  # the lists, read at start
        forms = load_forms_directory(settings.forms_dir, protocols, require_published=False)
        assessment_forms = load_assessment_forms(settings.assessment_forms_dir, protocols,
                                                 require_published=False)
        outcome_codes = load_partnerships(settings.partnerships_dir, protocols)
        funding = load_agreements(settings.partnerships_dir,
                                  lambda pid: outcome_codes.for_protocols([pid]))
    except PolicyFileError as exc:
        lines = "\n  - ".join(exc.problems)
        raise StartupError(f"Caseshare refused to start: invalid rule files:\n  - {lines}") from exc

    if settings.production:
        _refuse_unsafe_production(settings)
    app = Flask(__name__, instance_path=str(settings.instance_path))
    _log_form_warnings(app, forms.warnings)
    app.secret_key = _session_secret(settings)
    app.session_interface = request_db.WebOnlyCookies()
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.production,
        SESSION_COOKIE_NAME="caseshare_session",
        MAX_CONTENT_LENGTH=settings.max_content_length,
        API_TITLE="Caseshare API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        RATELIMIT_STORAGE_URI=ratelimit_storage.storage_uri(settings.ratelimit_storage_uri),
        RATELIMIT_HEADERS_ENABLED=True,
        JSON_SORT_KEYS=False,
    )
    engine = make_engine(settings.database_url, synchronous=settings.sqlite_synchronous)
    audit_signer = AuditSigner.create_if_missing(settings.audit_key_path,
                                                 origin=settings.audit_log_origin)
    app.extensions["caseshare"] = Runtime(
        settings=settings,
        engine=engine,
        session_factory=make_session_factory(
            engine, info={EVENT_KEY: audit_signer.event_mac_key()}),
        protocols=protocols,
        forms=forms,
        assessment_forms=assessment_forms,
        outcome_codes=outcome_codes,
        funding=funding,
        # Every data key unwrap consults the shred register first (crypto/shreds.py).
        keyring=shredding(LocalKeyring.create_if_missing(settings.keyring_path),
                          settings.shred_register_path),
        token_keys=TokenKeys.create_if_missing(settings.token_keys_path),
        audit_signer=audit_signer,
        verified_tokens=VerifiedTokens(ttl_seconds=settings.token_cache_seconds),
    )
    install_directory_hooks()

    request_db.init_app(app)
    smorest_api.init_app(app)
    # After flask-smorest's init_app, so errors.py's handlers replace the one it registers.
    register_error_handlers(app)
    limiter.init_app(app)
    _register_blueprints(app)
    _register_hooks(app)

    from caseshare import cli

    cli.init_app(app)
    return app


def _session_secret(settings: Settings) -> bytes:
    """The key that signs session cookies: its own file, created on first run (not in
    production, where it must be provisioned)."""
    from caseshare.crypto.keyring import write_private

    path = settings.session_secret_path
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_private(path, secrets.token_hex(32))
    return path.read_text().strip().encode()


def _refuse_unsafe_production(settings: Settings) -> None:
    """Production never runs on generated demo keys, a debug flag or per-process rate limits."""
    problems = []
    if os.environ.get("FLASK_DEBUG", "").lower() in ("1", "true", "yes"):
        problems.append("FLASK_DEBUG is set")
    if settings.ratelimit_storage_uri.startswith("memory"):
        problems.append("CASESHARE_RATELIMIT_STORAGE_URI must be shared storage (redis://...)")
    if not settings.issuer.startswith("https://"):
        problems.append("CASESHARE_ISSUER must be an https:// URL")
    for name, path in (("CASESHARE_KEYRING_PATH", settings.keyring_path),
                       ("CASESHARE_SESSION_SECRET_PATH", settings.session_secret_path),
                       ("CASESHARE_TOKEN_KEYS_PATH", settings.token_keys_path),
                       ("CASESHARE_AUDIT_KEY_PATH", settings.audit_key_path)):
        if path.is_relative_to(settings.instance_path):
            problems.append(f"{name} must point at a provisioned secret, not the demo instance/")
        elif not path.exists():
            problems.append(f"{name}: {path} does not exist (keys are never generated in "
                            "production)")
        elif path.stat().st_mode & 0o077:
            problems.append(f"{name}: {path} must be readable by the service user only")
    problems += _shred_register_problems(settings)
    if problems:
        raise StartupError("Caseshare refused to start in production mode:\n  - "
                           + "\n  - ".join(problems))


def _shred_register_problems(settings: Settings) -> list[str]:
    """The shred register must be writable (a secrets mount usually is not) and private."""
    path = settings.shred_register_path
    if path.is_relative_to(settings.instance_path):
        return ["CASESHARE_SHRED_REGISTER must point at durable storage kept with the keys, "
                "not the demo instance/"]
    if not path.parent.is_dir() or not os.access(path.parent, os.W_OK):
        return [f"CASESHARE_SHRED_REGISTER: {path.parent} must be a writable directory"]
    if path.exists() and (path.stat().st_mode & 0o077 or not os.access(path, os.W_OK)):
        return [f"CASESHARE_SHRED_REGISTER: {path} must be writable by the service user only"]
    return []


def _api_modules() -> tuple[Any, ...]:
    """The /api/v1 modules: bearer tokens only, the default rate limits only."""
    from caseshare.api import (
        assessments,
        audit,
        case_plans,
        caseload,
        cases,
        conferences,
        consents,
        contact_preferences,
        erasure,
        funding,
        mi,
        outcomes,
        overrides,
        referrals,
        retention,
        services,
        subjects,
        support_records,
    )

    return (subjects, consents, case_plans, referrals, erasure, audit, overrides, caseload,
            assessments, contact_preferences, services, conferences, retention, cases, outcomes,
            mi, funding, support_records)


def _register_blueprints(app: Flask) -> None:
    from caseshare import web
    from caseshare.api import docs, meta, oauth, oidc
    from caseshare.extensions import api as smorest_api

    app.register_blueprint(meta.bp)
    app.register_blueprint(docs.bp)
    oauth.init_app(app)
    oidc.init_app(app)
    for module in _api_modules():
        smorest_api.register_blueprint(module.blp)
    web.init_app(app)


def _register_hooks(app: Flask) -> None:
    from flask import request

    from caseshare.api.common import request_id
    from caseshare.errors import CaseshareError

    class UnsupportedMediaError(CaseshareError):
        status, slug, title = 415, "unsupported-media-type", "Unsupported media type"

    @app.before_request
    def _require_json() -> None:
        # The API takes JSON only; anything else is refused before it is parsed.
        if (
            request.path.startswith("/api/")
            and request.method in ("POST", "PUT", "PATCH")
            and (request.content_length or request.data)
            and request.mimetype not in JSON_TYPES
        ):
            raise UnsupportedMediaError("Send the body as application/json.")

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers["X-Request-ID"] = request_id()
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault(
            "Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'"
        )
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security",
                                        "max-age=63072000; includeSubDomains")
        if request.path.startswith("/api/"):
            response.headers["Cache-Control"] = "no-store"
        return response
