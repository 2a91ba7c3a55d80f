"""C2SP signed notes and tlog-checkpoints, against the published vectors of the reference
implementation (golang.org/x/mod/sumdb/note, note_test.go: TestSign and TestOpen)."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from caseshare.audit import proofs
from caseshare.audit.signed_note import sign_note, verify_note

# From golang.org/x/mod sumdb/note/note_test.go (not generated here).
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = ("If you think cryptography is the answer to your problem,\n"
        "then you don't know what your problem is.\n")
PETER_SIG = ("\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgK"
             "vqfqdngotpRZb6KE6RyyBwJnAM=\n")
ENOCH_SIG = ("\u2014 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG0"
             "1oOTGwnWLox33WWd1RvMc+QQ=\n")


def _key(encoded: str) -> tuple[str, bytes, bytes]:
    """(name, key id, key) of a key in the Go library's `name+hexid+base64(0x01||key)` form."""
    name, key_id, data = encoded.removeprefix("PRIVATE+KEY+").split("+", 2)
    raw = base64.b64decode(data)
    assert raw[0] == proofs.NOTE_ED25519
    return name, bytes.fromhex(key_id), raw[1:]


def test_key_ids_match_the_reference() -> None:
    for vkey in (PETER_VKEY, ENOCH_VKEY):
        name, key_id, public = _key(vkey)
        assert proofs.note_key_id(name, public) == key_id
        assert proofs.verifier_key(name, public) == vkey


def test_signing_reproduces_the_reference_signature() -> None:
    name, _, seed = _key(PETER_SKEY)
    private = Ed25519PrivateKey.from_private_bytes(seed)
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    assert public == _key(PETER_VKEY)[2]
    assert sign_note(TEXT, name, private) == TEXT + "\n" + PETER_SIG


def test_verifying_the_reference_notes() -> None:
    peter, enoch = _key(PETER_VKEY), _key(ENOCH_VKEY)
    both = TEXT + "\n" + PETER_SIG + ENOCH_SIG
    assert verify_note(both, peter[0], peter[2]) == TEXT  # Enoch's is ignored
    assert verify_note(both, enoch[0], enoch[2]) == TEXT
    with pytest.raises(ValueError, match="no signature by"):
        verify_note(TEXT + "\n" + ENOCH_SIG, peter[0], peter[2])
    forged = TEXT.replace("answer", "question") + "\n" + PETER_SIG
    with pytest.raises(ValueError, match="does not verify"):
        verify_note(forged, peter[0], peter[2])
    # The reference's malformed notes (TestOpen's badMsgs).
    for bad in (TEXT, TEXT + "\n", TEXT + "\n" + PETER_SIG[:-1], "\x01" + TEXT + "\n" + PETER_SIG,
                TEXT + "\n" + PETER_SIG + "Unexpected line.\n"):
        with pytest.raises(ValueError):
            verify_note(bad, peter[0], peter[2])


def test_a_checkpoint_note_round_trips() -> None:
    private = Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    origin, root = "caseshare.example/audit/derby", bytes(range(32))
    note = sign_note(proofs.checkpoint_note_text(origin, 20852163, root), origin, private)
    assert note.startswith(f"{origin}\n20852163\n{base64.b64encode(root).decode()}\n\n\u2014 ")
    parsed = proofs.parse_checkpoint_note(note)
    assert (parsed.origin, parsed.tree_size, parsed.root_hash) == (origin, 20852163, root)
    assert parsed.extensions == () and parsed.signatures[0].name == origin
    assert verify_note(note, origin, public) == parsed.text


def test_the_spec_example_checkpoint_parses() -> None:
    # c2sp.org/tlog-checkpoint's example (its key is not published: parsed, not verified).
    note = ("example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
            "\n\u2014 example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4"
            "URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n")
    parsed = proofs.parse_checkpoint_note(note)
    assert parsed.origin == "example.com/behind-the-sofa" and parsed.tree_size == 20852163
    assert len(parsed.signatures) == 1 and len(parsed.signatures[0].signature) == 64
    for bad in (note.replace("20852163", "020852163"), note.replace("\n20852163", "\nmany"),
                note.replace("CsUY", "!sUY")):
        with pytest.raises(ValueError):
            proofs.parse_checkpoint_note(bad)
