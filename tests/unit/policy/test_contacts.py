"""Organisations' contact details live in policies/contacts.yaml, beside the hash-pinned
protocol files rather than in them (changing a contact must not change a published protocol)."""

from __future__ import annotations

from pathlib import Path

import pytest

from caseshare.errors import PolicyFileError
from caseshare.policy.loader import load_contacts, load_directory, protocol_paths

POLICIES = Path(__file__).resolve().parents[3] / "policies"


def test_the_contacts_file_is_not_a_protocol_and_reaches_every_party() -> None:
    assert "contacts.yaml" not in [p.name for p in protocol_paths(POLICIES)]
    protocols = load_directory(POLICIES)
    parties = {party.id for p in protocols.protocols for party in p.parties}
    assert parties <= set(protocols.contacts), "every demo party has a contact on the receipt"
    contact = protocols.party_contact("derby-housing")
    assert contact is not None and contact.phone


def test_a_contact_with_an_unknown_field_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "contacts.yaml"
    path.write_text("derby-housing: {phone: '01632 960 202', fax: '01632 960 000'}\n")
    with pytest.raises(PolicyFileError) as raised:
        load_contacts(path)
    assert "derby-housing" in str(raised.value.problems)


def test_no_contacts_file_means_no_contacts(tmp_path: Path) -> None:
    assert load_contacts(tmp_path / "contacts.yaml") == {}
