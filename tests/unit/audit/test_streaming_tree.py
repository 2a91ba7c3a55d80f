"""The streaming pieces of `audit verify` against the straightforward implementations: a tree
built from chunk roots (the frontier) and per-chunk tiles gives every root that building it
leaf by leaf gives; the scan's MAC is the sequencer's."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caseshare.audit import merkle, proofs, scan
from caseshare.audit.canonical import canonical_bytes
from caseshare.audit.signer import leaf_mac


def leaves(n: int) -> list[bytes]:
    return [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(n)]


@settings(deadline=None)  # a loaded shared machine is no reason to fail
@given(st.integers(0, 300), st.integers(0, 5), st.data())
def test_chunk_frontier_and_tiles_give_every_root(n: int, log_chunk: int,
                                                  data: st.DataObject) -> None:
    chunk = 1 << log_chunk
    all_leaves = leaves(n)
    sizes = sorted(data.draw(st.sets(st.integers(1, max(n, 1)), max_size=8))) if n else []
    frontier = merkle.CompactRange()
    for lo in range(0, n, chunk):
        hi = min(lo + chunk, n)
        task = scan.ChunkTask(lo, hi, tuple(s for s in sizes if lo < s <= hi), timedelta(0))
        result = scan.ChunkResult(lo, hi)
        scan._subtrees(result, task, all_leaves[lo:hi])
        for size in task.sizes:
            assert merkle.fold(frontier.hashes() + result.tiles[size]) == \
                merkle.root_of(all_leaves[:size])
        width = hi - lo
        if width & (width - 1) == 0:  # a full chunk (or a last one that is a perfect tree)
            assert result.subtree == merkle.root_of(all_leaves[lo:hi])
            frontier.append_subtree(width.bit_length() - 1, result.subtree)
        else:
            assert result.subtree is None
    if frontier.size == n:
        assert frontier.root() == merkle.root_of(all_leaves)


def test_a_subtree_must_start_at_a_multiple_of_its_width() -> None:
    compact = merkle.CompactRange()
    compact.append(leaves(1)[0])
    with pytest.raises(ValueError, match="multiple of its width"):
        compact.append_subtree(1, bytes(32))


def test_a_failed_chunk_has_no_subtree_but_keeps_the_tiles_before_the_failure() -> None:
    all_leaves = leaves(8)
    task = scan.ChunkTask(8, 16, (10, 12), timedelta(0))
    result = scan.ChunkResult(8, 16, failure=scan.ChunkFailure((11, scan.CONTENT), "x", 11, None))
    scan._subtrees(result, task, all_leaves[:3])  # positions 8..10 checked, 11 failed
    assert result.subtree is None
    assert list(result.tiles) == [10]
    assert result.tiles[10] == [merkle.root_of(all_leaves[:2])]


def sealed_row(key: bytes, position: int, sealed_at: int,
               occurred_at: datetime = datetime(2026, 1, 1, 9, 30, tzinfo=UTC)) -> tuple[Any, ...]:
    """One event as the SQLite driver returns it to the scan, its MAC made by the sequencer's
    function for log position `sealed_at`."""
    event = SimpleNamespace(
        event_uuid=uuid.uuid4(), occurred_at=occurred_at, type="case_plan:plan:read",
        actor="worker@example", org="org", role="key_worker", purpose="case_management",
        subject_id=uuid.uuid4(), categories=["identity"], decision="allow", reasons=[],
        consent_id=None, protocol="p@1", override_id=None, request_id="r", details={"n": 1})
    leaf = proofs.leaf_hash(canonical_bytes(event))  # type: ignore[arg-type]
    return (position, position + 1, leaf, leaf_mac(key, sealed_at, leaf), event.event_uuid.hex,
            occurred_at.strftime("%Y-%m-%d %H:%M:%S.%f"), event.type, event.actor, event.org,
            event.role, event.purpose, event.subject_id.hex, json.dumps(event.categories),
            event.decision, json.dumps(event.reasons), None, event.protocol, None,
            event.request_id, json.dumps(event.details))


@settings(deadline=None)  # a loaded shared machine is no reason to fail
@given(st.binary(min_size=1, max_size=100), st.integers(0, 2**40))
def test_the_scans_mac_is_the_sequencers(key: bytes, position: int) -> None:
    """Keys longer than a SHA-256 block (hashed first) included."""
    task = scan.ChunkTask(position, position + 1, (), timedelta(0))
    sealed = scan._check_rows(None, "sqlite", task, key, [sealed_row(key, position, position)])
    assert sealed.failure is None
    moved = scan._check_rows(None, "sqlite", task, key, [sealed_row(key, position, position + 1)])
    assert moved.failure is not None and moved.failure.found_at == (position, scan.MAC)
    other_key = scan._check_rows(None, "sqlite", task, key + b"x",
                                 [sealed_row(key, position, position)])
    assert other_key.failure is not None and other_key.failure.found_at == (position, scan.MAC)


@pytest.mark.parametrize("mac", [None, "not bytes", 7])
def test_a_mac_column_rewritten_to_another_type_is_a_wrong_mac(mac: Any) -> None:
    row = list(sealed_row(b"key", 0, 0))
    row[3] = mac
    task = scan.ChunkTask(0, 1, (), timedelta(0))
    result = scan._check_rows(None, "sqlite", task, b"key", [tuple(row)])
    assert result.failure is not None and result.failure.found_at == (0, scan.MAC)
    assert "was not sealed at this position" in result.failure.problem


@pytest.mark.parametrize("micro", [0, 1, 500_000, 999_999])
def test_the_scans_time_text_is_the_hashed_one(micro: int) -> None:
    row = sealed_row(b"key", 0, 0, datetime(2026, 1, 1, 9, 30, 5, micro, tzinfo=UTC))
    task = scan.ChunkTask(0, 1, (), timedelta(0))
    assert scan._check_rows(None, "sqlite", task, b"key", [row]).failure is None


@pytest.mark.parametrize("stored", ["2026-01-01 09:30:00x000000", "2026-01-01 09:30:01.000000",
                                    "not a time", 20260101, None])
def test_a_time_column_rewritten_is_an_altered_event_not_a_crash(stored: Any) -> None:
    """(Another spelling of the same instant, such as 2026-01-01T09:30:00+00:00, is the same
    time: it hashes the same, as it always has.)"""
    row = list(sealed_row(b"key", 0, 0))
    row[5] = stored
    task = scan.ChunkTask(0, 1, (), timedelta(0))
    result = scan._check_rows(None, "sqlite", task, b"key", [tuple(row)])
    assert result.failure is not None and result.failure.found_at == (0, scan.CONTENT)
