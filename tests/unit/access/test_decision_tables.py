"""Decision tables: for each shipped protocol on its own, every role of every party x purpose x
category x action x consent state, against the expected matrix checked in beside this file.

The matrices were generated once from the engine and then reviewed line by line against the
protocol text (see the hand-written rows in test_reviewed_rows, which pin the cases an IG officer
would ask about first). A change to a protocol or to the engine that moves any cell fails here.
To regenerate after a deliberate change: CASESHARE_WRITE_DECISION_TABLES=1 pytest this file,
then review the diff of the .csv files like any other change to the rules.
"""

from __future__ import annotations

import csv
import io
import os
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from caseshare.access.decision import evaluate
from caseshare.facts import ConsentFacts, OverrideFacts, Principal, SubjectFacts
from caseshare.policy.loader import load_directory
from caseshare.policy.models import Protocol, ProtocolSet
from tests.conftest import ROOT

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
TABLES = Path(__file__).with_name("decision_tables")
SHIPPED = {p.id: p for p in load_directory(ROOT / "policies").protocols}
COLUMNS = ["org", "role", "purpose", "action", "category", "consent", "allowed", "sources",
           "reasons"]
# "override": no consent, but an active break-glass override for this organisation and purpose
# covering every category (as recorded after the protocol's override rules allowed it).
CONSENT_STATES = ["none", "consent", "explicit", "withdrawn", "expired", "override"]


def consent_for(state: str, protocol: Protocol) -> tuple[ConsentFacts, ...]:
    """A consent naming every party, purpose and category of the protocol, in `state`."""
    if state in ("none", "override"):
        return ()
    consent = ConsentFacts(
        id=uuid.UUID(int=1), recipients=frozenset(p.id for p in protocol.parties),
        purposes=protocol.purposes, categories=frozenset(c.code for c in protocol.categories),
        excluded=frozenset(), explicit=state != "consent", verified=True,
        valid_from=NOW - timedelta(days=30), expires_at=NOW + timedelta(days=150))
    if state == "withdrawn":
        consent = replace(consent, withdrawals=((NOW - timedelta(days=1), frozenset(),
                                                 frozenset(), frozenset()),))
    if state == "expired":
        consent = replace(consent, valid_from=NOW - timedelta(days=400),
                          expires_at=NOW - timedelta(days=35))
    return (consent,)


def override_for(state: str, protocol: Protocol, principal: Principal,
                 purpose: str) -> tuple[OverrideFacts, ...]:
    """The caller's own override as the protocol's rules grant it: under this protocol, on its
    first lawful route (none where the protocol permits no break-glass: nothing opens)."""
    if state != "override":
        return ()
    return (OverrideFacts(id=uuid.UUID(int=4), org=principal.org, actor=principal.actor_id,
                          purpose=purpose,
                          categories=frozenset(c.code for c in protocol.categories),
                          route=min(protocol.override.routes, default="safeguarding"),
                          protocols=frozenset({protocol.ref}),
                          starts_at=NOW - timedelta(hours=1), expires_at=NOW + timedelta(hours=3)),)


def rows_for(protocol: Protocol) -> list[dict[str, str]]:
    protocols = ProtocolSet.build([protocol])
    parties = sorted(p.id for p in protocol.parties)
    roles = sorted({r for g in protocol.grants for r in g.roles})
    rows = []
    for org in parties:
        for role in roles:
            principal = Principal(actor_id=str(uuid.UUID(int=2)), actor_type="staff", org=org,
                                  roles=frozenset({role}))
            for purpose in sorted(protocol.purposes):
                for action in ("read", "write"):
                    for state in CONSENT_STATES:
                        subject = SubjectFacts(uuid.UUID(int=3), frozenset(parties),
                                               consent_for(state, protocol),
                                               override_for(state, protocol, principal, purpose))
                        decision = evaluate(principal, purpose, action,
                                            [c.code for c in protocol.categories], subject,
                                            protocols, NOW)
                        for decided in decision.categories:
                            rows.append({
                                "org": org, "role": role, "purpose": purpose,
                                "action": action, "category": decided.category,
                                "consent": state, "allowed": "yes" if decided.allowed else "no",
                                "sources": " ".join(sorted(decided.sources)),
                                "reasons": " ".join(decided.reasons),
                            })
    return rows


