"""The IG officer's view of audit events (pure): visibility by protocol or own staff, and
redaction of categories outside the organisation's reach; and the decision under the reserved
purposes, which opens no claimant data (the subject access export decides on its own)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from caseshare.access.decision import evaluate, subject_access_decision
from caseshare.audit.models import AuditEvent
from caseshare.audit.scope import REDACTED, AuditScope
from caseshare.facts import Principal
from caseshare.policy.models import Flow, ProtocolSet
from tests.unit.access.strategies import NOW
from tests.unit.access.test_decision_examples import SUBJECT, protocol

# org-a and org-b are parties; finances flows from org-b to org-a only. org-c is a party too,
# but no flow reaches or leaves it.
PROTOCOL = protocol("p", Flow("b-to-a", frozenset({"org-b"}), frozenset({"org-a"}),
                              frozenset({"case_management"}), frozenset({"finances"}),
                              "consent", 365))
CODES = ["finances", "substance_misuse", "identity"]


def event(org: str | None, protocol_ref: str | None, categories: list[str],
          details: dict[str, object] | None = None) -> AuditEvent:
    return AuditEvent(id=1, seq=None, event_uuid=uuid.uuid4(),
                      occurred_at=datetime(2026, 11, 23, 9, tzinfo=UTC),
                      type="case_plan:plan:read", actor="x", org=org, role="r",
                      purpose="case_management", subject_id=uuid.uuid4(),
                      categories=categories, decision="allow", reasons=[], consent_id=None,
                      protocol=protocol_ref, override_id=None, request_id="q",
                      details=details or {}, leaf_hash=b"\x01" * 32)


def scope(org: str) -> AuditScope:
    return AuditScope.build(org, [PROTOCOL], codes=CODES)


def test_visible_under_a_protocol_the_org_is_party_to_or_by_its_own_staff() -> None:
    a = scope("org-a")
    assert a.sees(event("org-b", "p@1", []), "p@1")
    assert a.sees(event("org-a", None, []), None)  # own staff, no protocol
    assert a.sees(event("org-a", "other@1", []), "other@1")  # own staff, other protocol
    assert not a.sees(event("org-b", None, []), None)  # sign-in etc. of another org
    assert not a.sees(event("org-b", "other@1", []), "other@1")
    assert not a.sees(event(None, None, []), None)
    assert not AuditScope.build("org-z", [PROTOCOL], codes=CODES).protocols


def test_categories_outside_reach_are_redacted_in_categories_and_details() -> None:
    seen = scope("org-a").view(
        event("org-b", "p@1", ["finances", "substance_misuse"],
              {"withheld": [{"category": "substance_misuse", "reasons": ["no_consent"]}],
               "substance_misuse": 1}), "p@1")
    assert seen.redacted and seen.categories == ["finances", REDACTED]
    assert "substance_misuse" not in repr(seen.details)
    assert seen.details["withheld"] == [{"category": REDACTED, "reasons": ["no_consent"]}]
    assert seen.leaf_hash == b"\x01" * 32  # the logged hash, not one of the redacted fields
    # org-b sends finances under p: its own data's disclosure is within its reach.
    assert scope("org-b").view(event("org-a", "p@1", ["finances"]), "p@1").redacted is False
    # org-c is a party, but no flow reaches it: everything redacted.
    c = scope("org-c").view(event("org-a", "p@1", ["finances", "identity"]), "p@1")
    assert c.redacted and c.categories == [REDACTED]


def test_own_staff_events_are_shown_whole() -> None:
    seen = scope("org-c").view(event("org-c", "other@1", ["substance_misuse"],
                                     {"withheld": ["substance_misuse"]}), "other@1")
    assert not seen.redacted and seen.categories == ["substance_misuse"]
    assert seen.details == {"withheld": ["substance_misuse"]}


IG = Principal(actor_id=str(uuid.UUID(int=3)), actor_type="staff", org="org-a",
               roles=frozenset({"ig_officer"}))


def test_the_reserved_purposes_open_nothing_in_the_decision() -> None:
    protocols = ProtocolSet.build([PROTOCOL])
    for purpose in ("audit", "subject_access"):
        decision = evaluate(IG, purpose, "read", ["finances", "identity"], SUBJECT, protocols,
                            NOW)
        assert not decision.permitted
        assert {r for c in decision.categories for r in c.reasons} == {"purpose_reserved"}


def test_only_the_subject_access_export_opens_data_under_subject_access() -> None:
    protocols = ProtocolSet.build([PROTOCOL])
    sources = frozenset({"org-a", "org-b"})
    sar = subject_access_decision(IG, "subject_access", ["finances"], SUBJECT, protocols, NOW,
                                  sources=sources)
    assert set(sar.permitted) == {"finances"} and sar.permitted["finances"].sources == sources
    assert not subject_access_decision(IG, "audit", ["finances"], SUBJECT, protocols, NOW,
                                       sources=sources).permitted
    coach = Principal(actor_id=str(uuid.UUID(int=1)), actor_type="staff", org="org-a",
                      roles=frozenset({"work_coach"}))
    assert not subject_access_decision(coach, "subject_access", ["finances"], SUBJECT,
                                       protocols, NOW, sources=sources).permitted
