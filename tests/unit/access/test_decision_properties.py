"""Properties of the access decision over generated partnerships (hypothesis).

The checks below re-derive each layer independently of the engine (a second, naive reading of
the rules), so a passing run means the engine agrees with the rules, not with itself.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st

from caseshare.access.decision import CategoryDecision, Decision, evaluate
from caseshare.facts import ConsentFacts, OverrideFacts, Principal, SubjectFacts
from caseshare.policy.models import Protocol, ProtocolSet, usable_protocols
from tests.unit.access.strategies import (
    CATEGORY_CODES,
    NOW,
    Request,
    moment,
    requests,
    subset,
    withdrawals,
)

EXAMPLES = settings(max_examples=100, deadline=None)


def decide(request: Request, subject: SubjectFacts | None = None,
           protocols: ProtocolSet | None = None) -> Decision:
    return evaluate(request.principal, request.purpose, request.action,
                    sorted(request.categories), subject or request.subject,
                    protocols or request.protocol_set, NOW)


# An independent reading of the rules -------------------------------------------------------

def consent_covers(c: ConsentFacts, org: str, purpose: str, category: str, explicit: bool,
                   now: datetime) -> bool:
    withdrawn = any(
        when <= now and (not r or org in r) and (not p or purpose in p)
        and (not k or category in k)
        for when, r, p, k in c.withdrawals
    )
    return (
        c.valid_from <= now < c.expires_at and not withdrawn and org in c.recipients
        and purpose in c.purposes and category in c.categories and category not in c.excluded
        and (not explicit or (c.explicit and c.verified))
    )


def override_covers(o: OverrideFacts, principal: Principal, purpose: str, category: str,
                    protocol: Protocol, now: datetime) -> bool:
    """The requester's own override, granted under this protocol, whose override rules permit
    its route and the requester's role, within its time box and the protocol's max_hours."""
    rule = protocol.override
    return (o.org == principal.org and o.actor == principal.actor_id and o.purpose == purpose
            and category in o.categories and o.starts_at <= now < o.expires_at
            and now < o.starts_at + timedelta(hours=rule.max_hours)
            and protocol.ref in o.protocols and rule.permitted and o.route in rule.routes
            and bool(rule.roles & principal.roles))


def check_all_three_layers(request: Request, decided: CategoryDecision) -> None:
    """An allowed category must have a protocol basis, a lawful basis and a relationship."""
    org, purpose, category = request.principal.org, request.purpose, decided.category
    protocols = request.protocol_set
    # Relationship.
    assert org in request.subject.case_orgs
    # Protocol: in force, the caller an active party, a grant for one of their roles.
    assert decided.protocol is not None and decided.grant is not None
    protocol = next(p for p in request.protocols if p.ref == decided.protocol)
    assert protocol.status == "active"
    assert protocol.effective_from <= request.today <= protocol.expires_on
    party = protocol.party(org)
    assert party is not None and party.status == "active"
    grant = protocol.grants[decided.grant]
    assert org in grant.parties and grant.roles & request.principal.roles
    assert purpose in grant.purposes and purpose in protocol.purposes
    assert category in (grant.read if request.action == "read" else grant.write)
    flows = {f.id: f for f in protocol.flows}
    if request.action == "write":
        assert decided.sources == {org}
        if decided.flow_id is None:
            # The organisation's own record: its grant writes the category, and no flow of any
            # protocol in force shares it onward for this purpose (else that flow is cited).
            assert decided.reasons == ("own_record",)
            usable, _ = usable_protocols(org, protocols, NOW)
            assert not any(
                p.index.grant_for(org, request.principal.roles, purpose, "write", category)
                is not None and p.index.outbound.get((org, purpose, category))
                for p in usable)
            return
        flow = flows[decided.flow_id]
        assert org in flow.from_orgs
        return
    if decided.flow_id is None:
        # Reading back only its own entries needs the grant alone.
        assert decided.sources == {org}
        return
    # Lawful basis for every flow relied on, and nobody's entries beyond those flows.
    sources = {org}
    for basis in decided.bases:
        ref, flow_id = basis.split("/")
        based = next(p for p in request.protocols if p.ref == ref)
        assert based.in_force(request.today)
        based_party = based.party(org)
        assert based_party is not None and based_party.status == "active"
        flow = {f.id: f for f in based.flows}[flow_id]
        assert org in flow.to_orgs and purpose in flow.purposes and category in flow.categories
        explicit = flow.consent == "explicit" or protocols.is_sensitive(category)
        assert flow.consent == "none" or any(
            consent_covers(c, org, purpose, category, explicit, NOW)
            for c in request.subject.consents
        ) or any(override_covers(o, request.principal, purpose, category, based, NOW)
                 for o in request.subject.overrides)
        sources |= flow.from_orgs
    assert decided.sources == sources
    if decided.consent_id is not None:
        consent = next(c for c in request.subject.consents if c.id == decided.consent_id)
        assert consent_covers(consent, org, purpose, category, True, NOW) or consent_covers(
            consent, org, purpose, category, False, NOW)


def assert_not_wider(before: Decision, after: Decision) -> None:
    """Everything `after` permits, `before` permitted, from at least the same organisations."""
    was = before.permitted
    for category, now in after.permitted.items():
        assert category in was, f"{category} became readable"
        assert now.sources <= was[category].sources, f"{category} gained sources"


# Properties ---------------------------------------------------------------------------------

@EXAMPLES
@given(requests())
def test_no_allow_without_all_three_layers(request: Request) -> None:
    decision = decide(request)
    assert {c.category for c in decision.categories} == request.categories
    for decided in decision.categories:
        if decided.allowed:
            check_all_three_layers(request, decided)
        else:
            assert decided.reasons, "every withheld category says why"


@EXAMPLES
@given(requests())
def test_no_relationship_means_nothing_is_permitted(request: Request) -> None:
    subject = replace(request.subject, case_orgs=request.subject.case_orgs
                      - {request.principal.org})
    decision = decide(request, subject)
    assert not decision.permitted
    assert all(c.reasons == ("no_case_relationship",) for c in decision.categories)


def sub(values: frozenset[str]) -> st.SearchStrategy[frozenset[str]]:
    return st.frozensets(st.sampled_from(sorted(values))) if values else st.just(frozenset())


@st.composite
def narrowed(draw: st.DrawFn, c: ConsentFacts) -> ConsentFacts:
    """The same consent asking for less, in any combination of ways."""
    return replace(
        c,
        recipients=draw(sub(c.recipients)), purposes=draw(sub(c.purposes)),
        categories=draw(sub(c.categories)),
        excluded=c.excluded | draw(subset(CATEGORY_CODES)),
        explicit=c.explicit and draw(st.booleans()), verified=c.verified and draw(st.booleans()),
        valid_from=c.valid_from + timedelta(hours=draw(st.integers(0, 2000))),
        expires_at=c.expires_at - timedelta(hours=draw(st.integers(0, 2000))),
    )


@EXAMPLES
@given(requests(), st.data())
def test_narrowing_a_consent_never_widens_access(request: Request, data: st.DataObject) -> None:
    consents = list(request.subject.consents)
    if not consents:
        return
    i = data.draw(st.integers(0, len(consents) - 1))
    consents[i] = data.draw(narrowed(consents[i]))
    after = replace(request.subject, consents=tuple(consents))
    assert_not_wider(decide(request), decide(request, after))


@EXAMPLES
@given(requests(), st.data())
def test_withdrawing_never_widens_access(request: Request, data: st.DataObject) -> None:
    consents = list(request.subject.consents)
    if not consents:
        return
    i = data.draw(st.integers(0, len(consents) - 1))
    when, *scope = data.draw(withdrawals)
    withdrawal = (min(when, NOW), *scope)
    consents[i] = replace(consents[i], withdrawals=(*consents[i].withdrawals, withdrawal))
    after = replace(request.subject, consents=tuple(consents))
    assert_not_wider(decide(request), decide(request, after))


@EXAMPLES
@given(requests(), st.data())
def test_expiring_never_widens_access(request: Request, data: st.DataObject) -> None:
    consents = list(request.subject.consents)
    if not consents:
        return
    i = data.draw(st.integers(0, len(consents) - 1))
    consents[i] = replace(consents[i],
                          expires_at=min(consents[i].expires_at, data.draw(moment(400, 0))))
    after = replace(request.subject, consents=tuple(consents))
    assert_not_wider(decide(request), decide(request, after))


@EXAMPLES
@given(requests())
def test_removing_a_consent_or_override_never_widens_access(request: Request) -> None:
    before = decide(request)
    for i in range(len(request.subject.consents)):
        rest = request.subject.consents[:i] + request.subject.consents[i + 1:]
        assert_not_wider(before, decide(request, replace(request.subject, consents=rest)))
    for i in range(len(request.subject.overrides)):
        rest_o = request.subject.overrides[:i] + request.subject.overrides[i + 1:]
        assert_not_wider(before, decide(request, replace(request.subject, overrides=rest_o)))


@EXAMPLES
@given(requests())
def test_someone_elses_override_changes_nothing(request: Request) -> None:
    """An override is personal: a colleague's (same organisation, even the same role) or
    another organisation's override makes no difference to the decision, reasons included."""
    p = request.principal
    own = tuple(o for o in request.subject.overrides if o.org == p.org and o.actor == p.actor_id)
    assert decide(request) == decide(request, replace(request.subject, overrides=own))


