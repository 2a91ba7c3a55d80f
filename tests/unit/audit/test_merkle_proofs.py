"""Proof generation (merkle.py) and the standalone verifier (proofs.py) against a reference
implementation written straight from the recursive definitions of RFC 9162 section 2.1."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from caseshare.audit import merkle
from caseshare.audit.proofs import EMPTY_ROOT, verify_consistency, verify_inclusion

# --- the reference: RFC 9162 2.1.1, 2.1.3.1 and 2.1.4.1 verbatim, on the raw entries ------------


def ref_mth(d: list[bytes]) -> bytes:
    n = len(d)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + d[0]).digest()
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + ref_mth(d[:k]) + ref_mth(d[k:])).digest()


def ref_path(m: int, d: list[bytes]) -> list[bytes]:
    n = len(d)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return [*ref_path(m, d[:k]), ref_mth(d[k:])]
    return [*ref_path(m - k, d[k:]), ref_mth(d[:k])]


def ref_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [ref_mth(d)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*ref_subproof(m, d[:k], b), ref_mth(d[k:])]
    return [*ref_subproof(m - k, d[k:], False), ref_mth(d[:k])]


def ref_proof(m: int, d: list[bytes]) -> list[bytes]:
    return ref_subproof(m, d, True)


# --- the code under test, fed from a full node map as the database would --------------------


def entries(n: int) -> list[bytes]:
    return [f"event-{i}".encode() for i in range(n)]


def node_map(d: list[bytes]) -> dict[merkle.Node, bytes]:
    nodes: dict[merkle.Node, bytes] = {}
    compact = merkle.CompactRange()
    for i, data in enumerate(d):
        leaf = merkle.leaf_hash(data)
        nodes[(0, i)] = leaf
        nodes.update(compact.append(leaf))
    return nodes


def inclusion(index: int, size: int, nodes: dict[merkle.Node, bytes]) -> list[bytes]:
    return [merkle.range_hash(lo, hi, nodes) for lo, hi in merkle.inclusion_ranges(index, size)]


def consistency(first: int, second: int, nodes: dict[merkle.Node, bytes]) -> list[bytes]:
    return [merkle.range_hash(lo, hi, nodes)
            for lo, hi in merkle.consistency_ranges(first, second)]


def root(size: int, nodes: dict[merkle.Node, bytes]) -> bytes:
    return merkle.range_hash(0, size, nodes)


SIZES = range(1, 70)


@pytest.mark.parametrize("n", [0, *SIZES])
def test_root_matches_reference_for_every_size_up_to_69(n: int) -> None:
    d = entries(n)
    expected = ref_mth(d)
    assert merkle.root_of([merkle.leaf_hash(x) for x in d]) == expected
    assert root(n, node_map(d)) == expected


def test_empty_tree_root_is_hash_of_nothing() -> None:
    assert merkle.root_of([]) == EMPTY_ROOT == hashlib.sha256(b"").digest()


@pytest.mark.parametrize("n", SIZES)
def test_every_inclusion_proof_matches_reference_and_verifies(n: int) -> None:
    d = entries(n)
    nodes = node_map(d)
    tree_root = ref_mth(d)
    for m in range(n):
        path = inclusion(m, n, nodes)
        assert path == ref_path(m, d)
        assert verify_inclusion(merkle.leaf_hash(d[m]), m, n, path, tree_root)


@pytest.mark.parametrize("n", SIZES)
def test_every_consistency_proof_matches_reference_and_verifies(n: int) -> None:
    d = entries(n)
    nodes = node_map(d)
    for m in range(1, n):
        proof = consistency(m, n, nodes)
        assert proof == ref_proof(m, d)
        assert verify_consistency(m, n, ref_mth(d[:m]), ref_mth(d), proof)


@given(st.integers(1, 3000), st.data())
def test_inclusion_at_large_random_sizes(n: int, data: st.DataObject) -> None:
    d = entries(n)
    nodes = node_map(d)
    m = data.draw(st.integers(0, n - 1))
    size = data.draw(st.integers(m + 1, n))
    path = inclusion(m, size, nodes)
    assert path == ref_path(m, d[:size])
    assert verify_inclusion(merkle.leaf_hash(d[m]), m, size, path, ref_mth(d[:size]))


@given(st.integers(2, 3000), st.data())
def test_consistency_at_large_random_sizes(n: int, data: st.DataObject) -> None:
    d = entries(n)
    nodes = node_map(d)
    first = data.draw(st.integers(1, n - 1))
    proof = consistency(first, n, nodes)
    assert proof == ref_proof(first, d)
    assert verify_consistency(first, n, ref_mth(d[:first]), ref_mth(d), proof)


def test_compact_range_resumes_from_stored_tiles() -> None:
    d = entries(45)
    nodes = node_map(d)
    tiles = merkle.perfect_nodes(0, 30)
    resumed = merkle.CompactRange(30, [nodes[t] for t in tiles])
    for data in d[30:]:
        resumed.append(merkle.leaf_hash(data))
    assert resumed.root() == ref_mth(d)
    with pytest.raises(ValueError, match="compact range"):
        merkle.CompactRange(30, [nodes[t] for t in tiles[:-1]])


# --- forged proofs: every single change to a valid proof is rejected -------------------------


def flip(h: bytes) -> bytes:
    return bytes([h[0] ^ 1]) + h[1:]


@given(st.integers(2, 300), st.data())
def test_forged_inclusion_proofs_are_rejected(n: int, data: st.DataObject) -> None:
    d = entries(n)
    nodes = node_map(d)
    m = data.draw(st.integers(0, n - 1))
    path = inclusion(m, n, nodes)
    leaf, tree_root = merkle.leaf_hash(d[m]), ref_mth(d)
    assert verify_inclusion(leaf, m, n, path, tree_root)

    assert not verify_inclusion(flip(leaf), m, n, path, tree_root)
    assert not verify_inclusion(leaf, m, n, path, flip(tree_root))
    assert not verify_inclusion(leaf, m, n, [*path, path[0]], tree_root)
    # The size is bound by the signed root: a proof for n leaves is no proof for n + 1.
    assert not verify_inclusion(leaf, m, n + 1, path, ref_mth([*d, b"next"]))
    assert not verify_inclusion(leaf, m, n, path, ref_mth(d[:-1]))
    assert not verify_inclusion(leaf, n, n, path, tree_root)
    assert not verify_inclusion(leaf, -1, n, path, tree_root)
    # Another event's leaf hash at this position, or this leaf claimed at another position.
    other = data.draw(st.integers(0, n - 1).filter(lambda i: i != m))
    assert not verify_inclusion(merkle.leaf_hash(d[other]), m, n, path, tree_root)
    assert not verify_inclusion(leaf, other, n, path, tree_root)
    if path:
        i = data.draw(st.integers(0, len(path) - 1))
        forged = list(path)
        forged[i] = flip(forged[i])
        assert not verify_inclusion(leaf, m, n, forged, tree_root)
        assert not verify_inclusion(leaf, m, n, path[:-1], tree_root)
        assert not verify_inclusion(leaf, m, n, path[::-1], tree_root) or path == path[::-1]


@given(st.integers(3, 300), st.data())
def test_forged_consistency_proofs_are_rejected(n: int, data: st.DataObject) -> None:
    d = entries(n)
    nodes = node_map(d)
    first = data.draw(st.integers(1, n - 1))
    proof = consistency(first, n, nodes)
    old, new = ref_mth(d[:first]), ref_mth(d)
    assert verify_consistency(first, n, old, new, proof)

    assert not verify_consistency(first, n, flip(old), new, proof)
    assert not verify_consistency(first, n, old, flip(new), proof)
    assert not verify_consistency(first, n, old, new, [])
    assert not verify_consistency(first, n, old, new, [*proof, proof[0]])
    assert not verify_consistency(first, n, old, new, proof[:-1])
    assert not verify_consistency(n, first, new, old, proof)
    # A history rewritten after `first`: a different event at the end of the old tree.
    rewritten = [*d[: first - 1], b"forged", *d[first:]]
    assert not verify_consistency(first, n, ref_mth(rewritten[:first]), new, proof)
    i = data.draw(st.integers(0, len(proof) - 1))
    forged = list(proof)
    forged[i] = flip(forged[i])
    assert not verify_consistency(first, n, old, new, forged)


def test_degenerate_consistency_cases() -> None:
    d = entries(5)
    assert verify_consistency(5, 5, ref_mth(d), ref_mth(d), [])
    assert not verify_consistency(5, 5, ref_mth(d), ref_mth(d[:4]), [])
    assert not verify_consistency(5, 5, ref_mth(d), ref_mth(d), [ref_mth(d)])
    assert verify_consistency(0, 5, EMPTY_ROOT, ref_mth(d), [])
    assert not verify_consistency(0, 5, EMPTY_ROOT, ref_mth(d), [ref_mth(d)])
    assert not verify_consistency(6, 5, ref_mth(d), ref_mth(d), [])


def test_ranges_reject_impossible_positions() -> None:
    with pytest.raises(ValueError):
        merkle.inclusion_ranges(5, 5)
    with pytest.raises(ValueError):
        merkle.consistency_ranges(6, 5)
