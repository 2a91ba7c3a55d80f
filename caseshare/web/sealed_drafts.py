"""An assessment draft sealed for the session cookie.

Flask's session cookie is signed, not encrypted: anyone holding it can read it. A draft holds
answer codes, some of them special-category (health, drugs and alcohol), so it goes into the
cookie only as AES-GCM ciphertext under a key derived (HKDF-SHA256, a label of its own) from
the server's session secret: no new key file to provision, and a key that is used for nothing
else. The associated data binds the ciphertext to the signed-in staff member and the claimant,
so a draft opens only for the same person assessing the same claimant; anything else (another
claimant, another user, a rotated secret, a tampered cookie) opens as no draft at all.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

LABEL = b"caseshare web: assessment draft in the session cookie, v1"
NONCE = 12


def draft_key(secret: str | bytes) -> bytes:
    """The AES-256 key for drafts, derived from the session secret under its own label."""
    raw = secret.encode() if isinstance(secret, str) else secret
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=LABEL).derive(raw)


def _bound(staff_id: str, subject_id: str) -> bytes:
    return f"staff={staff_id};subject={subject_id}".encode()


def seal(value: dict[str, Any], *, secret: str | bytes, staff_id: str, subject_id: str) -> str:
    """`value` as URL-safe base64 of nonce + ciphertext, bound to the staff member and
    claimant."""
    nonce = os.urandom(NONCE)
    plain = json.dumps(value, separators=(",", ":")).encode()
    sealed = AESGCM(draft_key(secret)).encrypt(nonce, plain, _bound(staff_id, subject_id))
    return base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal(token: Any, *, secret: str | bytes, staff_id: str,
           subject_id: str) -> dict[str, Any] | None:
    """The sealed value, or None when it does not open for this staff member and claimant."""
    if not isinstance(token, str):
        return None
    try:
        raw = base64.urlsafe_b64decode(token.encode())
        plain = AESGCM(draft_key(secret)).decrypt(raw[:NONCE], raw[NONCE:],
                                                  _bound(staff_id, subject_id))
        value = json.loads(plain)
    except (binascii.Error, ValueError, InvalidTag):
        return None
    return value if isinstance(value, dict) else None
