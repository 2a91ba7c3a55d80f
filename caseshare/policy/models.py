"""Protocol versions as immutable values, and the compiled set the decision engine reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

ACTIVE_STATUSES = frozenset({"active"})
BUILTIN_ROLES = frozenset({"ig_officer", "admin"})
# Purposes reserved to the IG officer role; no protocol needs to declare them.
RESERVED_PURPOSES = frozenset({"audit", "subject_access"})


@dataclass(frozen=True)
class Party:
    id: str
    name: str
    sector: str
    public_authority: bool
    status: str = "active"


@dataclass(frozen=True)
class Category:
    code: str
    description: str
    special: bool = False
    criminal: bool = False
    dwp_origin: bool = False


@dataclass(frozen=True)
class Flow:
    id: str
    from_orgs: frozenset[str]
    to_orgs: frozenset[str]
    purposes: frozenset[str]
    categories: frozenset[str]
    consent: str  # none | consent | explicit
    max_consent_days: int | None


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

    @property
    def ref(self) -> str:
        return f"{self.id}@{self.version}"

    def party(self, org: str) -> Party | None:
        return next((p for p in self.parties if p.id == org), None)

    def category(self, code: str) -> Category | None:
        return next((c for c in self.categories if c.code == code), None)

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

    @classmethod
    def build(cls, protocols: list[Protocol]) -> ProtocolSet:
        by_party: dict[str, list[Protocol]] = {}
        categories: dict[str, Category] = {}
        purposes: set[str] = set()
        for protocol in protocols:
            purposes |= protocol.purposes
            for party in protocol.parties:
                by_party.setdefault(party.id, []).append(protocol)
            for category in protocol.categories:
                known = categories.get(category.code)
                # A category is special if any protocol that declares it says so.
                if known is None or (category.special and not known.special):
                    categories[category.code] = category
        return cls(
            protocols=tuple(protocols),
            by_party={k: tuple(v) for k, v in by_party.items()},
            purposes=frozenset(purposes),
            categories=categories,
        )

    def for_party(self, org: str) -> tuple[Protocol, ...]:
        return self.by_party.get(org, ())

    def is_known_purpose(self, purpose: str) -> bool:
        return purpose in self.purposes or purpose in RESERVED_PURPOSES

    def is_sensitive(self, category: str) -> bool:
        known = self.categories.get(category)
        return bool(known and (known.special or known.criminal))

    def get(self, protocol_id: str, version: int) -> Protocol | None:
        return next(
            (p for p in self.protocols if p.id == protocol_id and p.version == version), None
        )
