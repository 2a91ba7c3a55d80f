"""A standalone verifier for the audit log's RFC 9162 proofs. It trusts nothing the server says.

Pure functions over bytes, depending only on the standard library, so that a partner's IG officer
can copy this one file and check, against a checkpoint whose Ed25519 signature they verified
themselves, that an event is in the log (inclusion) and that the log only ever grew
(consistency). The algorithms are RFC 9162 sections 2.1.3.2 and 2.1.4.2, step by step.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_inclusion(leaf: bytes, leaf_index: int, tree_size: int, audit_path: Sequence[bytes],
                     root_hash: bytes) -> bool:
    """True only if `leaf` (a leaf hash) is at `leaf_index` in the tree with this root."""
    if not 0 <= leaf_index < tree_size:
        return False
    fn, sn, r = leaf_index, tree_size - 1, leaf
    for p in audit_path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root_hash


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes,
                       consistency_path: Sequence[bytes]) -> bool:
    """True only if the tree of size `first` with `first_root` is a prefix of the tree of size
    `second` with `second_root`."""
    if not 0 <= first <= second:
        return False
    if first == second:
        return not consistency_path and first_root == second_root
    if first == 0:
        return not consistency_path and first_root == EMPTY_ROOT
    if not consistency_path:
        return False
    path = list(consistency_path)
    if first & (first - 1) == 0:  # an exact power of two: the old root is a node of the new tree
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == first_root and sr == second_root and sn == 0
