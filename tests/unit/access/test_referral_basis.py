"""The referral basis is a pure function of the protocols, the subject's facts and the time."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from caseshare.access.referrals import referral_basis
from caseshare.facts import ConsentFacts, SubjectFacts
from caseshare.policy.loader import load_directory
from caseshare.policy.models import ProtocolSet
from tests.conftest import ROOT

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
SUBJECT = uuid.uuid4()


@pytest.fixture(scope="module")
def protocols() -> ProtocolSet:
    return load_directory(ROOT / "policies")


def _consent(**kw: object) -> ConsentFacts:
    values: dict[str, object] = dict(
        id=uuid.uuid4(), recipients=frozenset({"jcp-derby", "recovery-partnership"}),
        purposes=frozenset({"case_management", "recovery_support"}),
        categories=frozenset({"identity", "contact", "employment"}), excluded=frozenset(),
        explicit=False, verified=True, valid_from=NOW - timedelta(days=1),
        expires_at=NOW + timedelta(days=30))
    values.update(kw)
    return ConsentFacts(**values)  # type: ignore[arg-type]


def _facts(*consents: ConsentFacts, erased: bool = False) -> SubjectFacts:
    return SubjectFacts(SUBJECT, frozenset({"jcp-derby"}), tuple(consents), erased=erased)


def test_flow_and_consent_make_a_basis_naming_protocol_flow_and_consent(
    protocols: ProtocolSet
) -> None:
    consent = _consent()
    basis = referral_basis(protocols, NOW, _facts(consent), from_org="jcp-derby",
                           to_org="recovery-partnership", purpose="recovery_support")
    assert basis.holds
    assert (basis.protocol, basis.flow_id) == ("recovery-jcp@1", "shared-journey")
    assert basis.decision.consent_ids == [consent.id]
    assert set(basis.decision.permitted) == {"identity", "contact", "employment"}


@pytest.mark.parametrize(("consent", "from_org", "to_org", "purpose", "reasons"), [
    (_consent(), "recovery-partnership", "jcp-derby", "case_management",
     ["no_case_relationship"]),
    (_consent(), "jcp-derby", "derby-housing", "recovery_support", ["direction_not_permitted"]),
    (_consent(), "jcp-derby", "ca-derby", "recovery_support", ["direction_not_permitted"]),
    (_consent(recipients=frozenset({"jcp-derby"})), "jcp-derby", "recovery-partnership",
     "recovery_support", ["recipient_not_in_consent"]),
    (_consent(purposes=frozenset({"case_management"})), "jcp-derby", "recovery-partnership",
     "recovery_support", ["purpose_not_consented"]),
    (_consent(expires_at=NOW), "jcp-derby", "recovery-partnership", "recovery_support",
     ["consent_expired"]),
    (_consent(withdrawals=((NOW, frozenset({"recovery-partnership"}), frozenset(),
                            frozenset()),)),
     "jcp-derby", "recovery-partnership", "recovery_support", ["consent_withdrawn"]),
])
def test_no_basis_says_why(protocols: ProtocolSet, consent: ConsentFacts, from_org: str,
                           to_org: str, purpose: str, reasons: list[str]) -> None:
    basis = referral_basis(protocols, NOW, _facts(consent), from_org=from_org, to_org=to_org,
                           purpose=purpose)
    assert not basis.holds
    assert basis.reasons == reasons
    assert basis.decision.permitted == {}


def test_no_consent_at_all_and_erased_subjects_have_no_basis(protocols: ProtocolSet) -> None:
    args = {"from_org": "jcp-derby", "to_org": "recovery-partnership",
            "purpose": "recovery_support"}
    assert referral_basis(protocols, NOW, _facts(), **args).reasons == ["no_consent"]
    erased = referral_basis(protocols, NOW, _facts(_consent(), erased=True), **args)
    assert erased.reasons == ["subject_erased"]


def test_after_the_protocol_expires_there_is_no_basis(protocols: ProtocolSet) -> None:
    later = datetime(2027, 7, 1, tzinfo=UTC)  # recovery-jcp expires on 2027-06-30
    consent = _consent(expires_at=later + timedelta(days=1))
    basis = referral_basis(protocols, later, _facts(consent), from_org="jcp-derby",
                           to_org="recovery-partnership", purpose="recovery_support")
    assert not basis.holds
    assert basis.reasons == ["direction_not_permitted"]
