"""Protocol versions as immutable values, and the compiled set the decision engine reads.

Each protocol compiles, once at load time, into dictionaries keyed the way the decision asks its
questions ("which grant lets this role of this organisation read this category for this
purpose?", "which flows bring this category to this organisation?"), so a decision is a handful
of dictionary lookups however many protocols, organisations and grants are loaded.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, datetime

from caseshare.reasons import Reason

ACTIVE_STATUSES = frozenset({"active"})
BUILTIN_ROLES = frozenset({"ig_officer", "admin"})
# Purposes reserved to the IG officer role; no protocol needs to declare them.
RESERVED_PURPOSES = frozenset({"audit", "subject_access"})
# Management information (disclosure-controlled counts): declared by a protocol with its own
# lawful basis, granted to a role that reads no category; never relies on a service consent.
EVALUATION = "evaluation"


@dataclass(frozen=True)
class Contact:
    """How a claimant reaches a party (to ask a question or withdraw consent); printed on the
    papers they keep."""

    phone: str | None = None
    email: str | None = None
    address: str | None = None
    address_cy: str | None = None


@dataclass(frozen=True)
class Party:
    id: str
    name: str
    sector: str
    public_authority: bool
    status: str = "active"
    name_cy: str | None = None  # Welsh name, for papers handed to claimants in Welsh
    contact: Contact | None = None


@dataclass(frozen=True)
class Category:
    code: str
    description: str
    special: bool = False
    criminal: bool = False
    dwp_origin: bool = False
    description_cy: str | None = None  # Welsh, where the protocol gives it (WASPI ones do)


@dataclass(frozen=True)
class Purpose:
    """A purpose's description as the protocol words it, in English and (where given) Welsh."""

    code: str
    description: str
    description_cy: str | None = None


# What `ProtocolSet.display_name` names: an organisation, a purpose or a category.
NAME_KINDS = ("organisation", "purpose", "category")


def in_language(english: str, welsh: str | None, language: str) -> str:
    """Welsh where asked for and given; English otherwise (a protocol without Welsh names
    still reads, in English, on a Welsh page)."""
    return welsh if language == "cy" and welsh else english


@dataclass(frozen=True)
class Flow:
    id: str
    from_orgs: frozenset[str]
    to_orgs: frozenset[str]
    purposes: frozenset[str]
    categories: frozenset[str]
    consent: str  # none | consent | explicit
    max_consent_days: int | None
    onward_sharing: bool = False
    # Days a recipient keeps what came through this flow after the lawful basis ends (the
    # case closes, or consent ends with no other basis); None: retention.schedule's default.
    retention_days: int | None = None
    # Each party's UK GDPR Article 6 basis for this flow, as (party id, basis) pairs.
    art6_basis: tuple[tuple[str, str], ...] = ()
    art9_condition: str | None = None


@dataclass(frozen=True)
class Grant:
    index: int
    roles: frozenset[str]
    parties: frozenset[str]
    purposes: frozenset[str]
    read: frozenset[str]
    write: frozenset[str]


@dataclass(frozen=True)
class OverrideRule:
    permitted: bool
    routes: frozenset[str] = frozenset()
    roles: frozenset[str] = frozenset()
    max_hours: int = 0
    min_justification: int = 100
    notify: frozenset[str] = frozenset()
    review_within_hours: int | None = None


GrantKey = tuple[str, str, str, str, str]  # (org, role, purpose, action, category)
FlowKey = tuple[str, str, str]  # (org, purpose, category)


@dataclass(frozen=True)
class ProtocolIndex:
    """One protocol's rules as dictionaries: what the decision looks up on every request."""

    parties: dict[str, Party]
    categories: dict[str, Category]
    # The first grant (lowest index) for each (org, role, purpose, action, category).
    grants: dict[GrantKey, int]
    # Every (org, role, purpose) that holds some grant: may this role act for this purpose here?
    role_purposes: frozenset[tuple[str, str, str]]
    # Flows bringing a category to an organisation (read) / taking it from one (write).
    inbound: dict[FlowKey, tuple[Flow, ...]]
    outbound: dict[FlowKey, tuple[Flow, ...]]

    @classmethod
    def compile(
        cls,
        parties: tuple[Party, ...],
        categories: tuple[Category, ...],
        flows: tuple[Flow, ...],
        grants: tuple[Grant, ...],
    ) -> ProtocolIndex:
        grant_index, role_purposes = _index_grants(grants)
        inbound, outbound = _index_flows(flows)
        return cls(
            parties={p.id: p for p in parties},
            categories={c.code: c for c in categories},
            grants=grant_index,
            role_purposes=role_purposes,
            inbound=inbound,
            outbound=outbound,
        )

    def grant_for(
        self, org: str, roles: frozenset[str], purpose: str, action: str, category: str
    ) -> int | None:
        """The lowest-numbered grant that lets one of `roles` do this, or None."""
        best: int | None = None
        for role in roles:
            index = self.grants.get((org, role, purpose, action, category))
            if index is not None and (best is None or index < best):
                best = index
        return best

    def holds_purpose(self, org: str, roles: frozenset[str], purpose: str) -> bool:
        return any((org, role, purpose) in self.role_purposes for role in roles)


