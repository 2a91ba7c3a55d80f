"""The local keyring: versions, rotation seen across instances, retirement, binding."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from caseshare.crypto.keyring import LocalKeyring
from caseshare.crypto.sealing import new_data_key
from caseshare.errors import KeyUnavailableError


def test_rotation_by_another_process_is_seen_at_once_and_old_versions_still_unwrap(
    tmp_path: Path
) -> None:
    path = tmp_path / "keyring.json"
    serving = LocalKeyring.create_if_missing(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = new_data_key()
    version, wrapped = serving.wrap(key, context=b"subject|a")
    assert version == 1

    assert LocalKeyring(path).rotate() == 2  # the operator's CLI, a separate instance
    assert serving.current_version() == 2
    assert serving.wrap(key, context=b"subject|a")[0] == 2
    assert serving.unwrap(wrapped, version=1, context=b"subject|a") == key
    with pytest.raises(KeyUnavailableError):
        serving.unwrap(wrapped, version=1, context=b"subject|b")  # bound to its subject
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_retire_destroys_an_old_version_but_never_the_current_one(tmp_path: Path) -> None:
    keyring = LocalKeyring.create_if_missing(tmp_path / "keyring.json")
    key = new_data_key()
    _v, wrapped = keyring.wrap(key, context=b"subject|a")
    keyring.rotate()
    with pytest.raises(ValueError, match="current"):
        keyring.retire(2)
    keyring.retire(1)
    assert keyring.versions() == [2]
    with pytest.raises(KeyUnavailableError):
        keyring.unwrap(wrapped, version=1, context=b"subject|a")
    with pytest.raises(KeyUnavailableError):
        keyring.retire(1)
