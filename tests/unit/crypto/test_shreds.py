"""The shred register file: append-only MAC chain, private, durable, safe across processes."""

from __future__ import annotations

import multiprocessing
import secrets
import uuid
from pathlib import Path

import pytest

from caseshare.crypto.shreds import ShredRegister, ShredRegisterError, register_mac_key


def _register(path: Path, key: bytes) -> ShredRegister:
    return ShredRegister(path, lambda: register_mac_key(key))


def _append(path: str, key: bytes, ids: list[str]) -> None:
    register = _register(Path(path), key)
    for subject_id in ids:
        register.add([uuid.UUID(subject_id)])


def test_appends_from_several_processes_are_all_kept_and_verify(tmp_path: Path) -> None:
    key = secrets.token_bytes(32)
    path = tmp_path / "shred-register"
    batches = [[str(uuid.uuid4()) for _ in range(15)] for _ in range(4)]
    ctx = multiprocessing.get_context("fork")
    workers = [ctx.Process(target=_append, args=(str(path), key, b)) for b in batches]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
        assert w.exitcode == 0
    register = _register(path, key)
    assert register.verify() == 60
    assert register.ids() == {uuid.UUID(i) for b in batches for i in b}
    assert path.stat().st_mode & 0o777 == 0o600
    assert register.add([uuid.UUID(batches[0][0])]) == []  # already there: unchanged
    assert len(path.read_text().splitlines()) == 60


def test_a_register_is_bound_to_its_keyring(tmp_path: Path) -> None:
    path = tmp_path / "shred-register"
    _register(path, secrets.token_bytes(32)).add([uuid.uuid4()])
    with pytest.raises(ShredRegisterError, match="verification at line 1"):
        _register(path, secrets.token_bytes(32)).ids()


def test_a_missing_register_is_empty_and_a_torn_one_fails_closed(tmp_path: Path) -> None:
    key = secrets.token_bytes(32)
    path = tmp_path / "shred-register"
    assert _register(path, key).ids() == frozenset()
    _register(path, key).add([uuid.uuid4(), uuid.uuid4()])
    path.write_text(path.read_text()[:-20])
    with pytest.raises(ShredRegisterError, match="line 2"):
        _register(path, key).ids()
