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

The same checkpoint is served as a C2SP signed note (`note`, https://c2sp.org/tlog-checkpoint),
which any standard witness or verifier reads:

    <origin>
    <tree size>
    <root hash, base64>

    — <key name> <base64(4-byte key id || 64-byte Ed25519 signature)>

The key name is the log's origin (`CASESHARE_AUDIT_LOG_ORIGIN`); the key id is
`note_key_id(name, public_key)`. A partner verifies a note with the log's raw public key,
obtained out of band, and then reads it:

    text = signed_note.verify_note(note, origin, partner_copy_of_public_key)  # raises if bad
    checkpoint = parse_checkpoint_note(note)  # origin, tree_size, root_hash
    assert checkpoint.origin == origin

(`caseshare/audit/signed_note.py`, a few lines over `cryptography`; or Go's
golang.org/x/mod/sumdb/note with `verifier_key(origin, public_key)`.) Then check proofs against
`checkpoint.root_hash` as above.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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
    return _consistent_roots(first, second, path) == (first_root, second_root, 0)


def _consistent_roots(first: int, second: int, path: list[bytes]) -> tuple[bytes, bytes, int]:
    """RFC 9162 2.1.4.2 steps 3 to 6: the two roots the path leads to, and what is left of
    `sn` (0 for a path of the right length); `path` starts with the first tree's subtree."""
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return fr, sr, -1  # the path is longer than the tree is deep
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr, sr, sn


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


# C2SP signed notes and tlog-checkpoint (https://c2sp.org/signed-note,
# https://c2sp.org/tlog-checkpoint): the checkpoint in the form any standard witness or verifier
# reads. Parsing and key ids need only the standard library; the Ed25519 check itself is in
# caseshare/audit/signed_note.py (or any C2SP note verifier).

NOTE_ED25519 = 0x01  # the signed-note signature type of an Ed25519 key
_MAX_SIGNATURES = 100


@dataclass(frozen=True)
class NoteSignature:
    name: str  # the key name
    key_id: bytes  # 4 bytes
    signature: bytes  # the rest: for Ed25519, 64 bytes over the note text


@dataclass(frozen=True)
class CheckpointNote:
    origin: str
    tree_size: int
    root_hash: bytes
    extensions: tuple[str, ...]  # opaque lines after the root hash (Caseshare writes none)
    text: str  # the signed text: every body line, each ending in a newline
    signatures: tuple[NoteSignature, ...]


def note_key_id(name: str, public_key: bytes, signature_type: int = NOTE_ED25519) -> bytes:
    """SHA-256(key name || 0x0A || signature type || public key)[:4], as signed-note recommends
    and as Caseshare's notes use."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([signature_type]) + public_key).digest()[:4]


def verifier_key(name: str, public_key: bytes) -> str:
    """The key in the `<name>+<hex key id>+<base64(0x01 || key)>` form of Go's
    golang.org/x/mod/sumdb/note and the transparency-dev tools, for partners who use them."""
    encoded = base64.b64encode(bytes([NOTE_ED25519]) + public_key).decode()
    return f"{name}+{note_key_id(name, public_key).hex()}+{encoded}"


def checkpoint_note_text(origin: str, tree_size: int, root_hash: bytes) -> str:
    """The tlog-checkpoint body: origin, tree size in decimal, base64 root hash."""
    return f"{origin}\n{tree_size}\n{base64.b64encode(root_hash).decode()}\n"


def split_note(note: str) -> tuple[str, tuple[NoteSignature, ...]]:
    """A signed note's text (ending in its newline) and its signature lines, unverified.
    ValueError when the note is not well formed."""
    if any(ord(c) < 0x20 and c != "\n" for c in note):
        raise ValueError("a signed note holds no control characters but newline")
    text, blank, block = note.rpartition("\n\n")
    if not blank or not text or not block.endswith("\n"):
        raise ValueError("not a signed note: text, a blank line, then signature lines")
    text += "\n"
    signatures = []
    for line in block[:-1].split("\n"):
        dash, _, rest = line.partition(" ")
        name, _, encoded = rest.partition(" ")
        if dash != "\u2014" or not name or "+" in name or " " in encoded:
            raise ValueError(f"not a signature line: {line[:80]!r}")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            raise ValueError("a signature is not base64") from None
        if len(raw) < 5:
            raise ValueError("a signature is too short")
        signatures.append(NoteSignature(name, raw[:4], raw[4:]))
    if len(signatures) > _MAX_SIGNATURES:
        raise ValueError("too many signatures")
    return text, tuple(signatures)


def parse_checkpoint_note(note: str) -> CheckpointNote:
    """A tlog-checkpoint signed note's origin, size, root hash, extension lines and signature
    lines, NOT verified: check a signature before trusting any of it (see the module docstring).
    ValueError when it is not a checkpoint note."""
    text, signatures = split_note(note)
    origin, size, root, *extensions = text[:-1].split("\n")
    if not origin or not size.isascii() or not size.isdigit() or (
            size != "0" and size.startswith("0")):
        raise ValueError("not a checkpoint: origin, then the tree size in decimal")
    try:
        root_hash = base64.b64decode(root, validate=True)
    except binascii.Error:
        raise ValueError("not a checkpoint: the root hash is not base64") from None
    if len(root_hash) != 32 or any(not line for line in extensions):
        raise ValueError("not a checkpoint: a 32-byte root hash, then non-empty lines")
    return CheckpointNote(origin, int(size), root_hash, tuple(extensions), text, signatures)
