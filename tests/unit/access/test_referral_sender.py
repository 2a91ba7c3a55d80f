"""The caller's own grants for a referral (issue 18 e): a pure function of the protocols."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from caseshare.access.referrals import sender_reason
from caseshare.facts import Principal
from caseshare.policy.loader import load_directory
from caseshare.policy.models import ProtocolSet
from tests.conftest import ROOT

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def protocols() -> ProtocolSet:
    return load_directory(ROOT / "policies")


def _caller(org: str, *roles: str) -> Principal:
    return Principal(actor_id="someone", actor_type="staff", org=org, roles=frozenset(roles))


@pytest.mark.parametrize("declared,to_org,purpose", [
    ("case_management", "recovery-partnership", "recovery_support"),  # the warm handover
    ("case_management", "derby-housing", "tenancy_sustainment"),
    ("case_management", "derby-housing", "recovery_support"),  # no flow: referral_basis says so
])
def test_a_work_coach_refers_under_the_purpose_their_grants_give(
    protocols: ProtocolSet, declared: str, to_org: str, purpose: str
) -> None:
    coach = _caller("jcp-derby", "work_coach")
    assert sender_reason(coach, declared, protocols, NOW, to_org=to_org, purpose=purpose) is None


@pytest.mark.parametrize("declared", ["audit", "subject_access"])
def test_no_referral_under_a_reserved_purpose(protocols: ProtocolSet, declared: str) -> None:
    dual = _caller("derby-housing", "housing_officer", "ig_officer")
    assert sender_reason(dual, declared, protocols, NOW, to_org="jcp-derby",
                         purpose="case_management") == "purpose_reserved"


def test_a_role_without_a_grant_in_the_carrying_protocol_is_refused(
    protocols: ProtocolSet
) -> None:
    # An adviser's role is granted nothing at Jobcentre Plus, which carries the flow.
    stranger = _caller("jcp-derby", "adviser")
    assert sender_reason(stranger, "case_management", protocols, NOW,
                         to_org="recovery-partnership",
                         purpose="recovery_support") == "role_not_granted"
