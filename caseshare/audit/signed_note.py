"""Signing and verifying C2SP signed notes with Ed25519 (https://c2sp.org/signed-note), for the
log's checkpoints (https://c2sp.org/tlog-checkpoint). The note format itself (parsing, key ids)
is in proofs.py, standard library only; this module adds the signature, so a partner who copies
proofs.py needs this file and `cryptography` only to check a note's signature."""

from __future__ import annotations

import base64

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from caseshare.audit.proofs import note_key_id, split_note

__all__ = ["sign_note", "verify_note"]


def sign_note(text: str, name: str, key: Ed25519PrivateKey) -> str:
    """`text` (ending in a newline) signed by `key` under the key name `name`."""
    if not text.endswith("\n") or not name or "+" in name or " " in name:
        raise ValueError("a note text ends in one newline; a key name has no space or '+'")
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    signature = note_key_id(name, public) + key.sign(text.encode())
    return f"{text}\n\u2014 {name} {base64.b64encode(signature).decode()}\n"


def verify_note(note: str, name: str, public_key: bytes) -> str:
    """The note's text, once a signature by this key (`name` and the raw 32-byte Ed25519
    `public_key`) verifies. Other keys' signatures are ignored, as the spec requires; a
    signature by this key that fails rejects the whole note. ValueError otherwise."""
    text, signatures = split_note(note)
    key_id = note_key_id(name, public_key)
    verifier = Ed25519PublicKey.from_public_bytes(public_key)
    ours = [s for s in signatures if s.name == name and s.key_id == key_id]
    if not ours:
        raise ValueError(f"the note has no signature by {name}")
    for signature in ours:
        try:
            verifier.verify(signature.signature, text.encode())
        except InvalidSignature:
            raise ValueError(f"the note's signature by {name} does not verify") from None
    return text
