"""The audit log's keys: the checkpoint signing key (Ed25519) and the MAC keys derived from it,
and the two MACs that make events tamper-evident before and after integration."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from caseshare.audit.signed_note import sign_note
from caseshare.crypto.keyring import write_private


@dataclass
class AuditSigner:
    """The checkpoint signing key (Ed25519), kept in its own file apart from the data keys."""

    path: Path
    # The log's name in its checkpoint notes (`Settings.audit_log_origin`), also the key name.
    origin: str = "caseshare.example/audit"

    @classmethod
    def create_if_missing(cls, path: Path, origin: str = "caseshare.example/audit"
                          ) -> AuditSigner:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            pem = Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            write_private(path, pem.decode())
        return cls(path, origin)

    def _private(self) -> Ed25519PrivateKey:
        key = serialization.load_pem_private_key(self.path.read_bytes(), password=None)
        assert isinstance(key, Ed25519PrivateKey)
        return key

    def public_key(self) -> Ed25519PublicKey:
        return self._private().public_key()

    def key_id(self) -> str:
        raw = self.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return hashlib.sha256(raw).hexdigest()[:16]

    def sign(self, message: bytes) -> bytes:
        return self._private().sign(message)

    def public_bytes(self) -> bytes:
        """The raw 32-byte public key, as partners hold it."""
        return self.public_key().public_bytes(serialization.Encoding.Raw,
                                              serialization.PublicFormat.Raw)

    def sign_note(self, text: str) -> str:
        """`text` as a C2SP signed note under the log's origin as key name."""
        return sign_note(text, self.origin, self._private())

    def mac_key(self) -> bytes:
        """The sequencer's leaf MAC key, derived from (and as secret as) the signing key."""
        raw = self._private().private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        return HKDF(hashes.SHA256(), 32, salt=None, info=b"caseshare-audit-leaf-mac").derive(raw)

    def event_mac_key(self) -> bytes:
        """The writers' event MAC key (audit/service.py), derived from the signing key like the
        leaf MAC key but apart from it: whoever holds it can seal pending events, not the log."""
        raw = self._private().private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        return HKDF(hashes.SHA256(), 32, salt=None,
                    info=b"caseshare-audit-event-mac").derive(raw)


def leaf_mac(key: bytes, seq: int, leaf: bytes) -> bytes:
    """Binds a leaf hash to its log position, so edits, moves and insertions are each caught."""
    return hmac.digest(key, seq.to_bytes(8, "big") + leaf, "sha256")


def event_mac(key: bytes, writer: str, writer_no: int, leaf: bytes) -> bytes:
    """An event's MAC at write time: binds its leaf hash (every field, its uuid included) to
    its place in its writer stream, so an edit, or a deletion (a gap in the stream's numbers),
    of an event not yet integrated is caught. Integration then binds the log order (leaf_mac)."""
    return hmac.digest(key, EVENT_MAC_TAG + writer.encode("ascii") + b"\x00"
                       + writer_no.to_bytes(8, "big") + leaf, "sha256")


EVENT_MAC_TAG = b"caseshare-audit-event-v1\x00"
