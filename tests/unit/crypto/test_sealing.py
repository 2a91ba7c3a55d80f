from __future__ import annotations

import uuid

import pytest

from caseshare.crypto.sealing import (
    FieldRef,
    SealError,
    blind_index,
    new_data_key,
    open_sealed,
    seal,
)

SUBJECT = uuid.uuid4()
TITLE = FieldRef(SUBJECT, "plan_entry", "e1", "title", "substance_misuse")


def test_round_trip_and_key_id_prefix() -> None:
    key = new_data_key()
    sealed = seal(key, 3, TITLE, "Attend weekly recovery group")
    assert sealed.startswith(b"cs1:dk3:")
    assert b"recovery" not in sealed
    assert open_sealed(key, TITLE, sealed) == "Attend weekly recovery group"


@pytest.mark.parametrize("other", [
    FieldRef(SUBJECT, "plan_entry", "e1", "detail", "substance_misuse"),   # another field
    FieldRef(SUBJECT, "plan_entry", "e2", "title", "substance_misuse"),    # another record
    FieldRef(uuid.uuid4(), "plan_entry", "e1", "title", "substance_misuse"),  # another subject
    FieldRef(SUBJECT, "plan_entry", "e1", "title", "employment"),          # another category
])
def test_a_value_moved_anywhere_else_fails_to_open(other: FieldRef) -> None:
    key = new_data_key()
    sealed = seal(key, 1, TITLE, "secret")
    with pytest.raises(SealError):
        open_sealed(key, other, sealed)


def test_wrong_key_or_relabelled_version_fails() -> None:
    key = new_data_key()
    sealed = seal(key, 1, TITLE, "secret")
    with pytest.raises(SealError):
        open_sealed(new_data_key(), TITLE, sealed)
    with pytest.raises(SealError):
        open_sealed(key, TITLE, sealed.replace(b"cs1:dk1:", b"cs1:dk2:", 1))


def test_blind_index_normalises_and_depends_on_key() -> None:
    key = b"k" * 32
    assert blind_index(key, "qq 12 34 56 c") == blind_index(key, "QQ123456C")
    assert blind_index(key, "QQ123456C") != blind_index(b"j" * 32, "QQ123456C")
    assert "QQ123456C" not in blind_index(key, "QQ123456C")
