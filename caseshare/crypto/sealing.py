"""Field sealing: AES-256-GCM under a per-subject data key, bound to where the value lives.

The associated data binds subject, record, field, category and data-key version, so a sealed
value copied to another field, record or subject fails to open. Every ciphertext starts with the
key id (`dk<version>`) so a reader knows which data key it needs without trial decryption.
"""

from __future__ import annotations

import hmac
import secrets
import unicodedata
import uuid
from dataclasses import dataclass
from hashlib import sha256

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from caseshare.errors import CaseshareError

FORMAT = b"cs1"


class SealError(CaseshareError):
    status, slug, title = 500, "seal-error", "A sealed value could not be opened"


@dataclass(frozen=True)
class FieldRef:
    subject_id: uuid.UUID
    record: str
    record_id: str
    field: str
    category: str

    def aad(self, dek_version: int) -> bytes:
        parts = (
            str(self.subject_id), self.record, self.record_id, self.field, self.category,
            f"dk{dek_version}",
        )
        return "|".join(parts).encode()


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def seal(data_key: bytes, dek_version: int, ref: FieldRef, plaintext: str) -> bytes:
    nonce = secrets.token_bytes(12)
    body = AESGCM(data_key).encrypt(nonce, plaintext.encode(), ref.aad(dek_version))
    return FORMAT + b":dk" + str(dek_version).encode() + b":" + nonce + body




def open_sealed(data_key: bytes | AESGCM, ref: FieldRef, sealed: bytes) -> str:
    """Open one sealed value. `data_key` may be given as its AESGCM object, made once when many
    fields are opened under the same key (a plan read opens twenty)."""
    try:
        prefix, key_id, payload = sealed.split(b":", 2)
        if prefix != FORMAT or not key_id.startswith(b"dk"):
            raise ValueError
        version = int(key_id[2:])
    except ValueError as exc:
        raise SealError("Sealed value has an unknown format.") from exc
    aead = data_key if isinstance(data_key, AESGCM) else AESGCM(data_key)
    try:
        return aead.decrypt(payload[:12], payload[12:], ref.aad(version)).decode()
    except InvalidTag as exc:
        raise SealError("Sealed value failed authentication.") from exc


def normalise_nino(nino: str) -> str:
    return "".join(unicodedata.normalize("NFKC", nino).upper().split())


def normalise_name(name: str) -> str:
    """Names as typed at a front desk: case, spacing and curly apostrophes do not matter."""
    return " ".join(name.replace("\u2019", "'").casefold().split())


def name_index(key: bytes, family_name: str, date_of_birth: str) -> str:
    """Keyed HMAC of the normalised family name and ISO date of birth (domain-separated from
    the NINO index), so name-and-date-of-birth search is an equality lookup too."""
    value = f"{normalise_name(family_name)}|{date_of_birth}"
    return hmac.new(key, b"name-dob|" + value.encode(), sha256).hexdigest()


def blind_index(key: bytes, nino: str) -> str:
    """Keyed HMAC of the normalised NINO: equality lookups without storing the identifier."""
    return hmac.new(key, b"nino|" + normalise_nino(nino).encode(), sha256).hexdigest()
