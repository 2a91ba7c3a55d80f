"""Production mode refuses unsafe settings instead of starting."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from caseshare import StartupError, create_app
from caseshare.audit.signer import AuditSigner
from caseshare.crypto.keyring import LocalKeyring, write_private
from caseshare.identity.tokens import TokenKeys

PG = "postgresql+psycopg://caseshare@127.0.0.1:1/caseshare"  # never connected at start-up


def _keys(tmp_path: Path) -> dict[str, Path]:
    secrets = tmp_path / "secrets"
    paths = {"keyring_path": secrets / "keyring.json",
             "token_keys_path": secrets / "token-keys.json",
             "audit_key_path": secrets / "audit.pem",
             "session_secret_path": secrets / "session-secret"}
    LocalKeyring.create_if_missing(paths["keyring_path"])
    TokenKeys.create_if_missing(paths["token_keys_path"])
    AuditSigner.create_if_missing(paths["audit_key_path"])
    write_private(paths["session_secret_path"], "s" * 64)
    return paths


def _prod(tmp_path: Path, **overrides: object) -> None:
    create_app({"instance_path": tmp_path / "instance", "production": True,
                "database_url": PG, "issuer": "https://caseshare.derby.example",
                "ratelimit_storage_uri": "redis://127.0.0.1:6379/0", **overrides})


def test_production_starts_with_provisioned_keys(tmp_path: Path) -> None:
    _prod(tmp_path, **_keys(tmp_path))


def test_production_refuses_generated_demo_keys(tmp_path: Path) -> None:
    with pytest.raises(StartupError, match="CASESHARE_KEYRING_PATH"):
        _prod(tmp_path)


def test_production_refuses_missing_or_readable_keys(tmp_path: Path) -> None:
    paths = _keys(tmp_path)
    os.chmod(paths["audit_key_path"], 0o644)
    paths["token_keys_path"].unlink()
    with pytest.raises(StartupError) as err:
        _prod(tmp_path, **paths)
    assert "CASESHARE_AUDIT_KEY_PATH" in str(err.value)
    assert "CASESHARE_TOKEN_KEYS_PATH" in str(err.value)
    assert not paths["token_keys_path"].exists()  # never generated in production


def test_production_refuses_debug_memory_limits_and_plain_http(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLASK_DEBUG", "1")
    with pytest.raises(StartupError) as err:
        _prod(tmp_path, **_keys(tmp_path), ratelimit_storage_uri="memory://",
              issuer="http://caseshare.example")
    message = str(err.value)
    assert "FLASK_DEBUG" in message and "redis" in message and "https" in message


def test_the_shred_register_defaults_beside_the_keyring_and_is_configurable(
    tmp_path: Path
) -> None:
    from caseshare.config import load_settings

    keyring = tmp_path / "secrets" / "keyring.json"
    assert load_settings({"instance_path": tmp_path / "i"}, environ={
        "CASESHARE_KEYRING_PATH": str(keyring)}).shred_register_path == keyring.parent / (
        "shred-register")
    assert load_settings({"instance_path": tmp_path / "i"}, environ={
        "CASESHARE_SHRED_REGISTER": str(tmp_path / "state" / "shreds")}
    ).shred_register_path == tmp_path / "state" / "shreds"


def test_production_refuses_a_shred_register_it_cannot_keep(tmp_path: Path) -> None:
    """Keys on a read-only secrets mount: the register needs its own durable, writable place."""
    paths = _keys(tmp_path)
    with pytest.raises(StartupError, match=r"CASESHARE_SHRED_REGISTER.*must be a writable"):
        _prod(tmp_path, **paths, shred_register_path=tmp_path / "missing" / "shred-register")
    with pytest.raises(StartupError, match="CASESHARE_SHRED_REGISTER must point at durable"):
        _prod(tmp_path, **paths, shred_register_path=tmp_path / "instance" / "shred-register")
    register = tmp_path / "state" / "shred-register"
    register.parent.mkdir()
    register.write_text("")
    os.chmod(register, 0o644)
    with pytest.raises(StartupError, match="writable by the service user only"):
        _prod(tmp_path, **paths, shred_register_path=register)
    os.chmod(register, 0o600)
    _prod(tmp_path, **paths, shred_register_path=register)
