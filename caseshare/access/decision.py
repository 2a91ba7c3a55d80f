"""The access decision: a pure function of its inputs. No I/O, no clock, no globals.

Three layers must all hold for a category to be disclosed (ARCHITECTURE.md):
1. protocol: an in-force protocol where the caller's organisation is an active party, with a
   grant for their role, this purpose and this category, and a flow towards their organisation;
2. lawful basis: an active consent naming their organisation, the purpose and the category
   (explicit and verified for special or criminal categories), or an active override;
3. relationship: their organisation is involved in this subject's case.
An organisation may always read back what it wrote itself, for a purpose it holds, and may
always record its own work in a category its grant writes, even where no flow shares that
category onward for the purpose: the write is allowed with `own_record` (only its own
organisation will see it; `sources` is the caller's organisation alone).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property

from caseshare.facts import ConsentFacts, OverrideFacts, Principal, SubjectFacts
from caseshare.policy.models import (
    EVALUATION,
    RESERVED_PURPOSES,
    Flow,
    Protocol,
    ProtocolSet,
    usable_protocols,
)
from caseshare.reasons import Reason


@dataclass(frozen=True)
class CategoryDecision:
    category: str
    allowed: bool
    reasons: tuple[str, ...] = ()
    protocol: str | None = None
    flow_id: str | None = None
    consent_id: uuid.UUID | None = None
    override_id: uuid.UUID | None = None
    # Organisations whose entries in this category may be disclosed (own data always included).
    sources: frozenset[str] = frozenset()
    grant: int | None = None  # index of the grant relied on, within `protocol`
    # Every `protocol@version/flow` that lawfully brings this category (sources is their union).
    bases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Decision:
    purpose: str
    action: str
    categories: tuple[CategoryDecision, ...] = field(default_factory=tuple)
    # The caller's organisation, for a decision on a caller's access (None for the subject
    # access export): entries recorded as an organisation's own record open only for it.
    org: str | None = None

    @cached_property  # asked once per entry disclosed; the decision never changes
    def permitted(self) -> dict[str, CategoryDecision]:
        return {c.category: c for c in self.categories if c.allowed}

    @property
    def withheld(self) -> dict[str, CategoryDecision]:
        return {c.category: c for c in self.categories if not c.allowed}

    @property
    def allowed(self) -> bool:
        return bool(self.categories) and all(c.allowed for c in self.categories)

    @property
    def reasons(self) -> list[str]:
        return sorted({r for c in self.categories for r in c.reasons})

    @property
    def protocols(self) -> list[str]:
        return sorted({c.protocol for c in self.categories if c.protocol})

    @property
    def consent_ids(self) -> list[uuid.UUID]:
        return sorted({c.consent_id for c in self.categories if c.consent_id}, key=str)

    @property
    def override_ids(self) -> list[uuid.UUID]:
        return sorted({c.override_id for c in self.categories if c.override_id}, key=str)


# How far an attempt got: the reasons of the attempt that got furthest are the ones reported,
# since they name the next step ("ask the claimant to extend consent") rather than the first.
_DEPTH: dict[str, int] = {
    Reason.NOT_PARTY_TO_PROTOCOL: 0,
    Reason.PARTY_SUSPENDED: 1,
    Reason.PROTOCOL_EXPIRED: 1,
    Reason.PROTOCOL_SUSPENDED: 1,
    Reason.PROTOCOL_NOT_ASSURED: 1,
    Reason.PURPOSE_NOT_IN_PROTOCOL: 2,
    Reason.CATEGORY_NOT_IN_PROTOCOL: 3,
    Reason.ROLE_NOT_GRANTED: 4,
    Reason.CATEGORY_NOT_IN_FLOW: 5,
    Reason.DIRECTION_NOT_PERMITTED: 5,
    Reason.NO_CONSENT: 6,
}


def _depth(reason: str) -> int:
    # Reason is a StrEnum: a plain code string finds its member's entry too.
    return _DEPTH.get(reason, 7)


def _best(reasons: Iterable[str]) -> tuple[str, ...]:
    unique = set(reasons)
    if not unique:
        return (Reason.NOT_PARTY_TO_PROTOCOL.value,)
    if len(unique) == 1:
        return tuple(unique)
    top = max(_depth(r) for r in unique)
    return tuple(sorted(r for r in unique if _depth(r) == top))


def purpose_reason(principal: Principal, purpose: str, protocols: ProtocolSet, now: datetime) -> (
    str | None
):
    """Why `principal` may not act for `purpose` at all, or None if some grant lets them."""
    if purpose == EVALUATION and not any(
            EVALUATION in p.purposes for p in usable_protocols(principal.org, protocols, now)[0]):
        # The telling reason first: no protocol of theirs declares evaluation (MI).
        return Reason.EVALUATION_NOT_DECLARED
    if principal.purposes is not None and purpose not in principal.purposes:
        return Reason.PURPOSE_NOT_IN_TOKEN
    if purpose in RESERVED_PURPOSES:
        return None if "ig_officer" in principal.roles else Reason.PURPOSE_RESERVED
    usable, reasons = usable_protocols(principal.org, protocols, now)
    if not usable:
        return _best(reasons or [Reason.NOT_PARTY_TO_PROTOCOL])[0]
    if any(p.index.holds_purpose(principal.org, principal.roles, purpose) for p in usable):
        return None
    return Reason.ROLE_NOT_GRANTED


def _consent_reasons(
    consent: ConsentFacts, org: str, purpose: str, category: str, sensitive: bool, now: datetime
) -> list[str]:
    reason = (_not_in_force(consent, org, purpose, category, now)
              or _not_covered(consent, org, purpose, category, sensitive))
    return [reason] if reason else []


def _not_in_force(consent: ConsentFacts, org: str, purpose: str, category: str,
                  now: datetime) -> Reason | None:
    """Why the consent does not apply at `now` to this use: not yet valid, expired, or
    withdrawn for it."""
    if now < consent.valid_from:
        return Reason.CONSENT_NOT_YET_VALID
    if now >= consent.expires_at:
        return Reason.CONSENT_EXPIRED
    for when, recipients, purposes, categories in consent.withdrawals:
        # A withdrawal's scope narrows on each dimension it names; an empty scope is everything.
        if when <= now and (
            (not recipients or org in recipients)
            and (not purposes or purpose in purposes)
            and (not categories or category in categories)
        ):
            return Reason.CONSENT_WITHDRAWN
    return None


def _not_covered(consent: ConsentFacts, org: str, purpose: str, category: str,
                 sensitive: bool) -> Reason | None:
    """Why the consent's scope does not cover this use: recipient, purpose, category, and for
    special or criminal categories explicit and verified consent."""
    if org not in consent.recipients:
        return Reason.RECIPIENT_NOT_IN_CONSENT
    if purpose not in consent.purposes:
        return Reason.PURPOSE_NOT_CONSENTED
    if category in consent.excluded:
        return Reason.CATEGORY_EXCLUDED_BY_CONSENT
    if category not in consent.categories:
        return Reason.CATEGORY_NOT_CONSENTED
    if sensitive and not consent.explicit:
        return Reason.EXPLICIT_CONSENT_REQUIRED
    if sensitive and not consent.verified:
        return Reason.CONSENT_UNVERIFIED
    return None


# Among consent failures, the one that best explains the state to a front-line user.
_CONSENT_ORDER = [
    Reason.CONSENT_WITHDRAWN,
    Reason.CONSENT_EXPIRED,
    Reason.CONSENT_UNVERIFIED,
    Reason.EXPLICIT_CONSENT_REQUIRED,
    Reason.CATEGORY_EXCLUDED_BY_CONSENT,
    Reason.CATEGORY_NOT_CONSENTED,
    Reason.PURPOSE_NOT_CONSENTED,
    Reason.RECIPIENT_NOT_IN_CONSENT,
    Reason.CONSENT_NOT_YET_VALID,
]

_CONSENT_RANK: dict[str, int] = {r.value: i for i, r in enumerate(_CONSENT_ORDER)}


def _find_consent(
    subject: SubjectFacts, org: str, purpose: str, category: str, explicit_needed: bool,
    now: datetime,
) -> tuple[ConsentFacts | None, str | None]:
    """The consent that covers this access, or the reason none does."""
    failures: list[str] = []
    for consent in subject.consents:
        reasons = _consent_reasons(consent, org, purpose, category, explicit_needed, now)
        if not reasons:
            return consent, None
        failures.extend(reasons)
    if not failures:
        return None, Reason.NO_CONSENT
    return None, min(failures, key=_CONSENT_RANK.__getitem__)


def _override_for(
    subject: SubjectFacts, principal: Principal, purpose: str, category: str,
    protocol: Protocol, now: datetime,
) -> tuple[OverrideFacts | None, str | None]:
    """The caller's own override that lets this protocol's flow stand in for consent.

    Someone else's override (a colleague's, even with the same role) is never considered, and
    an override reaches a flow only of a protocol it was granted under whose override rules
    permit its route and the caller's role, within the protocol's `max_hours`."""
    reason = None
    rule = protocol.override
    for override in subject.overrides:
        if override.org != principal.org or override.actor != principal.actor_id:
            continue
        if not (override.starts_at <= now < override.expires_at):
            reason = reason or Reason.OVERRIDE_EXPIRED
            continue
        if (override.purpose != purpose or category not in override.categories
                or protocol.ref not in override.protocols or not rule.permitted
                or override.route not in rule.routes or not rule.roles & principal.roles):
            reason = Reason.OVERRIDE_OUT_OF_SCOPE
            continue
        if now >= override.starts_at + timedelta(hours=rule.max_hours):
            reason = reason or Reason.OVERRIDE_EXPIRED  # longer than this protocol allows
            continue
        return override, None
    return None, reason


@dataclass
class _Lawful:
    """The lawful flows found so far for one category: the first is cited, all are unioned."""

    protocol: str | None = None
    flow_id: str | None = None
    grant: int | None = None
    consent_id: uuid.UUID | None = None
    override_id: uuid.UUID | None = None
    sources: set[str] = field(default_factory=set)
    bases: list[str] = field(default_factory=list)

    def add(self, protocol: str, flow: Flow, grant: int, consent_id: uuid.UUID | None = None,
            override_id: uuid.UUID | None = None) -> None:
        if self.protocol is None:
            self.protocol, self.flow_id, self.grant = protocol, flow.id, grant
            self.consent_id, self.override_id = consent_id, override_id
        elif self.override_id is None and override_id is not None:
            # Entries opened only by an override are disclosed under it: the audit event must
            # name it even when the first basis cited is a consent.
            self.override_id = override_id
        self.sources |= flow.from_orgs
        self.bases.append(f"{protocol}/{flow.id}")

    def decision(self, category: str, org: str) -> CategoryDecision:
        return CategoryDecision(category, True, (), self.protocol, self.flow_id, self.consent_id,
                                self.override_id, frozenset(self.sources | {org}), self.grant,
                                tuple(self.bases))


@dataclass(frozen=True)
class _Route:
    """What the protocol layer alone says about one category for one kind of caller: the same
    for every subject, so it is computed once and kept in the protocol set's route cache."""

    reasons: tuple[str, ...]  # why protocols that do not carry it fail
    own: tuple[str, int] | None = None  # (protocol, grant) to read back the caller's own data
    inbound: tuple[tuple[str, int, Flow], ...] = ()  # (protocol, grant, flow) to read through
    # The whole answer when no flow needs a look at consents (writes, denials, own data only).
    final: CategoryDecision | None = None


