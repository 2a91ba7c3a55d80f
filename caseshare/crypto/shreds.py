"""The shred register: which subjects' data keys were destroyed, kept with the keys, outside the
database, so that restoring an earlier database backup never reopens an erased claimant.

One line per erased subject id, each line carrying an HMAC-SHA256 chained over every line before
it (`v1 <subject id> <hex mac>`), under a key derived from the keyring's blind-index key. A
database restore cannot edit it (it is not in the database), and an edited, reordered or removed
line in the middle breaks the chain: the register then refuses to answer, and every subject data
key unwrap fails closed (503) until the register is restored from its own backup. Lines removed
from the end cannot be told from a shorter register by the chain alone; `reconcile` (the restore
procedure's `caseshare shreds apply`) puts back any subject the database records as erased.

The file is 0600, replaced atomically (written to a temporary file, fsynced, renamed, directory
fsynced) under an exclusive lock, so concurrent erasures in several processes keep every line.

`ShreddingKeyring` wraps the key provider: it consults the register before any subject data key
is unwrapped (the unwrap context names the subject) and refuses shredded subjects.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from caseshare.crypto.keyring import KeyProvider
from caseshare.errors import CaseshareError, ServiceUnavailableError

_VERSION = "v1"
_GENESIS = b"caseshare-shred-register-v1"
_SUBJECT_CONTEXT = b"subject|"


class ShreddedKeyError(CaseshareError):
    """A subject data key was asked for, but the register says it was destroyed."""

    status, slug, title = 410, "erased", "This claimant's record has been erased"


class ShredRegisterError(ServiceUnavailableError):
    """The register could not be read, verified or written: nothing is unwrapped or erased."""


def register_mac_key(blind_index_key: bytes) -> bytes:
    """The register's MAC key, derived (never stored) from the keyring's blind-index key."""
    return hmac.new(blind_index_key, b"caseshare shred register mac key v1",
                    hashlib.sha256).digest()


def _mac(key: bytes, previous: bytes, subject_id: uuid.UUID) -> bytes:
    return hmac.new(key, previous + b"|" + str(subject_id).encode(), hashlib.sha256).digest()


@dataclass
class ShredRegister:
    path: Path
    mac_key: Callable[[], bytes]
    _cache: tuple[tuple[int, int, int], frozenset[uuid.UUID], bytes] | None = field(
        default=None, repr=False, compare=False)

    def _lock_path(self) -> Path:
        return self.path.with_name(self.path.name + ".lock")

    def _parse(self, text: str) -> tuple[frozenset[uuid.UUID], bytes]:
        key = self.mac_key()
        previous = _GENESIS
        ids: set[uuid.UUID] = set()
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        for number, line in enumerate(lines, start=1):
            parts = line.split(" ")
            try:
                if len(parts) != 3 or parts[0] != _VERSION:
                    raise ValueError
                subject_id = uuid.UUID(parts[1])
                given = bytes.fromhex(parts[2])
            except ValueError as exc:
                raise ShredRegisterError(
                    f"The shred register is malformed at line {number}.") from exc
            expected = _mac(key, previous, subject_id)
            if not hmac.compare_digest(given, expected):
                raise ShredRegisterError(
                    f"The shred register failed verification at line {number}.")
            ids.add(subject_id)
            previous = expected
        return frozenset(ids), previous

    def _state(self) -> tuple[frozenset[uuid.UUID], bytes]:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return frozenset(), _GENESIS
        except OSError as exc:
            raise ShredRegisterError("The shred register is not available.") from exc
        stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        if self._cache is not None and self._cache[0] == stamp:
            return self._cache[1], self._cache[2]
        try:
            text = self.path.read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as exc:
            raise ShredRegisterError("The shred register could not be read.") from exc
        ids, head = self._parse(text)
        self._cache = (stamp, ids, head)
        return ids, head

    def ids(self) -> frozenset[uuid.UUID]:
        """Every shredded subject id; raises ShredRegisterError if the register fails its MACs."""
        return self._state()[0]

    def contains(self, subject_id: uuid.UUID) -> bool:
        return subject_id in self.ids()

    def verify(self) -> int:
        """How many subjects the register holds, after checking every line's MAC."""
        self._cache = None
        return len(self.ids())

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._lock_path(), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    def add(self, subject_ids: Iterable[uuid.UUID]) -> list[uuid.UUID]:
        """Append the subjects not yet in the register, durably (fsynced) before returning.
        Returns those appended. Raises ShredRegisterError when it cannot: then nothing changed."""
        wanted = list(dict.fromkeys(subject_ids))
        if not wanted:
            return []
        try:
            with self._locked():
                self._cache = None  # another process may have appended
                present, head = self._state()
                new = [s for s in wanted if s not in present]
                if not new:
                    return []
                try:
                    old = self.path.read_text(encoding="ascii")
                except FileNotFoundError:
                    old = ""
                key = self.mac_key()
                lines = []
                for subject_id in new:
                    head = _mac(key, head, subject_id)
                    lines.append(f"{_VERSION} {subject_id} {head.hex()}\n")
                self._replace(old + "".join(lines))
                self._cache = None
                return new
        except ShredRegisterError:
            raise
        except OSError as exc:
            raise ShredRegisterError("The shred register could not be written.") from exc

    def _replace(self, text: str) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, text.encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path)
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def subject_of(context: bytes) -> uuid.UUID | None:
    """The subject a data key unwrap context names (`subject|<id>`), if it names one."""
    if not context.startswith(_SUBJECT_CONTEXT):
        return None
    try:
        return uuid.UUID(context[len(_SUBJECT_CONTEXT):].decode("ascii"))
    except ValueError:
        return None


@dataclass
class ShreddingKeyring:
    """A key provider that refuses to unwrap the data key of any subject in the register."""

    inner: KeyProvider
    register: ShredRegister

    def shredded(self, subject_id: uuid.UUID) -> bool:
        return self.register.contains(subject_id)

    def current_version(self) -> int:
        return self.inner.current_version()

    def wrap(self, data_key: bytes, *, context: bytes) -> tuple[int, bytes]:
        return self.inner.wrap(data_key, context=context)

    def unwrap(self, wrapped: bytes, *, version: int, context: bytes) -> bytes:
        subject_id = subject_of(context)
        if subject_id is None or self.register.contains(subject_id):
            # An unwrap that names no subject is refused too: every data key belongs to one.
            raise ShreddedKeyError("The record was erased; its data can no longer be opened.")
        return self.inner.unwrap(wrapped, version=version, context=context)

    def blind_index_key(self) -> bytes:
        return self.inner.blind_index_key()

    def rotate(self) -> int:
        return self.inner.rotate()

    def versions(self) -> list[int]:
        return self.inner.versions()

    def retire(self, version: int) -> None:
        self.inner.retire(version)


def shredding(inner: KeyProvider, register_path: Path) -> ShreddingKeyring:
    return ShreddingKeyring(inner, ShredRegister(
        register_path, lambda: register_mac_key(inner.blind_index_key())))


def is_shredded(keyring: KeyProvider, subject_id: uuid.UUID) -> bool:
    """Whether the register lists this subject. A provider without a register (only ever a
    test's) answers no here, and its unwraps are then not guarded either."""
    return isinstance(keyring, ShreddingKeyring) and keyring.shredded(subject_id)


def register_of(keyring: KeyProvider) -> ShredRegister:
    """The register erasure writes to; without one, erasure cannot be recorded and fails."""
    if not isinstance(keyring, ShreddingKeyring):
        raise ShredRegisterError("There is no shred register to record the erasure in.")
    return keyring.register
