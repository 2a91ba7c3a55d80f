"""Who sees how much of a consent record, and the two views of one.

A consent record is claimant data. The organisation that recorded it and the claimant's lead
organisation see it whole (with the sealed fields opened). A named recipient sees only the
parts that name it:

- `recipients`: itself only; `supersedes`, `capacity`, `competence`: left out (null);
- `given_by`: the type only (no proxy name, no authority reference);
- `purposes`: all the consent's purposes (each named recipient is given the same purposes);
- `categories` / `excluded_categories`: special or criminal categories only where a protocol
  flow carries that category to or from this organisation; other categories as recorded;
- `explicit`: true only if a special or criminal category remains in its view;
- no explicit statement, no evidence reference (`method` and `verified` stay);
- `withdrawals`: only those that reach it (a scope naming no recipients, or naming it), with
  the scope narrowed to itself and its categories, and no reason;
- `status`: the consent's status as it applies to it (`withdrawn` once its part is withdrawn).

Anyone else is told the record does not exist (the caller answers 404 "No such consent").
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from caseshare.consent.models import Consent, ConsentWithdrawal
from caseshare.policy.models import ProtocolSet

Audience = Literal["whole", "recipient"]


@dataclass(frozen=True)
class OpenedFields:
    """A consent's sealed fields, opened under the claimant's data key."""

    given_by_name: str | None = None
    authority_ref: str | None = None
    evidence_ref: str | None = None
    explicit_statement: str | None = None
    reasons: tuple[tuple[uuid.UUID, str | None], ...] = ()

    def reason(self, withdrawal_id: uuid.UUID) -> str | None:
        return dict(self.reasons).get(withdrawal_id)


@dataclass(frozen=True)
class WithdrawalView:
    id: uuid.UUID
    withdrawn_at: datetime
    channel: str
    scope: dict[str, Any]
    reason: str | None
    recorded_org: str


@dataclass(frozen=True)
class ConsentView:
    """What one caller may see of one consent version (the fields receipts, FHIR and the API
    serialise)."""

    audience: Audience
    id: uuid.UUID
    subject_id: uuid.UUID
    status: str
    decision: str
    supersedes_id: uuid.UUID | None
    given_by_type: str
    given_by_name: str | None
    authority_ref: str | None
    capacity: dict[str, Any] | None
    competence: dict[str, Any] | None
    recipients: list[str]
    purposes: list[str]
    categories: list[str]
    excluded_categories: list[str]
    explicit: bool
    explicit_statement: str | None
    form_id: str
    form_version: int
    language: str
    text_hash: str
    method: str
    evidence_ref: str | None
    verified: bool
    captured_org: str
    captured_at: datetime
    valid_from: datetime
    expires_at: datetime
    expiry_rule: str
    withdrawals: list[WithdrawalView]
    # The claimant's lead organisation (it records withdrawals for every recipient); set by the
    # use case, which knows the claimant.
    lead_org: str | None = None


def audience(consent: Consent, org: str, lead_org: str) -> Audience | None:
    if org in (consent.captured_org, lead_org):
        return "whole"
    if org in consent.recipients:
        return "recipient"
    return None


def whole_view(consent: Consent, withdrawals: Sequence[ConsentWithdrawal], status: str,
               opened: OpenedFields) -> ConsentView:
    return ConsentView(
        audience="whole", id=consent.id, subject_id=consent.subject_id, status=status,
        decision=consent.decision, supersedes_id=consent.supersedes_id,
        given_by_type=consent.given_by_type, given_by_name=opened.given_by_name,
        authority_ref=opened.authority_ref, capacity=consent.capacity,
        competence=consent.competence, recipients=list(consent.recipients),
        purposes=list(consent.purposes), categories=list(consent.categories),
        excluded_categories=list(consent.excluded_categories),
        explicit=bool(consent.explicit_confirmed or consent.explicit_statement),
        explicit_statement=opened.explicit_statement, form_id=consent.form_id,
        form_version=consent.form_version, language=consent.language,
        text_hash=consent.text_hash, method=consent.method, evidence_ref=opened.evidence_ref,
        verified=consent.verified, captured_org=consent.captured_org,
        captured_at=consent.captured_at, valid_from=consent.valid_from,
        expires_at=consent.expires_at, expiry_rule=consent.expiry_rule,
        withdrawals=[WithdrawalView(w.id, w.withdrawn_at, w.channel, dict(w.scope),
                                    opened.reason(w.id), w.recorded_org) for w in withdrawals],
    )


def receives(protocols: ProtocolSet, org: str, category: str) -> bool:
    """A protocol flow carries `category` to or from `org`."""
    return any(category in f.categories and (org in f.to_orgs or org in f.from_orgs)
               for p in protocols.protocols for f in p.flows)


def recipient_view(consent: Consent, withdrawals: Sequence[ConsentWithdrawal], *,
                   superseded: bool, org: str, protocols: ProtocolSet,
                   now: datetime) -> ConsentView:
    """The parts of the consent that name `org` (see the module docstring)."""
    from caseshare.consent.service import status_of  # service imports this module

    def shown(category: str) -> bool:
        return not protocols.is_sensitive(category) or receives(protocols, org, category)

    categories = [c for c in consent.categories if shown(c)]
    excluded = [c for c in consent.excluded_categories if shown(c)]
    reaching = [w for w in withdrawals
                if not w.scope.get("recipients") or org in w.scope["recipients"]]
    views: list[WithdrawalView] = []
    for w in reaching:
        scope: dict[str, Any] = {}
        if w.scope.get("recipients"):
            scope["recipients"] = [org]
        if w.scope.get("purposes"):
            scope["purposes"] = list(w.scope["purposes"])
        if w.scope.get("categories"):
            cats = [c for c in w.scope["categories"] if shown(c)]
            if not cats:
                continue  # withdraws only categories it never sees: nothing of its own
            scope["categories"] = cats
        views.append(WithdrawalView(w.id, w.withdrawn_at, w.channel, scope, None,
                                    w.recorded_org))
    narrowed = _Narrowed(consent, [org], categories)
    status = status_of(narrowed, views, now, superseded)  # type: ignore[arg-type]
    return replace(
        whole_view(consent, [], status, OpenedFields()),
        audience="recipient", supersedes_id=None, capacity=None, competence=None,
        recipients=[org], categories=categories, excluded_categories=excluded,
        explicit=bool(consent.explicit_confirmed or consent.explicit_statement)
        and any(protocols.is_sensitive(c) for c in categories),
        withdrawals=views,
    )


class _Narrowed:
    """A consent seen with fewer recipients and categories, for `status_of`."""

    def __init__(self, consent: Consent, recipients: list[str], categories: list[str]) -> None:
        self.decision = consent.decision
        self.expires_at = consent.expires_at
        self.verified = consent.verified
        self.recipients = recipients
        self.purposes = consent.purposes
        self.categories = categories
