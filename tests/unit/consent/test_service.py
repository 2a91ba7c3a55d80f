"""Pure parts of the consent service: status, full vs partial withdrawal, which consents the
access decision may rely on, and that only positively chosen options are consented."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from caseshare.access.decision import evaluate
from caseshare.consent import service
from caseshare.consent.models import Consent, ConsentWithdrawal
from caseshare.facts import Principal, SubjectFacts
from caseshare.policy.loader import load_directory

ROOT = Path(__file__).resolve().parents[3]
NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def consent(**changes: Any) -> Consent:
    values: dict[str, Any] = dict(
        id=uuid.uuid4(), subject_id=uuid.uuid4(), decision="granted", supersedes_id=None,
        given_by_type="self", recipients=["jcp-derby", "derby-housing"],
        purposes=["case_management", "tenancy_sustainment"],
        categories=["identity", "housing_tenancy"], excluded_categories=[],
        explicit_statement=None, verified=True, valid_from=NOW, expires_at=NOW + timedelta(days=90),
    )
    values.update(changes)
    return Consent(**values)


def withdrawal(**scope: list[str]) -> ConsentWithdrawal:
    return ConsentWithdrawal(withdrawn_at=NOW, channel="phone", scope=scope)


@pytest.mark.parametrize(("scopes", "full"), [
    ([], False),
    ([{}], True),
    ([{"recipients": ["derby-housing"]}], False),
    ([{"recipients": ["derby-housing"]}, {"recipients": ["jcp-derby"]}], True),
    ([{"categories": ["identity", "housing_tenancy"]}], True),
    ([{"recipients": ["jcp-derby", "derby-housing"], "categories": ["identity"]}], False),
])
def test_fully_withdrawn_means_nothing_is_left(scopes: list[dict[str, list[str]]],
                                               full: bool) -> None:
    assert service.is_fully_withdrawn(consent(), [withdrawal(**s) for s in scopes]) is full


def test_status_of_each_state() -> None:
    c = consent()
    assert service.status_of(c, [], NOW, superseded=False) == "active"
    assert service.status_of(c, [], NOW, superseded=True) == "superseded"
    assert service.status_of(c, [withdrawal(recipients=["jcp-derby"])], NOW,
                             False) == "partially_withdrawn"
    assert service.status_of(c, [withdrawal()], NOW, False) == "withdrawn"
    assert service.status_of(c, [], NOW + timedelta(days=90), False) == "expired"
    assert service.status_of(consent(verified=False), [], NOW, False) == "unverified"
    assert service.status_of(consent(decision="refused"), [], NOW, False) == "refused"


def test_refusals_and_superseded_versions_are_not_a_basis_for_access() -> None:
    old, refusal = consent(), consent(decision="refused")
    new = consent(supersedes_id=old.id)
    facts = service.decision_facts([(old, []), (refusal, []), (new, [])])
    assert [f.id for f in facts] == [new.id]


COACH = Principal(actor_id=str(uuid.uuid4()), actor_type="staff", org="jcp-derby",
                  roles=frozenset({"work_coach"}))
HOUSING = Principal(actor_id=str(uuid.uuid4()), actor_type="staff", org="derby-housing",
                    roles=frozenset({"housing_officer"}))


def _decide(principal: Principal, purpose: str, c: Consent,
            ws: list[ConsentWithdrawal] | None = None) -> list[str]:
    protocols = load_directory(ROOT / "policies")
    facts = SubjectFacts(subject_id=c.subject_id, case_orgs=frozenset({"jcp-derby",
                                                                       "derby-housing"}),
                         consents=tuple(service.decision_facts([(c, ws or [])])))
    d = evaluate(principal, purpose, "read", ["housing_tenancy"], facts, protocols, NOW)
    # Reasons are empty only when the consent opens other partners' entries (an organisation
    # may always read back its own, so `allowed` alone would not tell).
    return list(d.categories[0].reasons)


def test_only_positively_chosen_recipients_and_purposes_are_consented() -> None:
    chosen = consent(recipients=["jcp-derby"], purposes=["case_management"])
    assert _decide(COACH, "case_management", chosen) == []
    assert _decide(HOUSING, "tenancy_sustainment", chosen) == ["recipient_not_in_consent"]
    housing_only = consent(recipients=["derby-housing"], purposes=["case_management"])
    assert _decide(HOUSING, "tenancy_sustainment", housing_only) == ["purpose_not_consented"]


def test_a_partial_withdrawal_removes_exactly_its_scope_in_the_decision() -> None:
    c = consent()
    gone = [withdrawal(recipients=["derby-housing"])]
    assert _decide(HOUSING, "tenancy_sustainment", c, gone) == ["consent_withdrawn"]
    assert _decide(COACH, "case_management", c, gone) == []


def test_a_refusal_alone_grants_nothing() -> None:
    assert _decide(COACH, "case_management", consent(decision="refused")) == ["no_consent"]
