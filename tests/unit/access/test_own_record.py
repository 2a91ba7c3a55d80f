"""An organisation may always record its own work in a category its grant writes, even where no
flow shares that category onward for the purpose: then only it sees the entry (`own_record`).
Deny by default still holds: no category the grant does not write, no subject outside the case,
no other organisation's entries."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta

from caseshare.access.decision import evaluate, subject_access_decision
from caseshare.access.disclosure import may_see
from caseshare.case_plan.models import PlanEntry
from caseshare.facts import ConsentFacts, Principal, SubjectFacts
from caseshare.policy.loader import load_directory
from caseshare.policy.models import ProtocolSet
from tests.conftest import ROOT
from tests.unit.access.test_decision_tables import NOW

SHIPPED = ProtocolSet.build(list(load_directory(ROOT / "policies").protocols))
KEY_WORKER = Principal(actor_id=str(uuid.UUID(int=1)), actor_type="staff",
                       org="recovery-partnership", roles=frozenset({"key_worker"}))
COACH = Principal(actor_id=str(uuid.UUID(int=2)), actor_type="staff", org="jcp-derby",
                  roles=frozenset({"work_coach"}))
EXPLICIT = ConsentFacts(
    id=uuid.UUID(int=9), recipients=frozenset({"jcp-derby", "recovery-partnership"}),
    purposes=frozenset({"case_management", "recovery_support"}),
    categories=frozenset({"identity", "contact", "employment", "substance_misuse"}),
    excluded=frozenset(), explicit=True, verified=True, valid_from=NOW - timedelta(days=1),
    expires_at=NOW + timedelta(days=90))
LEE = SubjectFacts(uuid.UUID(int=7), frozenset({"jcp-derby", "recovery-partnership"}),
                   (EXPLICIT,))


def _write(principal: Principal, purpose: str, category: str,
           subject: SubjectFacts = LEE) -> tuple[bool, tuple[str, ...], frozenset[str]]:
    decided = evaluate(principal, purpose, "write", [category], subject, SHIPPED,
                       NOW).categories[0]
    return decided.allowed, decided.reasons, decided.sources


def test_treatment_is_the_providers_own_record_under_recovery_support() -> None:
    assert _write(KEY_WORKER, "recovery_support", "substance_misuse") == (
        True, ("own_record",), frozenset({"recovery-partnership"}))


def test_a_flow_onward_for_the_purpose_makes_it_an_ordinary_shared_write() -> None:
    assert _write(KEY_WORKER, "case_management", "substance_misuse") == (
        True, (), frozenset({"recovery-partnership"}))
    assert _write(KEY_WORKER, "recovery_support", "employment")[:2] == (False,
                                                                       ("role_not_granted",))


def test_own_record_does_not_need_consent_and_a_withdrawal_still_stops_sharing_onward() -> None:
    withdrawn = replace(EXPLICIT, withdrawals=((NOW - timedelta(hours=1), frozenset(),
                                                frozenset(), frozenset()),))
    gone = replace(LEE, consents=(withdrawn,))
    assert _write(KEY_WORKER, "recovery_support", "substance_misuse", gone)[0]
    read = evaluate(COACH, "case_management", "read", ["substance_misuse"], gone, SHIPPED, NOW)
    assert "recovery-partnership" not in read.categories[0].sources


def test_never_outside_the_case_and_never_a_category_the_grant_does_not_write() -> None:
    elsewhere = replace(LEE, case_orgs=frozenset({"jcp-derby"}))
    assert _write(KEY_WORKER, "recovery_support", "substance_misuse", elsewhere)[:2] == (
        False, ("no_case_relationship",))
    # The work coach's grants read treatment and never write it, for any purpose.
    assert not _write(COACH, "case_management", "substance_misuse")[0]


def _entry(org: str, *, own: bool) -> PlanEntry:
    return PlanEntry(id=uuid.uuid4(), category="substance_misuse", created_org=org,
                     owner_org=org, own_record=own)


def test_an_own_record_opens_only_for_its_organisation() -> None:
    coach = evaluate(COACH, "case_management", "read", ["substance_misuse"], LEE, SHIPPED, NOW)
    worker = evaluate(KEY_WORKER, "recovery_support", "read", ["substance_misuse"], LEE,
                      SHIPPED, NOW)
    # The work coach reads the provider's shared treatment entries, not its own records.
    assert may_see(_entry("recovery-partnership", own=False), coach)
    assert not may_see(_entry("recovery-partnership", own=True), coach)
    assert may_see(_entry("recovery-partnership", own=True), worker)
    # The claimant's subject access export includes it (it is the claimant's data).
    sar = subject_access_decision(
        Principal(actor_id="ig", actor_type="staff", org="jcp-derby",
                  roles=frozenset({"ig_officer"})), "subject_access", ["substance_misuse"], LEE,
        SHIPPED, NOW, sources=frozenset({"jcp-derby", "recovery-partnership"}))
    assert may_see(_entry("recovery-partnership", own=True), sar)
