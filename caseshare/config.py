"""Settings from CASESHARE_* environment variables, validated once at start-up."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


class ConfigError(Exception):
    """A setting is missing or invalid; the app refuses to start."""


@dataclass(frozen=True)
class Settings:
    instance_path: Path
    database_url: str
    policies_dir: Path
    forms_dir: Path
    assessment_forms_dir: Path
    # Partnership data beside the protocols: partnerships/<protocol-id>/outcomes.yaml.
    partnerships_dir: Path
    keyring_path: Path
    token_keys_path: Path
    audit_key_path: Path
    session_secret_path: Path
    # The shred register (crypto/shreds.py): erased subjects, kept with the keys outside the
    # database. It must be writable and backed up with the keys; the default sits beside the
    # keyring file (docs/backup.md).
    shred_register_path: Path
    issuer: str = "http://127.0.0.1:5000"
    audience: str = "caseshare-api"
    token_ttl_seconds: int = 900
    # How long a worker may trust a token's verified signature without checking it again
    # (identity/token_cache.py); the directory is still read on every request. 0 turns it off.
    token_cache_seconds: int = 5
    # SQLite's PRAGMA synchronous. FULL flushes the WAL at every commit, so an audit event
    # committed before a disclosure survives a power cut, not just a crash of the process;
    # NORMAL (faster, for throwaway test databases) only survives the latter.
    sqlite_synchronous: str = "FULL"
    ratelimit_storage_uri: str = "memory://"
    ratelimit_default: str = "600 per minute"  # per caller (token or client)
    ratelimit_per_address: str = "3000 per minute"  # per client address, across callers
    ratelimit_sign_in: str = "10 per minute"  # token endpoint and sign-in, per address
    max_content_length: int = 256 * 1024
    production: bool = False
    # External OpenID Connect provider for staff sign-in (e.g. Microsoft Entra ID). When the
    # issuer is set, the web sign-in uses it instead of the built-in passwords (docs/identity.md).
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_org_claim: str = "caseshare_org"
    # The value of oidc_org_claim each organisation's people must carry to be linked at their
    # first sign-in: "org-id=tenant,org-id=tenant" (for Entra: claim `tid`, the tenant id). An
    # organisation not named must carry its own id (identity/oidc_client.py).
    oidc_org_tenants: str = ""
    # The unusual access report (docs/unusual-access.md): a burst is more than `count` subject
    # accesses by one caller within `minutes`; enumeration is more than `count` not-found or
    # refused lookups within `minutes`; working hours and days are local time in the timezone.
    unusual_burst_count: int = 30
    unusual_burst_minutes: int = 10
    unusual_enumeration_count: int = 10
    unusual_enumeration_minutes: int = 60
    working_hours: str = "08:00-18:00"
    working_days: str = "mon,tue,wed,thu,fri"
    local_timezone: str = "Europe/London"
    # `audit verify` fails when an audit event has waited longer than this to be integrated
    # into the Merkle log: the sealer (`caseshare worker`) is down or not keeping up.
    audit_max_lag_seconds: int = 60
    # The audit log's name in its signed checkpoints (C2SP tlog-checkpoint origin, and the key
    # name of its signature): unique per deployment, a schema-less URL without spaces or '+'.
    audit_log_origin: str = "caseshare.example/audit"
    # The referral response standard where a protocol sets none: working days (weekends and
    # England and Wales bank holidays skipped) to accept or decline a referral.
    referral_response_days: int = 2
    clock: Clock = field(default=system_clock, compare=False)


_ENV_FIELDS: dict[str, str] = {
    "CASESHARE_DATABASE_URL": "database_url",
    "CASESHARE_POLICIES_DIR": "policies_dir",
    "CASESHARE_FORMS_DIR": "forms_dir",
    "CASESHARE_ASSESSMENT_FORMS_DIR": "assessment_forms_dir",
    "CASESHARE_PARTNERSHIPS_DIR": "partnerships_dir",
    "CASESHARE_KEYRING_PATH": "keyring_path",
    "CASESHARE_TOKEN_KEYS_PATH": "token_keys_path",
    "CASESHARE_AUDIT_KEY_PATH": "audit_key_path",
    "CASESHARE_SESSION_SECRET_PATH": "session_secret_path",
    "CASESHARE_SHRED_REGISTER": "shred_register_path",
    "CASESHARE_ISSUER": "issuer",
    "CASESHARE_AUDIENCE": "audience",
    "CASESHARE_TOKEN_TTL_SECONDS": "token_ttl_seconds",
    "CASESHARE_TOKEN_CACHE_SECONDS": "token_cache_seconds",
    "CASESHARE_SQLITE_SYNCHRONOUS": "sqlite_synchronous",
    "CASESHARE_RATELIMIT_STORAGE_URI": "ratelimit_storage_uri",
    "CASESHARE_RATELIMIT_DEFAULT": "ratelimit_default",
    "CASESHARE_RATELIMIT_PER_ADDRESS": "ratelimit_per_address",
    "CASESHARE_RATELIMIT_SIGN_IN": "ratelimit_sign_in",
    "CASESHARE_PRODUCTION": "production",
    "CASESHARE_OIDC_ISSUER": "oidc_issuer",
    "CASESHARE_OIDC_CLIENT_ID": "oidc_client_id",
    "CASESHARE_OIDC_CLIENT_SECRET": "oidc_client_secret",
    "CASESHARE_OIDC_ORG_CLAIM": "oidc_org_claim",
    "CASESHARE_OIDC_ORG_TENANTS": "oidc_org_tenants",
    "CASESHARE_UNUSUAL_BURST_COUNT": "unusual_burst_count",
    "CASESHARE_UNUSUAL_BURST_MINUTES": "unusual_burst_minutes",
    "CASESHARE_UNUSUAL_ENUMERATION_COUNT": "unusual_enumeration_count",
    "CASESHARE_UNUSUAL_ENUMERATION_MINUTES": "unusual_enumeration_minutes",
    "CASESHARE_WORKING_HOURS": "working_hours",
    "CASESHARE_WORKING_DAYS": "working_days",
    "CASESHARE_TIMEZONE": "local_timezone",
    "CASESHARE_AUDIT_MAX_LAG_SECONDS": "audit_max_lag_seconds",
    "CASESHARE_AUDIT_LOG_ORIGIN": "audit_log_origin",
    "CASESHARE_REFERRAL_RESPONSE_DAYS": "referral_response_days",
}

SQLITE_SYNCHRONOUS = ("FULL", "EXTRA", "NORMAL")
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_working_hours(text: str) -> tuple[time, time]:
    """'08:00-18:00' -> (08:00, 18:00); ValueError if malformed or not start < end."""
    start_text, sep, end_text = text.partition("-")
    start, end = time.fromisoformat(start_text.strip()), time.fromisoformat(end_text.strip())
    if not sep or start >= end:
        raise ValueError(text)
    return start, end


def parse_working_days(text: str) -> frozenset[int]:
    """'mon,tue,wed,thu,fri' -> {0..4} (Monday is 0); ValueError on an unknown day or none."""
    days = [d.strip().lower() for d in text.split(",") if d.strip()]
    if not days or any(d not in DAY_NAMES for d in days):
        raise ValueError(text)
    return frozenset(DAY_NAMES.index(d) for d in days)


def _coerce(name: str, value: Any) -> Any:
    kinds = {f.name: f.type for f in fields(Settings)}
    kind = kinds[name]
    if name == "sqlite_synchronous":
        return str(value).strip().upper()
    if kind == "Path":
        return Path(value)
    if kind == "int":
        try:
            return int(value)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{name} must be an integer") from exc
    if kind == "bool":
        if isinstance(value, bool):
            return value
        return str(value).strip().lower() in {"1", "true", "yes", "on"}
    return value


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    root: Path | None = None,
) -> Settings:
    """Build settings: defaults < environment < explicit overrides (tests pass these)."""
    env = os.environ if environ is None else environ
    root = root or Path(__file__).resolve().parent.parent
    overrides = dict(overrides or {})
    instance = Path(
        overrides.pop("instance_path", None)
        or env.get("CASESHARE_INSTANCE_PATH")
        or root / "instance"
    )
    values: dict[str, Any] = {
        "instance_path": instance,
        "database_url": f"sqlite:///{instance / 'caseshare.db'}",
        "policies_dir": root / "policies",
        "forms_dir": root / "consent_forms",
        "assessment_forms_dir": root / "assessment_forms",
        "partnerships_dir": root / "partnerships",
        "keyring_path": instance / "keyring.json",
        "token_keys_path": instance / "token-keys.json",
        "audit_key_path": instance / "audit-signing-key.pem",
        "session_secret_path": instance / "session-secret",
    }
    for var, name in _ENV_FIELDS.items():
        if var in env:
            values[name] = _coerce(name, env[var])
    known = {f.name for f in fields(Settings)}
    for name, value in overrides.items():
        if name not in known:
            raise ConfigError(f"unknown setting {name!r}")
        values[name] = _coerce(name, value) if name != "clock" else value
    if "shred_register_path" not in values:
        values["shred_register_path"] = Path(values["keyring_path"]).parent / "shred-register"
    settings = Settings(**values)
    _validate(settings)
    return settings


def _validate(settings: Settings) -> None:
    _validate_unusual_access(settings)
    if settings.token_ttl_seconds <= 0 or settings.token_ttl_seconds > 24 * 3600:
        raise ConfigError("CASESHARE_TOKEN_TTL_SECONDS must be between 1 and 86400")
    if not settings.database_url.startswith(("sqlite", "postgresql")):
        raise ConfigError("CASESHARE_DATABASE_URL must be a sqlite or postgresql URL")
    if settings.sqlite_synchronous not in SQLITE_SYNCHRONOUS:
        raise ConfigError("CASESHARE_SQLITE_SYNCHRONOUS must be one of "
                          + ", ".join(SQLITE_SYNCHRONOUS))
    if not 1 <= settings.referral_response_days <= 60:
        raise ConfigError("CASESHARE_REFERRAL_RESPONSE_DAYS must be between 1 and 60")
    if settings.audit_max_lag_seconds < 1:
        raise ConfigError("CASESHARE_AUDIT_MAX_LAG_SECONDS must be at least 1")
    if settings.oidc_issuer and not settings.oidc_client_id:
        raise ConfigError("CASESHARE_OIDC_CLIENT_ID is required with CASESHARE_OIDC_ISSUER")
    for item in (part.strip() for part in settings.oidc_org_tenants.split(",")):
        org, sep, tenant = item.partition("=")
        if item and (not sep or not org.strip() or not tenant.strip()):
            raise ConfigError("CASESHARE_OIDC_ORG_TENANTS must look like org-id=tenant,...")
    if settings.production and settings.database_url.startswith("sqlite"):
        # The embedded default is for one machine; production runs on PostgreSQL.
        raise ConfigError("CASESHARE_PRODUCTION requires a PostgreSQL CASESHARE_DATABASE_URL")


def _validate_unusual_access(settings: Settings) -> None:
    for name in ("unusual_burst_count", "unusual_burst_minutes", "unusual_enumeration_count",
                 "unusual_enumeration_minutes"):
        if getattr(settings, name) < 1:
            raise ConfigError(f"CASESHARE_{name.upper()} must be at least 1")
    try:
        parse_working_hours(settings.working_hours)
    except ValueError as exc:
        raise ConfigError("CASESHARE_WORKING_HOURS must look like 08:00-18:00") from exc
    try:
        parse_working_days(settings.working_days)
    except ValueError as exc:
        raise ConfigError("CASESHARE_WORKING_DAYS must list days like mon,tue,wed,thu,fri") \
            from exc
    try:
        ZoneInfo(settings.local_timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError("CASESHARE_TIMEZONE must be an IANA zone such as Europe/London") \
            from exc