def suspend(protocol: Protocol, org: str) -> Protocol:
    parties = tuple(replace(p, status="suspended") if p.id == org else p
                    for p in protocol.parties)
    return replace(protocol, parties=parties)


@EXAMPLES
@given(requests(), st.sampled_from(["read", "write"]))
def test_a_party_suspended_everywhere_never_gets_access(request: Request, action: str) -> None:
    org = request.principal.org
    suspended = ProtocolSet.build([suspend(p, org) for p in request.protocols])
    decision = decide(replace(request, action=action), protocols=suspended)
    assert not decision.permitted
    for audit_purpose in ("audit", "subject_access"):
        ig = replace(request.principal, roles=frozenset({"ig_officer"}))
        assert not evaluate(ig, audit_purpose, "read", sorted(request.categories),
                            request.subject, suspended, NOW).permitted


@EXAMPLES
@given(requests(), st.data())
def test_a_suspension_in_one_protocol_is_never_relied_on(request: Request,
                                                         data: st.DataObject) -> None:
    k = data.draw(st.integers(0, len(request.protocols) - 1))
    changed = list(request.protocols)
    changed[k] = suspend(changed[k], request.principal.org)
    decision = decide(request, protocols=ProtocolSet.build(changed))
    ref = changed[k].ref
    for decided in decision.permitted.values():
        assert decided.protocol != ref
        assert not any(b.startswith(f"{ref}/") for b in decided.bases)