def render(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


@pytest.mark.parametrize("protocol_id", sorted(SHIPPED))
def test_decision_table(protocol_id: str) -> None:
    path = TABLES / f"{protocol_id}.csv"
    actual = render(rows_for(SHIPPED[protocol_id]))
    if os.environ.get("CASESHARE_WRITE_DECISION_TABLES"):
        path.write_text(actual)
    expected = path.read_text()
    if actual != expected:
        got = {tuple(r.values()) for r in csv.DictReader(io.StringIO(actual))}
        want = {tuple(r.values()) for r in csv.DictReader(io.StringIO(expected))}
        pytest.fail(f"{path.name}: cells differ.\n  only expected: {sorted(want - got)[:10]}"
                    f"\n  only now: {sorted(got - want)[:10]}")


def test_every_shipped_protocol_has_a_table_and_nothing_else_does() -> None:
    assert {p.stem for p in TABLES.glob("*.csv")} == set(SHIPPED)


# Rows written by hand from the protocol text, before looking at the generated tables: the
# questions an IG officer asks first. (org, role, purpose, action, category, consent) ->
# (allowed, sources, reasons)
REVIEWED = {
    "recovery-jcp": [
        # Treatment details reach the work coach only with explicit consent (flow f1, Art 9).
        (("jcp-derby", "work_coach", "case_management", "read", "substance_misuse", "consent"),
         ("yes", "jcp-derby", "explicit_consent_required")),
        (("jcp-derby", "work_coach", "case_management", "read", "substance_misuse", "explicit"),
         ("yes", "jcp-derby recovery-partnership", "")),
        (("jcp-derby", "work_coach", "case_management", "read", "substance_misuse", "withdrawn"),
         ("yes", "jcp-derby", "consent_withdrawn")),
        # This protocol permits no break-glass: an override opens nothing flowing under it
        # (issue 18), so only the work coach's own entries.
        (("jcp-derby", "work_coach", "case_management", "read", "substance_misuse", "override"),
         ("yes", "jcp-derby", "override_out_of_scope")),
        (("recovery-partnership", "key_worker", "case_management", "read", "benefit_claim",
          "override"), ("no", "", "role_not_granted")),
        # The work coach has no grant for the treatment provider's purpose.
        (("jcp-derby", "work_coach", "recovery_support", "read", "employment", "explicit"),
         ("no", "", "role_not_granted")),
        # UC claim details (DWP-origin) never flow to the treatment provider.
        (("recovery-partnership", "key_worker", "case_management", "read", "benefit_claim",
          "explicit"), ("no", "", "role_not_granted")),
    ],
    "derby-local-support": [
        # Employment flows one way, JCP to housing, for tenancy sustainment only.
        (("derby-housing", "housing_officer", "tenancy_sustainment", "read", "employment",
          "consent"), ("yes", "derby-housing jcp-derby", "")),
        (("derby-housing", "housing_officer", "tenancy_sustainment", "read", "employment",
          "expired"), ("yes", "derby-housing", "consent_expired")),
        (("ca-derby", "adviser", "budgeting_support", "read", "finances", "consent"),
         ("yes", "ca-derby derby-housing jcp-derby", "")),
        # The adviser may not write tenancy records.
        (("ca-derby", "adviser", "budgeting_support", "write", "housing_tenancy", "consent"),
         ("no", "", "role_not_granted")),
    ],
    "carmarthenshire-support": [
        # Treatment details go to JCP and the council only with explicit consent...
        (("carmarthenshire-housing", "housing_officer", "case_management", "read",
          "substance_misuse", "explicit"), ("yes", "carmarthenshire-housing tywi-recovery", "")),
        (("carmarthenshire-housing", "housing_officer", "case_management", "read",
          "substance_misuse", "consent"),
         ("yes", "carmarthenshire-housing", "explicit_consent_required")),
        # ...and not for tenancy sustainment at all.
        (("carmarthenshire-housing", "housing_officer", "tenancy_sustainment", "read",
          "substance_misuse", "explicit"),
         ("yes", "carmarthenshire-housing", "category_not_in_flow")),
        # UC claim details reach the council for tenancy sustainment (APA), with consent.
        (("carmarthenshire-housing", "housing_officer", "tenancy_sustainment", "read",
          "benefit_claim", "consent"), ("yes", "carmarthenshire-housing jcp-south-west-wales",
                                        "")),
        (("carmarthenshire-housing", "housing_officer", "tenancy_sustainment", "read",
          "benefit_claim", "none"), ("yes", "carmarthenshire-housing", "no_consent")),
        # The treatment provider never sees tenancy or claim details.
        (("tywi-recovery", "key_worker", "case_management", "read", "housing_tenancy",
          "explicit"), ("no", "", "role_not_granted")),
        # The key worker records treatment under recovery support too, as the provider's own
        # record (no flow takes it anywhere for that purpose, so only the provider sees it).
        (("tywi-recovery", "key_worker", "recovery_support", "write", "substance_misuse",
          "explicit"), ("yes", "tywi-recovery", "own_record")),
        (("tywi-recovery", "key_worker", "recovery_support", "write", "substance_misuse",
          "withdrawn"), ("yes", "tywi-recovery", "own_record")),
        # A role from another organisation gets nothing here.
        (("tywi-recovery", "work_coach", "case_management", "read", "identity", "explicit"),
         ("no", "", "role_not_granted")),
    ],
}


@pytest.mark.parametrize("protocol_id", sorted(REVIEWED))
def test_reviewed_rows(protocol_id: str) -> None:
    table = {tuple(r[c] for c in COLUMNS[:6]): (r["allowed"], r["sources"], r["reasons"])
             for r in rows_for(SHIPPED[protocol_id])}
    for key, expected in REVIEWED[protocol_id]:
        assert table[key] == expected, key
