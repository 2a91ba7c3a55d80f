"""A standalone verifier for the audit log's RFC 9162 proofs. It trusts nothing the server says.

Pure functions over bytes, depending only on the standard library, so that a partner's IG officer
can copy this one file and check, against a checkpoint whose Ed25519 signature they verified
themselves, that an event is in the log (inclusion) and that the log only ever grew
(consistency). The algorithms are RFC 9162 sections 2.1.3.2 and 2.1.4.2, step by step.

Typical use, with an event and a checkpoint as the API returns them:

    assert verify_checkpoint(partner_copy_of_public_key, checkpoint)
    proof = GET /audit/events/{event["index"]}/inclusion?tree_size={checkpoint["tree_size"]}
    assert verify_inclusion(event_leaf_hash(event), event["index"], checkpoint["tree_size"],
                            [bytes.fromhex(h) for h in proof["audit_path"]],
                            bytes.fromhex(checkpoint["root_hash"]))

Only the checkpoint signature needs a library beyond the standard one (`cryptography`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

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


# The fields an event's leaf hash covers, as the API names them -> as the log names them.
EVENT_FIELDS = {
    "id": "event_uuid", "occurred_at": "occurred_at", "type": "type", "actor": "actor",
    "org": "org", "role": "role", "purpose": "purpose", "subject_id": "subject_id",
    "categories": "categories", "decision": "decision", "reasons": "reasons",
    "consent_id": "consent_id", "protocol": "protocol", "override_id": "override_id",
    "request_id": "request_id", "details": "details",
}


def _offset_time(rfc3339: str) -> str:
    """The API writes UTC as `Z`; the log hashed Python's isoformat, `+00:00`."""
    return rfc3339[:-1] + "+00:00" if rfc3339.endswith("Z") else rfc3339


def event_leaf_hash(event: Mapping[str, Any]) -> bytes:
    """Recompute an event's leaf hash from the event as the API returned it, so the client
    checks the content it was shown, not a hash the server chose."""
    body = {ours: event[theirs] for theirs, ours in EVENT_FIELDS.items()}
    body["occurred_at"] = _offset_time(body["occurred_at"])
    return leaf_hash(json.dumps(body, sort_keys=True, separators=(",", ":")).encode())


def checkpoint_message(tree_size: int, root_hash: bytes, timestamp: str) -> bytes:
    """The exact bytes a checkpoint's Ed25519 signature covers."""
    return (f"caseshare-audit-checkpoint\n{tree_size}\n{root_hash.hex()}\n"
            f"{_offset_time(timestamp)}\n").encode()


def verify_checkpoint(public_key: bytes, checkpoint: Mapping[str, Any]) -> bool:
    """True only if the checkpoint (as the API returned it) was signed by this raw Ed25519
    public key, which the verifier obtained from the log operator out of band."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        message = checkpoint_message(int(checkpoint["tree_size"]),
                                     bytes.fromhex(checkpoint["root_hash"]),
                                     str(checkpoint["timestamp"]))
        Ed25519PublicKey.from_public_bytes(public_key).verify(
            bytes.fromhex(checkpoint["signature"]), message)
    except (InvalidSignature, ValueError, KeyError, TypeError):
        return False
    return True