@EXAMPLES
@given(requests(), st.randoms(use_true_random=False))
def test_the_decision_is_deterministic(request: Request, rnd: random.Random) -> None:
    first = decide(request)
    assert decide(request) == first
    # A freshly built protocol set (new indexes) gives the very same decision.
    assert decide(request, protocols=ProtocolSet.build(list(request.protocols))) == first
    # Shuffling the consents and overrides may change which record is cited, never what is
    # permitted, from whom, or why something is withheld.
    consents, overrides = list(request.subject.consents), list(request.subject.overrides)
    rnd.shuffle(consents)
    rnd.shuffle(overrides)
    shuffled = decide(request, replace(request.subject, consents=tuple(consents),
                                       overrides=tuple(overrides)))
    assert {(c.category, c.allowed, c.sources, c.reasons) for c in shuffled.categories} == {
        (c.category, c.allowed, c.sources, c.reasons) for c in first.categories}


def _outcomes(request: Request) -> set[str]:
    seen = set()
    for decided in decide(request).categories:
        if not decided.allowed:
            seen.add("deny")
        elif decided.consent_id:
            seen.add("consent")
        elif decided.flow_id is None:
            seen.add("own")
    return seen


@pytest.mark.parametrize("outcome", ["deny", "consent", "own"])
def test_the_generators_reach_every_outcome(outcome: str) -> None:
    """Guards the properties above against vacuity: generated requests do get allowed, through
    consent and through own data, and denied. Each outcome is searched for (`find`) rather than
    counted in a fixed run of examples, because Hypothesis draws constants from the modules
    already imported, so a fixed run's examples depend on which tests ran before it. Found is
    enough: no shrinking."""
    found = find(requests(), lambda request: outcome in _outcomes(request),
                 settings=settings(max_examples=5000, deadline=None, derandomize=True,
                                   database=None, phases=[Phase.generate]))
    assert outcome in _outcomes(found)