def _index_grants(
    grants: tuple[Grant, ...],
) -> tuple[dict[GrantKey, int], frozenset[tuple[str, str, str]]]:
    """The lowest-numbered grant per (org, role, purpose, action, category), and every
    (org, role, purpose) that holds some grant."""
    grant_index: dict[GrantKey, int] = {}
    role_purposes: set[tuple[str, str, str]] = set()
    for grant in grants:
        for org, role, purpose in itertools.product(grant.parties, grant.roles, grant.purposes):
            role_purposes.add((org, role, purpose))
            for action, codes in (("read", grant.read), ("write", grant.write)):
                for code in codes:
                    grant_index.setdefault((org, role, purpose, action, code), grant.index)
    return grant_index, frozenset(role_purposes)


def _index_flows(
    flows: tuple[Flow, ...],
) -> tuple[dict[FlowKey, tuple[Flow, ...]], dict[FlowKey, tuple[Flow, ...]]]:
    """The flows bringing each (org, purpose, category) in, and those taking it out."""
    inbound: dict[FlowKey, list[Flow]] = {}
    outbound: dict[FlowKey, list[Flow]] = {}
    for flow in flows:
        for purpose, code in itertools.product(flow.purposes, flow.categories):
            for org in flow.to_orgs:
                inbound.setdefault((org, purpose, code), []).append(flow)
            for org in flow.from_orgs:
                outbound.setdefault((org, purpose, code), []).append(flow)
    return ({k: tuple(v) for k, v in inbound.items()},
            {k: tuple(v) for k, v in outbound.items()})


DEFAULT_CONSENT_COOLING_DAYS = 30


@dataclass(frozen=True)
class Protocol:
    id: str
    version: int
    title: str
    type: str
    framework: str
    status: str
    effective_from: date
    review_date: date
    expires_on: date
    parties: tuple[Party, ...]
    purposes: frozenset[str]
    categories: tuple[Category, ...]
    flows: tuple[Flow, ...]
    grants: tuple[Grant, ...]
    override: OverrideRule
    source_file: str
    content_hash: str
    title_cy: str | None = None
    qa_reference: str | None = None
    # After the claimant withdraws consent from a recipient, a new consent naming it within this
    # many days needs a signed method (wet or e-signature); see docs/protocols.md.
    consent_cooling_days: int = 30
    # Working days within which a referral under this protocol is accepted or declined (its
    # response standard); None: the deployment's default (CASESHARE_REFERRAL_RESPONSE_DAYS).
    referral_response_days: int | None = None
    # The statutory function each purpose serves, where the protocol names one, as
    # (purpose code, function) pairs.
    statutory_functions: tuple[tuple[str, str], ...] = ()
    # A purpose's own lawful basis where the protocol names one (required for `evaluation`),
    # as (purpose code, basis) pairs.
    lawful_bases: tuple[tuple[str, str], ...] = ()
    # Each purpose's description (English and Welsh) as the protocol words it.
    purpose_names: tuple[Purpose, ...] = ()
    index: ProtocolIndex = field(init=False, repr=False, compare=False)
    ref: str = field(init=False, repr=False, compare=False)  # "id@version", as audit records it

    def __post_init__(self) -> None:
        # Frozen: the compiled index is set once here and never changes.
        object.__setattr__(self, "index", ProtocolIndex.compile(
            self.parties, self.categories, self.flows, self.grants))
        object.__setattr__(self, "ref", f"{self.id}@{self.version}")

    def party(self, org: str) -> Party | None:
        return self.index.parties.get(org)

    def category(self, code: str) -> Category | None:
        return self.index.categories.get(code)

    def in_force(self, today: date) -> bool:
        return (
            self.status in ACTIVE_STATUSES
            and self.effective_from <= today <= self.expires_on
        )


