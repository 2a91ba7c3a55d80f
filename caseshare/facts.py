"""The values an access decision reads: who is asking (`Principal`) and what is true of the
subject (`SubjectFacts`, with its consents and overrides as `ConsentFacts` and `OverrideFacts`).

Plain frozen values with no behaviour beyond derived properties, in a leaf module that imports
nothing from caseshare, so that domain packages can build and take them without importing the
access layer (the decision engine in `caseshare.access.decision` reads them).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Principal:
    actor_id: str
    actor_type: str  # staff | client
    org: str
    roles: frozenset[str]
    scopes: frozenset[str] = frozenset()
    purposes: frozenset[str] | None = None  # purposes bound into the token; None: not bound
    token_id: str | None = None

    @property
    def role(self) -> str:
        return ",".join(sorted(self.roles))

    @property
    def actor_uuid(self) -> uuid.UUID:
        """Staff are known by their id; a partner system by a stable id derived from its client."""
        if self.actor_type == "staff":
            return uuid.UUID(self.actor_id)
        return uuid.uuid5(uuid.NAMESPACE_URL, f"caseshare:client:{self.actor_id}")


@dataclass(frozen=True)
class ConsentFacts:
    id: uuid.UUID
    recipients: frozenset[str]
    purposes: frozenset[str]
    categories: frozenset[str]
    excluded: frozenset[str]
    explicit: bool
    verified: bool
    valid_from: datetime
    expires_at: datetime
    # Withdrawals as (when, recipients, purposes, categories); all-empty scope means everything.
    withdrawals: tuple[tuple[datetime, frozenset[str], frozenset[str], frozenset[str]], ...] = ()


@dataclass(frozen=True)
class OverrideFacts:
    """A break-glass override as the decision sees it. It is personal: only `actor` (the
    requester's actor id) in `org` may rely on it, and only on flows of the protocols in
    `protocols` (the refs it was granted under) whose override rules still permit `route` and
    the caller's role, within its time box and that protocol's `max_hours`."""

    id: uuid.UUID
    org: str
    actor: str
    purpose: str
    categories: frozenset[str]
    route: str
    protocols: frozenset[str]
    starts_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class SubjectFacts:
    subject_id: uuid.UUID
    case_orgs: frozenset[str]
    consents: tuple[ConsentFacts, ...] = ()
    overrides: tuple[OverrideFacts, ...] = ()
    erased: bool = False
    # (organisation, category) copies the retention pass deleted: the decision treats each as
    # erased for that organisation (caseshare.retention).
    deleted: frozenset[tuple[str, str]] = frozenset()