def _route(org: str, roles: frozenset[str], purpose: str, action: str, category: str,
           usable: list[Protocol]) -> _Route:
    reasons: list[str] = []
    own: tuple[str, int] | None = None  # the first (protocol, grant) giving this category
    inbound: list[tuple[str, int, Flow]] = []
    for protocol in usable:
        index = protocol.index
        if purpose not in protocol.purposes:
            reasons.append(Reason.PURPOSE_NOT_IN_PROTOCOL)
            continue
        if category not in index.categories:
            reasons.append(Reason.CATEGORY_NOT_IN_PROTOCOL)
            continue
        grant = index.grant_for(org, roles, purpose, action, category)
        if grant is None:
            reasons.append(Reason.ROLE_NOT_GRANTED)
            continue
        if action == "write":
            # A write only ever records the caller's own data: the first basis is enough.
            outbound = index.outbound.get((org, purpose, category))
            if outbound:
                return _Route((), final=CategoryDecision(
                    category, True, (), protocol.ref, outbound[0].id, sources=frozenset({org}),
                    grant=grant, bases=(f"{protocol.ref}/{outbound[0].id}",)))
            own = own or (protocol.ref, grant)
            reasons.append(Reason.DIRECTION_NOT_PERMITTED)
            continue
        own = own or (protocol.ref, grant)
        flows = index.inbound.get((org, purpose, category))
        if not flows:
            reasons.append(Reason.CATEGORY_NOT_IN_FLOW)
            continue
        inbound.extend((protocol.ref, grant, flow) for flow in flows)
    final = None
    if action == "write" and own:
        # The organisation's own record, shared with no one (see the module docstring).
        final = CategoryDecision(category, True, (Reason.OWN_RECORD.value,), own[0],
                                 sources=frozenset({org}), grant=own[1])
    elif not inbound:
        final = (CategoryDecision(category, True, _best(reasons), own[0],
                                  sources=frozenset({org}), grant=own[1]) if own
                 else CategoryDecision(category, False, _best(reasons)))
    return _Route(tuple(reasons), own=own, inbound=tuple(inbound), final=final)


