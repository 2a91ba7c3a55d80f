"""Key-encryption keys (KEKs), versioned, from a provider.

The default provider is a local JSON file created on first run with 0600 permissions. A secrets
mount or a KMS (e.g. Vault transit) plugs in by implementing `KeyProvider`.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from caseshare.errors import KeyUnavailableError


class KeyProvider(Protocol):
    def current_version(self) -> int: ...
    def wrap(self, data_key: bytes, *, context: bytes) -> tuple[int, bytes]: ...
    def unwrap(self, wrapped: bytes, *, version: int, context: bytes) -> bytes: ...
    def blind_index_key(self) -> bytes: ...
    def rotate(self) -> int: ...
    def versions(self) -> list[int]: ...
    def retire(self, version: int) -> None: ...


@dataclass
class LocalKeyring:
    """KEKs and the blind-index key in one JSON file readable only by the service user."""

    path: Path
    # The parsed file, valid while the file is unchanged (a rotation in another process
    # replaces the file, which changes its inode and mtime, and so reloads it here).
    _cache: tuple[tuple[int, int, int], dict[str, object]] | None = field(
        default=None, repr=False, compare=False)

    def _load(self) -> dict[str, object]:
        try:
            st = self.path.stat()
        except FileNotFoundError as exc:
            raise KeyUnavailableError("The keyring is not available.") from exc
        stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        if self._cache is not None and self._cache[0] == stamp:
            return self._cache[1]
        raw = self._read()
        self._cache = (stamp, raw)
        return raw

    def _read(self) -> dict[str, object]:
        """The file as it is now; callers that change it start from this, never the cache."""
        try:
            raw = json.loads(self.path.read_text())
        except FileNotFoundError as exc:
            raise KeyUnavailableError("The keyring is not available.") from exc
        except (OSError, ValueError) as exc:
            raise KeyUnavailableError("The keyring could not be read.") from exc
        if not isinstance(raw, dict):
            raise KeyUnavailableError("The keyring could not be read.")
        return raw

    @classmethod
    def create_if_missing(cls, path: Path) -> LocalKeyring:
        keyring = cls(path)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            content = {
                "current": 1,
                "keks": {"1": _b64(secrets.token_bytes(32))},
                "blind_index_key": _b64(secrets.token_bytes(32)),
            }
            write_private(path, json.dumps(content, indent=2))
        return keyring

    def _kek(self, version: int) -> bytes:
        keks = self._load().get("keks")
        if not isinstance(keks, dict) or str(version) not in keks:
            raise KeyUnavailableError(f"Key-encryption key version {version} is not available.")
        return base64.b64decode(keks[str(version)])

    def current_version(self) -> int:
        current = self._load().get("current")
        if not isinstance(current, int):
            raise KeyUnavailableError("The keyring has no current key version.")
        return current

    def versions(self) -> list[int]:
        keks = self._load().get("keks")
        return sorted(int(v) for v in keks) if isinstance(keks, dict) else []

    def wrap(self, data_key: bytes, *, context: bytes) -> tuple[int, bytes]:
        version = self.current_version()
        nonce = secrets.token_bytes(12)
        aad = b"caseshare-dek|" + context + b"|kek" + str(version).encode()
        return version, nonce + AESGCM(self._kek(version)).encrypt(nonce, data_key, aad)

    def unwrap(self, wrapped: bytes, *, version: int, context: bytes) -> bytes:
        aad = b"caseshare-dek|" + context + b"|kek" + str(version).encode()
        try:
            return AESGCM(self._kek(version)).decrypt(wrapped[:12], wrapped[12:], aad)
        except KeyUnavailableError:
            raise
        except Exception as exc:
            raise KeyUnavailableError("A data key could not be unwrapped.") from exc

    def blind_index_key(self) -> bytes:
        key = self._load().get("blind_index_key")
        if not isinstance(key, str):
            raise KeyUnavailableError("The blind-index key is not available.")
        return base64.b64decode(key)

    def rotate(self) -> int:
        content = self._read()
        keks = content["keks"]
        assert isinstance(keks, dict)
        version = max(int(v) for v in keks) + 1
        keks[str(version)] = _b64(secrets.token_bytes(32))
        content["current"] = version
        write_private(self.path, json.dumps(content, indent=2))
        return version


    def retire(self, version: int) -> None:
        """Destroy an old key-encryption key. Callers check first that nothing uses it."""
        content = self._read()
        keks = content["keks"]
        assert isinstance(keks, dict)
        if version == content.get("current"):
            raise ValueError("The current key-encryption key cannot be retired.")
        if str(version) not in keks:
            raise KeyUnavailableError(f"Key-encryption key version {version} is not available.")
        del keks[str(version)]
        write_private(self.path, json.dumps(content, indent=2))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def write_private(path: Path, text: str) -> None:
    """Write a secret file atomically with 0600 permissions from the first byte."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)

