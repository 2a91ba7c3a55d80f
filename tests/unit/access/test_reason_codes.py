"""The reason codes are a closed set, and every one is documented for the people who read them."""

from __future__ import annotations

import re

from caseshare.reasons import Reason
from tests.conftest import ROOT


def documented_codes() -> list[str]:
    text = (ROOT / "docs/reason-codes.md").read_text()
    return re.findall(r"^\| `([a-z_]+)` \|", text, flags=re.MULTILINE)


def test_every_reason_code_is_documented_once_and_nothing_else_is() -> None:
    codes = documented_codes()
    assert len(codes) == len(set(codes))
    assert set(codes) == {r.value for r in Reason}


def test_each_documented_code_says_its_layer_meaning_and_next_step() -> None:
    text = (ROOT / "docs/reason-codes.md").read_text()
    for reason in Reason:
        [row] = [line for line in text.splitlines() if line.startswith(f"| `{reason.value}` |")]
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert len(cells) == 4, row
        assert all(cells), row


def test_the_issue_minimum_set_is_present() -> None:
    minimum = {
        "not_party_to_protocol", "party_suspended", "protocol_expired", "protocol_not_assured",
        "role_not_granted", "purpose_not_in_protocol", "category_not_in_flow",
        "direction_not_permitted", "no_case_relationship", "no_consent", "consent_expired",
        "consent_withdrawn", "purpose_not_consented", "recipient_not_in_consent",
        "category_excluded_by_consent", "explicit_consent_required", "consent_unverified",
        "override_expired", "override_out_of_scope",
    }
    assert minimum <= {r.value for r in Reason}