_ROUTE_CACHE_LIMIT = 50_000


def _cached_route(principal: Principal, purpose: str, action: str, category: str,
                  usable: list[Protocol], in_force: tuple[str, ...],
                  protocols: ProtocolSet) -> _Route:
    key = (principal.org, principal.roles, purpose, action, category, in_force)
    route = protocols.routes.get(key)
    if route is None:
        route = _route(principal.org, principal.roles, purpose, action, category, usable)
        if len(protocols.routes) >= _ROUTE_CACHE_LIMIT:
            protocols.routes.clear()
        protocols.routes[key] = route
    assert isinstance(route, _Route)
    return route


def _decide_category(
    principal: Principal,
    purpose: str,
    action: str,
    category: str,
    subject: SubjectFacts,
    usable: list[Protocol],
    in_force: tuple[str, ...],
    protocols: ProtocolSet,
    now: datetime,
) -> CategoryDecision:
    org = principal.org
    route = _cached_route(principal, purpose, action, category, usable, in_force, protocols)
    if route.final is not None:
        return route.final
    reasons = list(route.reasons)
    lawful = _Lawful()
    sensitive = protocols.is_sensitive(category)
    consents: dict[bool, tuple[ConsentFacts | None, str | None]] = {}
    # Every lawful flow counts, not just the first: which partners' entries may be shown must
    # not depend on the order protocols were loaded in or on which consent is found first
    # (otherwise narrowing a consent could change, even widen, what is shown).
    for ref, grant, flow in route.inbound:
        if flow.consent == "none":
            lawful.add(ref, flow, grant)
            continue
        explicit = flow.consent == "explicit" or sensitive
        if explicit not in consents:
            consents[explicit] = _find_consent(subject, org, purpose, category, explicit, now)
        consent, why = consents[explicit]
        if consent is not None:
            lawful.add(ref, flow, grant, consent_id=consent.id)
            continue
        protocol = next(p for p in usable if p.ref == ref)
        override, override_why = _override_for(subject, principal, purpose, category,
                                               protocol, now)
        if override is not None:
            lawful.add(ref, flow, grant, override_id=override.id)
            continue
        assert why is not None
        reasons.append(why)
        if override_why:
            reasons.append(override_why)
    if lawful.protocol is not None:
        return lawful.decision(category, org)
    if route.own is not None:
        # Only the organisation's own entries: other partners' entries stay withheld.
        return CategoryDecision(category, True, _best(reasons), route.own[0],
                                sources=frozenset({org}), grant=route.own[1])
    return CategoryDecision(category, False, _best(reasons))


