"""Hypothesis strategies: small random partnerships (protocols, consents, overrides, cases) over
a fixed vocabulary, so that generated requests often hit something and often miss."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from caseshare.facts import ConsentFacts, OverrideFacts, Principal, SubjectFacts
from caseshare.policy.models import (
    Category,
    Flow,
    Grant,
    OverrideRule,
    Party,
    Protocol,
    ProtocolSet,
)

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
ORGS = ("org-a", "org-b", "org-c")
ROLES = ("work_coach", "key_worker")
PURPOSES = ("case_management", "tenancy_sustainment")
CATEGORIES = {
    "contact": Category("contact", "Contact details"),
    "finances": Category("finances", "Income and debts"),
    "substance_misuse": Category("substance_misuse", "Treatment", special=True),
    "offending": Category("offending", "Offending", criminal=True),
}
CATEGORY_CODES = tuple(CATEGORIES)


def subset(values: tuple[str, ...], min_size: int = 0) -> st.SearchStrategy[frozenset[str]]:
    return st.frozensets(st.sampled_from(values), min_size=min_size)


def mostly_all(values: tuple[str, ...]) -> st.SearchStrategy[frozenset[str]]:
    """Often everything, sometimes a random part: enough overlap that requests get through."""
    everything = st.just(frozenset(values))
    return st.one_of(everything, everything, subset(values))


def usually(common: object, rare: st.SearchStrategy[object]) -> st.SearchStrategy[Any]:
    """`common` about four times in five, otherwise something from `rare`."""
    return st.integers(0, 9).flatmap(lambda i: st.just(common) if i < 8 else rare)


def moment(days_before: int, days_after: int) -> st.SearchStrategy[datetime]:
    return st.integers(-days_before * 24, days_after * 24).map(lambda h: NOW + timedelta(hours=h))


@st.composite
def protocols(draw: st.DrawFn, ident: str) -> Protocol:
    parties = sorted(draw(mostly_all(ORGS)) or ORGS)
    purposes = draw(mostly_all(PURPOSES)) or frozenset(PURPOSES)
    categories = draw(mostly_all(CATEGORY_CODES)) or frozenset(CATEGORY_CODES)
    pur, cat, par = tuple(sorted(purposes)), tuple(sorted(categories)), tuple(parties)
    flows = tuple(
        Flow(id=f"f{i}", from_orgs=draw(subset(par, 1)), to_orgs=draw(mostly_all(par)),
             purposes=draw(mostly_all(pur)), categories=draw(mostly_all(cat)),
             consent=draw(st.sampled_from(["none", "consent", "consent", "explicit"])),
             max_consent_days=365)
        for i in range(draw(st.integers(0, 3)))
    )
    grants = tuple(
        Grant(index=i, roles=draw(subset(ROLES, 1)), parties=draw(mostly_all(par)),
              purposes=draw(mostly_all(pur)), read=draw(mostly_all(cat)),
              write=draw(subset(cat)))
        for i in range(draw(st.integers(1, 3)))
    )
    effective = NOW.date() + timedelta(days=draw(st.sampled_from([-30, -400, 0, 1])))
    expires = effective + timedelta(days=draw(st.sampled_from([400, 900, 30, 0])))
    return Protocol(
        id=ident, version=1, title=f"Protocol {ident}", type="ISP", framework="local",
        status=draw(st.sampled_from(["active"] * 8 + ["draft", "assured", "suspended",
                                                      "expired", "terminated"])),
        effective_from=effective, review_date=effective, expires_on=expires,
        parties=tuple(
            Party(org, org, "local_gov", True, draw(st.sampled_from(["active"] * 9
                                                                      + ["suspended"])))
            for org in parties
        ),
        purposes=purposes,
        categories=tuple(CATEGORIES[c] for c in sorted(categories)),
        flows=flows, grants=grants, override=draw(st.one_of(
            st.just(OverrideRule(permitted=False)),
            st.builds(OverrideRule, permitted=st.just(True),
                      routes=st.just(frozenset({"safeguarding"})), roles=subset(ROLES, 1),
                      max_hours=st.sampled_from([2, 24, 48])))),
        source_file=f"{ident}.yaml", content_hash="0" * 64,
    )


@st.composite
def protocol_sets(draw: st.DrawFn) -> list[Protocol]:
    return [draw(protocols(f"p{i}")) for i in range(draw(st.integers(1, 2)))]


withdrawals = st.tuples(moment(200, 10), subset(ORGS), subset(PURPOSES), subset(CATEGORY_CODES))


@st.composite
def consents(draw: st.DrawFn, org: str | None = None, purpose: str | None = None,
             categories: frozenset[str] = frozenset()) -> ConsentFacts:
    """A random consent; given an org, purpose and categories it names them (so the lawful
    basis layer is reached often), while exclusions, explicitness, verification, dates and
    withdrawals stay random."""
    valid_from = NOW + timedelta(hours=draw(usually(-720, st.sampled_from([-9600, -1, 0, 24]))))
    expires_at = max(valid_from + timedelta(hours=1),
                     NOW + timedelta(hours=draw(usually(4320, st.sampled_from([1, 0, -24])))))
    return ConsentFacts(
        id=uuid.UUID(int=draw(st.integers(1, 2**64))),
        recipients=draw(mostly_all(ORGS)) | ({org} if org else set()),
        purposes=draw(mostly_all(PURPOSES)) | ({purpose} if purpose else set()),
        categories=draw(mostly_all(CATEGORY_CODES)) | categories,
        excluded=draw(st.one_of(st.just(frozenset[str]()), subset(CATEGORY_CODES))),
        explicit=draw(usually(True, st.just(False))),
        verified=draw(usually(True, st.just(False))), valid_from=valid_from,
        expires_at=expires_at,
        withdrawals=tuple(draw(usually([], st.lists(withdrawals, min_size=1, max_size=2)))),
    )


@st.composite
def overrides(draw: st.DrawFn) -> OverrideFacts:
    starts = draw(moment(3, 1))
    return OverrideFacts(
        id=uuid.UUID(int=draw(st.integers(1, 2**64))), org=draw(st.sampled_from(ORGS)),
        # Mostly the principal's own (actor 1), sometimes a colleague's.
        actor=str(uuid.UUID(int=draw(st.sampled_from([1, 1, 1, 9])))),
        purpose=draw(st.sampled_from(PURPOSES)), categories=draw(subset(CATEGORY_CODES, 1)),
        route=draw(st.sampled_from(["safeguarding", "safeguarding", "curiosity"])),
        protocols=draw(subset(("p0@1", "p1@1"), 1)),
        starts_at=starts, expires_at=starts + timedelta(hours=draw(st.integers(1, 48))),
    )


@st.composite
def subjects(draw: st.DrawFn, org: str, purpose: str,
             categories: frozenset[str]) -> SubjectFacts:
    steered = consents(org, purpose, categories)
    return SubjectFacts(
        subject_id=uuid.UUID(int=7), case_orgs=draw(mostly_all(ORGS)),
        consents=tuple(draw(st.lists(st.one_of(consents(), steered), max_size=3))),
        overrides=tuple(draw(st.lists(overrides(), max_size=2))),
    )


@st.composite
def principals(draw: st.DrawFn) -> Principal:
    return Principal(actor_id=str(uuid.UUID(int=1)), actor_type="staff",
                     org=draw(st.sampled_from(ORGS)), roles=draw(subset(ROLES, 1)))


@dataclass(frozen=True)
class Request:
    principal: Principal
    purpose: str
    action: str
    categories: frozenset[str]
    subject: SubjectFacts
    protocols: list[Protocol]

    @property
    def protocol_set(self) -> ProtocolSet:
        return ProtocolSet.build(self.protocols)

    @property
    def today(self) -> date:
        return NOW.date()


@st.composite
def requests(draw: st.DrawFn) -> Request:
    principal = draw(principals())
    purpose = draw(st.sampled_from(PURPOSES))
    categories = draw(subset(CATEGORY_CODES, 1))
    return Request(
        principal=principal, purpose=purpose,
        action=draw(st.sampled_from(["read", "read", "write"])), categories=categories,
        subject=draw(subjects(principal.org, purpose, categories)),
        protocols=draw(protocol_sets()),
    )
