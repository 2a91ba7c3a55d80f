"""The app refuses to start on an invalid rule file, naming the file and the problem."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from caseshare import StartupError, create_app

ROOT = Path(__file__).resolve().parents[3]


def _copy_rules(tmp_path: Path) -> tuple[Path, Path]:
    policies, forms = tmp_path / "policies", tmp_path / "forms"
    shutil.copytree(ROOT / "policies", policies)
    shutil.copytree(ROOT / "consent_forms", forms)
    return policies, forms


def _start(tmp_path: Path, policies: Path, forms: Path) -> None:
    create_app({"instance_path": tmp_path / "instance", "policies_dir": policies,
                "forms_dir": forms, "database_url": f"sqlite:///{tmp_path / 'x.db'}"})


def test_valid_rules_start(tmp_path: Path) -> None:
    policies, forms = _copy_rules(tmp_path)
    _start(tmp_path, policies, forms)


def test_invalid_protocol_stops_start_up_naming_file_and_field(tmp_path: Path) -> None:
    policies, forms = _copy_rules(tmp_path)
    path = policies / "recovery-jcp.v1.yaml"
    path.write_text(path.read_text().replace("status: active\n", "status: live\n", 1))
    with pytest.raises(StartupError) as err:
        _start(tmp_path, policies, forms)
    assert "recovery-jcp.v1.yaml" in str(err.value) and "status" in str(err.value)


def test_malformed_consent_form_stops_start_up(tmp_path: Path) -> None:
    policies, forms = _copy_rules(tmp_path)
    (forms / "broken.v1.yaml").write_text("id: [unclosed\n")
    with pytest.raises(StartupError) as err:
        _start(tmp_path, policies, forms)
    assert "broken.v1.yaml" in str(err.value) and "malformed YAML" in str(err.value)


def test_keyring_is_created_private(tmp_path: Path) -> None:
    policies, forms = _copy_rules(tmp_path)
    _start(tmp_path, policies, forms)
    for name in ("keyring.json", "token-keys.json", "audit-signing-key.pem"):
        assert (tmp_path / "instance" / name).stat().st_mode & 0o777 == 0o600