def evaluate(
    principal: Principal,
    purpose: str,
    action: str,
    categories: Iterable[str],
    subject: SubjectFacts,
    protocols: ProtocolSet,
    now: datetime,
) -> Decision:
    """Decide, category by category, what `principal` may do with this subject's data."""
    wanted = sorted(set(categories))
    if subject.erased:
        return _deny_all(purpose, action, wanted, Reason.SUBJECT_ERASED)
    if principal.purposes is not None and purpose not in principal.purposes:
        return _deny_all(purpose, action, wanted, Reason.PURPOSE_NOT_IN_TOKEN)
    if purpose in RESERVED_PURPOSES:
        # `audit` and `subject_access` give audit metadata, not claimant data: nothing opens
        # under them here, for anyone. The subject access export decides for itself
        # (subject_access_decision), after its own relationship check.
        return _deny_all(purpose, action, wanted, Reason.PURPOSE_RESERVED)
    if principal.org not in subject.case_orgs:
        return _deny_all(purpose, action, wanted, Reason.NO_CASE_RELATIONSHIP)
    usable, why = usable_protocols(principal.org, protocols, now)
    if not usable:
        return _deny_all(purpose, action, wanted, _best(why or [Reason.NOT_PARTY_TO_PROTOCOL])[0])
    in_force = tuple(p.ref for p in usable)
    return Decision(purpose, action, tuple(
        # Retention: once the pass deleted this organisation's copy of a category, the category
        # is erased for it (whatever consent or flow would otherwise allow); other organisations
        # whose copies remain are unaffected.
        CategoryDecision(c, False, (Reason.RETENTION_DELETED.value,))
        if (principal.org, c) in subject.deleted
        else _decide_category(principal, purpose, action, c, subject, usable, in_force,
                              protocols, now)
        for c in wanted
    ), principal.org)


