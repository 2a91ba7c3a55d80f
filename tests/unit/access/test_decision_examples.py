"""Worked examples of the decision that the generated properties reach only rarely."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta

from caseshare.access.decision import evaluate
from caseshare.facts import ConsentFacts, Principal, SubjectFacts
from caseshare.policy.models import Flow, Grant, OverrideRule, Party, Protocol, ProtocolSet
from tests.unit.access.strategies import CATEGORIES, NOW

COACH = Principal(actor_id=str(uuid.UUID(int=1)), actor_type="staff", org="org-a",
                  roles=frozenset({"work_coach"}))


def protocol(ident: str, flow: Flow) -> Protocol:
    return Protocol(
        id=ident, version=1, title=ident, type="ISP", framework="local", status="active",
        effective_from=NOW.date() - timedelta(days=30), review_date=NOW.date(),
        expires_on=NOW.date() + timedelta(days=300),
        parties=tuple(Party(o, o, "local_gov", True) for o in ("org-a", "org-b", "org-c")),
        purposes=frozenset({"case_management"}), categories=(CATEGORIES["finances"],),
        flows=(flow,),
        grants=(Grant(0, frozenset({"work_coach"}), frozenset({"org-a"}),
                      frozenset({"case_management"}), frozenset({"finances"}), frozenset()),),
        override=OverrideRule(permitted=False), source_file=f"{ident}.yaml",
        content_hash="0" * 64,
    )


CONSENTED = protocol("consented", Flow("from-b", frozenset({"org-b"}), frozenset({"org-a"}),
                                       frozenset({"case_management"}),
                                       frozenset({"finances"}), "consent", 365))
STATUTORY = protocol("statutory", Flow("from-c", frozenset({"org-c"}), frozenset({"org-a"}),
                                       frozenset({"case_management"}),
                                       frozenset({"finances"}), "none", None))
CONSENT = ConsentFacts(
    id=uuid.UUID(int=9), recipients=frozenset({"org-a"}), purposes=frozenset({"case_management"}),
    categories=frozenset({"finances"}), excluded=frozenset(), explicit=False, verified=True,
    valid_from=NOW - timedelta(days=1), expires_at=NOW + timedelta(days=90))
SUBJECT = SubjectFacts(uuid.UUID(int=7), frozenset({"org-a", "org-b", "org-c"}), (CONSENT,))


def finances(subject: SubjectFacts, protocols: list[Protocol]) -> tuple[bool, frozenset[str]]:
    decided = evaluate(COACH, "case_management", "read", ["finances"], subject,
                       ProtocolSet.build(protocols), NOW).categories[0]
    return decided.allowed, decided.sources


def test_entries_from_every_lawful_flow_are_permitted_whatever_the_protocol_order() -> None:
    for order in ([CONSENTED, STATUTORY], [STATUTORY, CONSENTED]):
        assert finances(SUBJECT, order) == (True, frozenset({"org-a", "org-b", "org-c"}))


def test_excluding_a_category_from_the_consent_only_removes_the_consented_source() -> None:
    # With first-match citation this widened: the consented flow went, the statutory one was
    # found next and (alone) was never compared with what the consent had allowed.
    narrowed = replace(SUBJECT, consents=(replace(CONSENT, excluded=frozenset({"finances"})),))
    _, before = finances(SUBJECT, [CONSENTED, STATUTORY])
    allowed, after = finances(narrowed, [CONSENTED, STATUTORY])
    assert allowed and after == {"org-a", "org-c"}
    assert after <= before


def test_the_decision_cites_the_first_basis_and_lists_every_one() -> None:
    decided = evaluate(COACH, "case_management", "read", ["finances"], SUBJECT,
                       ProtocolSet.build([CONSENTED, STATUTORY]), NOW).categories[0]
    assert (decided.protocol, decided.flow_id, decided.consent_id, decided.grant) == (
        "consented@1", "from-b", CONSENT.id, 0)
    assert decided.bases == ("consented@1/from-b", "statutory@1/from-c")


def test_a_suspended_recipient_keeps_nothing_but_its_own_data_is_not_read_either() -> None:
    suspended = [replace(p, parties=tuple(replace(x, status="suspended") if x.id == "org-a"
                                          else x for x in p.parties))
                 for p in (CONSENTED, STATUTORY)]
    decision = evaluate(COACH, "case_management", "read", ["finances"], SUBJECT,
                        ProtocolSet.build(suspended), NOW)
    assert not decision.permitted
    assert decision.reasons == ["party_suspended"]


def test_an_override_that_opens_a_further_flow_is_cited_even_after_a_consent() -> None:
    """Issue 18: the audit event of an access under an override carries the override id, even
    when the first flow cited stood on consent and only a later one on the override."""
    from caseshare.facts import OverrideFacts

    explicit = replace(
        protocol("explicit", Flow("from-c", frozenset({"org-c"}), frozenset({"org-a"}),
                                  frozenset({"case_management"}), frozenset({"finances"}),
                                  "explicit", 365)),
        override=OverrideRule(permitted=True, routes=frozenset({"safeguarding"}),
                              roles=frozenset({"work_coach"}), max_hours=24))
    override = OverrideFacts(
        id=uuid.UUID(int=11), org="org-a", actor=COACH.actor_id, purpose="case_management",
        categories=frozenset({"finances"}), route="safeguarding",
        protocols=frozenset({"explicit@1"}), starts_at=NOW - timedelta(hours=1),
        expires_at=NOW + timedelta(hours=3))
    subject = replace(SUBJECT, overrides=(override,))
    decided = evaluate(COACH, "case_management", "read", ["finances"], subject,
                       ProtocolSet.build([CONSENTED, explicit]), NOW).categories[0]
    assert decided.sources == {"org-a", "org-b", "org-c"}
    assert (decided.consent_id, decided.override_id) == (CONSENT.id, override.id)
    # Granted under another protocol only: it opens nothing here.
    elsewhere = replace(subject, overrides=(replace(override, protocols=frozenset({"x@1"})),))
    decided = evaluate(COACH, "case_management", "read", ["finances"], elsewhere,
                       ProtocolSet.build([CONSENTED, explicit]), NOW).categories[0]
    assert decided.sources == {"org-a", "org-b"} and decided.override_id is None