@dataclass(frozen=True)
class ProtocolSet:
    """Every loaded protocol version, with indexes built once at load time."""

    protocols: tuple[Protocol, ...]
    by_party: dict[str, tuple[Protocol, ...]] = field(default_factory=dict)
    purposes: frozenset[str] = frozenset()
    categories: dict[str, Category] = field(default_factory=dict)
    # Purpose code -> its description, from the first protocol that declares it (Welsh from the
    # first that gives Welsh).
    purpose_names: dict[str, Purpose] = field(default_factory=dict)
    # Organisation id -> contact details from the contacts file beside the protocols.
    contacts: dict[str, Contact] = field(default_factory=dict)
    # The referral response standard (working days) where a protocol sets none: the
    # CASESHARE_REFERRAL_RESPONSE_DAYS setting, set when the app starts.
    referral_response_days: int = 2
    # Memo of the protocol layer's answer per (org, roles, purpose, action, category, protocols
    # in force), filled by the decision engine: it depends on these rules only, never on a
    # subject, so every request after the first of its kind is a dictionary lookup.
    routes: dict[tuple[object, ...], object] = field(default_factory=dict, compare=False,
                                                     repr=False)

    def response_days(self, ref: str) -> int:
        """The response standard, in working days, of referrals made under protocol `ref`
        ("id@version"): the protocol's own, else the deployment's default."""
        for protocol in self.protocols:
            if protocol.ref == ref and protocol.referral_response_days is not None:
                return protocol.referral_response_days
        return self.referral_response_days

    def party_name(self, org: str, language: str = "en") -> str | None:
        """The organisation's name as its protocols give it, in Welsh where asked for and the
        protocol has one; None for an organisation no loaded protocol names."""
        for protocol in self.for_party(org):
            party = protocol.party(org)
            if party is not None:
                return in_language(party.name, party.name_cy, language)
        return None

    def display_name(self, kind: str, code: str, language: str = "en") -> str | None:
        """The name of an organisation, purpose or category (`kind`: one of NAME_KINDS) as
        the protocols give it, in `language` ("cy": Welsh where a protocol gives Welsh,
        English otherwise); None for a code no loaded protocol declares."""
        if kind == "organisation":
            return self.party_name(code, language)
        if kind == "purpose":
            purpose = self.purpose_names.get(code)
            return (in_language(purpose.description, purpose.description_cy, language)
                    if purpose else None)
        if kind == "category":
            category = self.categories.get(code)
            return (in_language(category.description, category.description_cy, language)
                    if category else None)
        raise ValueError(f"unknown kind of name {kind!r} (one of {NAME_KINDS})")

    def party_contact(self, org: str) -> Contact | None:
        """The organisation's contact details: from the contacts file, else from the first of its
        protocols that gives them."""
        if org in self.contacts:
            return self.contacts[org]
        for protocol in self.for_party(org):
            party = protocol.party(org)
            if party is not None and party.contact is not None:
                return party.contact
        return None

    @classmethod
    def build(cls, protocols: list[Protocol]) -> ProtocolSet:
        by_party: dict[str, list[Protocol]] = {}
        categories: dict[str, Category] = {}
        purposes: set[str] = set()
        purpose_names: dict[str, Purpose] = {}
        for protocol in protocols:
            purposes |= protocol.purposes
            for party in protocol.parties:
                by_party.setdefault(party.id, []).append(protocol)
            for category in protocol.categories:
                known = categories.get(category.code)
                categories[category.code] = category if known is None else _merged(known,
                                                                                   category)
            for purpose in protocol.purpose_names:
                seen = purpose_names.get(purpose.code)
                if seen is None or (seen.description_cy is None and purpose.description_cy):
                    purpose_names[purpose.code] = Purpose(
                        purpose.code, seen.description if seen else purpose.description,
                        purpose.description_cy)
        return cls(
            protocols=tuple(protocols),
            by_party={k: tuple(v) for k, v in by_party.items()},
            purposes=frozenset(purposes),
            categories=categories,
            purpose_names=purpose_names,
        )

    def for_party(self, org: str) -> tuple[Protocol, ...]:
        return self.by_party.get(org, ())

    def is_known_purpose(self, purpose: str) -> bool:
        return purpose in self.purposes or purpose in RESERVED_PURPOSES

    def consent_cooling_days(self, org: str) -> int:
        """The longest consent cooling period of any protocol `org` is party to (default 30)."""
        return max((p.consent_cooling_days for p in self.for_party(org)),
                   default=DEFAULT_CONSENT_COOLING_DAYS)

    def is_sensitive(self, category: str) -> bool:
        known = self.categories.get(category)
        return bool(known and (known.special or known.criminal))

    def get(self, protocol_id: str, version: int) -> Protocol | None:
        return next(
            (p for p in self.protocols if p.id == protocol_id and p.version == version), None
        )


def _merged(known: Category, other: Category) -> Category:
    """One category as several protocols declare it: special (criminal, DWP-origin) if any
    says so; the first description, and the first Welsh one given."""
    return Category(
        known.code, known.description, known.special or other.special,
        known.criminal or other.criminal, known.dwp_origin or other.dwp_origin,
        known.description_cy or other.description_cy,
    )


def usable_protocols(
    org: str, protocols: ProtocolSet, now: datetime
) -> tuple[list[Protocol], list[str]]:
    """Protocols in force where `org` is an active party, and reasons for the ones that are not."""
    usable: list[Protocol] = []
    reasons: list[str] = []
    today = now.date()
    for protocol in protocols.for_party(org):
        party = protocol.party(org)
        if party is None:
            continue
        if party.status != "active":
            reasons.append(Reason.PARTY_SUSPENDED)
        elif protocol.status == "suspended":
            reasons.append(Reason.PROTOCOL_SUSPENDED)
        elif protocol.status in ("draft", "assured"):
            reasons.append(Reason.PROTOCOL_NOT_ASSURED)
        elif not protocol.in_force(today):
            reasons.append(Reason.PROTOCOL_EXPIRED)
        else:
            usable.append(protocol)
    return usable, reasons