def audience(principal: Principal, category: str, subject: SubjectFacts,
             protocols: ProtocolSet, now: datetime) -> frozenset[str]:
    """The other organisations that may read, now, an entry `principal`'s organisation writes
    in `category`: case members a flow from it reaches, under a grant to read the category for
    the flow's purpose, with the consent the flow needs. For "who will see this" before saving;
    the read decision at the time of reading still decides."""
    org = principal.org
    usable, _why = usable_protocols(org, protocols, now)
    sensitive = protocols.is_sensitive(category)
    readers: set[str] = set()
    for protocol in usable:
        for flow in protocol.flows:
            if org not in flow.from_orgs or category not in flow.categories:
                continue
            for reader in sorted((flow.to_orgs & subject.case_orgs) - {org} - readers):
                if _flow_reaches(protocol, flow, reader, category, subject, sensitive, now):
                    readers.add(reader)
    return frozenset(readers)


def _flow_reaches(protocol: Protocol, flow: Flow, reader: str, category: str,
                  subject: SubjectFacts, sensitive: bool, now: datetime) -> bool:
    party = protocol.party(reader)
    if party is None or party.status != "active":
        return False
    explicit = flow.consent == "explicit" or sensitive
    for purpose in sorted(flow.purposes):
        if not any(reader in g.parties and purpose in g.purposes and category in g.read
                   for g in protocol.grants):
            continue
        if flow.consent == "none" or _find_consent(subject, reader, purpose, category, explicit,
                                                   now)[0] is not None:
            return True
    return False


def subject_access_decision(
    principal: Principal,
    purpose: str,
    categories: Iterable[str],
    subject: SubjectFacts,
    protocols: ProtocolSet,
    now: datetime,
    *,
    sources: frozenset[str],
) -> Decision:
    """The subject access export's reading (UK GDPR Art 15): every category of `sources`' records
    (the parties to the protocols in force for the IG officer's organisation), for an IG officer
    under `subject_access` only. The caller has already checked that the officer's organisation
    has a relationship with the claimant; no other use case may call this."""
    wanted = sorted(set(categories))
    if subject.erased:
        return _deny_all(purpose, "read", wanted, Reason.SUBJECT_ERASED)
    if principal.purposes is not None and purpose not in principal.purposes:
        return _deny_all(purpose, "read", wanted, Reason.PURPOSE_NOT_IN_TOKEN)
    if purpose != "subject_access" or "ig_officer" not in principal.roles:
        return _deny_all(purpose, "read", wanted, Reason.PURPOSE_RESERVED)
    usable, why = usable_protocols(principal.org, protocols, now)
    if not usable:
        return _deny_all(purpose, "read", wanted, _best(why or [Reason.NOT_PARTY_TO_PROTOCOL])[0])
    return Decision(purpose, "read", tuple(
        CategoryDecision(c, True, (), usable[0].ref, sources=sources) for c in wanted
    ))


def _deny_all(purpose: str, action: str, categories: list[str], reason: str) -> Decision:
    return Decision(
        purpose, action, tuple(CategoryDecision(c, False, (str(reason),)) for c in categories)
    )
