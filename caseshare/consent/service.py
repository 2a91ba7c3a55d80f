"""Recording and withdrawing consent. Records are immutable; withdrawals are appended."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from caseshare.access.decision import ConsentFacts, Principal
from caseshare.consent.forms import ConsentForm
from caseshare.consent.models import Consent, ConsentWithdrawal
from caseshare.errors import ConflictError, NotFoundError, ValidationError
from caseshare.policy.models import ProtocolSet

VERBAL_METHODS = frozenset({"verbal_in_person", "verbal_phone"})
# What each kind of proxy may consent to (UC appointees: benefit matters only; property and
# financial attorneys: financial categories only).
PROXY_CATEGORY_LIMITS: dict[str, frozenset[str]] = {
    "dwp_appointee": frozenset({"identity", "contact", "benefit_claim", "finances", "employment",
                                "housing_tenancy"}),
    "lpa_property_financial": frozenset({"identity", "contact", "benefit_claim", "finances",
                                         "housing_tenancy"}),
}


def consent_facts(consent: Consent, withdrawals: Sequence[ConsentWithdrawal]) -> ConsentFacts:
    return ConsentFacts(
        id=consent.id,
        recipients=frozenset(consent.recipients),
        purposes=frozenset(consent.purposes),
        categories=frozenset(consent.categories),
        excluded=frozenset(consent.excluded_categories),
        explicit=bool(consent.explicit_statement),
        verified=consent.verified,
        valid_from=consent.valid_from,
        expires_at=consent.expires_at,
        withdrawals=tuple(
            (
                w.withdrawn_at,
                frozenset(w.scope.get("recipients", [])),
                frozenset(w.scope.get("purposes", [])),
                frozenset(w.scope.get("categories", [])),
            )
            for w in withdrawals
        ),
    )


def is_fully_withdrawn(withdrawals: Sequence[ConsentWithdrawal]) -> bool:
    return any(not any(w.scope.get(k) for k in ("recipients", "purposes", "categories"))
               for w in withdrawals)


def status_of(
    consent: Consent, withdrawals: Sequence[ConsentWithdrawal], now: datetime, superseded: bool
) -> str:
    if superseded:
        return "superseded"
    if is_fully_withdrawn(withdrawals):
        return "withdrawn"
    if now >= consent.expires_at:
        return "expired"
    if withdrawals:
        return "partially_withdrawn"
    if not consent.verified:
        return "unverified"
    return "active"


def _not_in(values: list[str], allowed: Sequence[str] | frozenset[str] | set[str]) -> list[str]:
    return sorted(v for v in values if v not in allowed)


def record_consent(
    session: Session,
    *,
    subject_id: uuid.UUID,
    principal: Principal,
    form: ConsentForm,
    protocols: ProtocolSet,
    data: dict[str, Any],
    now: datetime,
) -> Consent:
    """Validate the choices against the form and protocols, then add an immutable record."""
    errors: dict[str, list[str]] = {}
    recipients, purposes = list(data["recipients"]), list(data["purposes"])
    categories = list(data["categories"])
    excluded = list(data.get("excluded_categories") or [])
    language = data["language"]
    if language not in form.languages:
        errors["language"] = [f"Form {form.id} v{form.version} has no {language!r} text."]
    if bad := _not_in(recipients, form.recipients):
        errors["recipients"] = [f"Not a named recipient on this form: {', '.join(bad)}."]
    if bad := _not_in(purposes, form.purposes):
        errors["purposes"] = [f"Not a purpose on this form: {', '.join(bad)}."]
    if bad := _not_in(categories, form.categories):
        errors["categories"] = [f"Not a category on this form: {', '.join(bad)}."]
    if overlap := sorted(set(categories) & set(excluded)):
        errors["excluded_categories"] = [f"Both included and excluded: {', '.join(overlap)}."]
    sensitive = [c for c in categories if protocols.is_sensitive(c)]
    statement = (data.get("explicit_statement") or "").strip()
    if sensitive and not statement:
        errors["explicit_statement"] = [
            f"Explicit consent is required for special or criminal categories: "
            f"{', '.join(sensitive)}."
        ]
    given_by = data["given_by"]
    proxy_limit = PROXY_CATEGORY_LIMITS.get(given_by["type"])
    if proxy_limit is not None and (bad := _not_in(categories, proxy_limit)):
        errors["given_by.type"] = [
            f"A {given_by['type']} cannot consent to these categories: {', '.join(bad)}."
        ]
    if given_by["type"] != "self" and not given_by.get("authority_ref"):
        errors["given_by.authority_ref"] = [
            "Required when someone consents on the claimant's behalf."
        ]
    valid_from = data.get("valid_from") or now
    expires_at = data["expires_at"]
    if expires_at <= valid_from:
        errors["expires_at"] = ["Must be after valid_from."]
    elif expires_at - valid_from > timedelta(days=form.max_duration_days):
        errors["expires_at"] = [f"No more than {form.max_duration_days} days on this form."]
    else:
        limit = _max_flow_days(protocols, recipients, purposes, categories)
        if limit is not None and expires_at - valid_from > timedelta(days=limit):
            errors["expires_at"] = [f"The protocol allows at most {limit} days for these choices."]
    if valid_from < now - timedelta(days=1):
        errors["valid_from"] = ["Cannot be back-dated."]
    if errors:
        raise ValidationError(errors)
    verified = not (data["method"] in VERBAL_METHODS and not data.get("evidence_ref"))
    consent = Consent(
        subject_id=subject_id,
        supersedes_id=data.get("supersedes"),
        given_by_type=given_by["type"],
        given_by_name=given_by.get("name"),
        authority_ref=given_by.get("authority_ref"),
        recipients=sorted(set(recipients)),
        purposes=sorted(set(purposes)),
        categories=sorted(set(categories)),
        excluded_categories=sorted(set(excluded)),
        explicit_statement=statement or None,
        form_id=form.id,
        form_version=form.version,
        language=language,
        text_hash=form.text_hash(language),
        method=data["method"],
        evidence_ref=data.get("evidence_ref"),
        verified=verified,
        captured_by=principal.actor_uuid,
        captured_org=principal.org,
        captured_at=now,
        valid_from=valid_from,
        expires_at=expires_at,
    )
    session.add(consent)
    session.flush()
    return consent



def _max_flow_days(
    protocols: ProtocolSet, recipients: list[str], purposes: list[str], categories: list[str]
) -> int | None:
    """The tightest `max_consent_days` of any flow these choices would rely on."""
    limits = [
        f.max_consent_days
        for p in protocols.protocols
        for f in p.flows
        if f.max_consent_days
        and f.to_orgs & set(recipients)
        and f.purposes & set(purposes)
        and f.categories & set(categories)
    ]
    return min(limits) if limits else None


def get_consent(session: Session, consent_id: uuid.UUID) -> Consent:
    consent = session.get(Consent, consent_id)
    if consent is None:
        raise NotFoundError("No such consent.")
    return consent


def withdraw(
    session: Session,
    *,
    consent: Consent,
    withdrawals: Sequence[ConsentWithdrawal],
    principal: Principal,
    channel: str,
    scope: dict[str, list[str]] | None,
    reason: str | None,
    now: datetime,
) -> ConsentWithdrawal:
    if is_fully_withdrawn(withdrawals):
        raise ConflictError("This consent has already been withdrawn in full.")
    scope = {k: sorted(set(v)) for k, v in (scope or {}).items() if v}
    errors: dict[str, list[str]] = {}
    for key, held in (("recipients", consent.recipients), ("purposes", consent.purposes),
                      ("categories", consent.categories)):
        if bad := _not_in(scope.get(key, []), held):
            errors[f"scope.{key}"] = [f"Not part of this consent: {', '.join(bad)}."]
    if errors:
        raise ValidationError(errors)
    withdrawal = ConsentWithdrawal(
        consent_id=consent.id,
        withdrawn_at=now,
        channel=channel,
        scope=scope,
        reason=reason,
        recorded_by=principal.actor_uuid,
        recorded_org=principal.org,
    )
    session.add(withdrawal)
    session.flush()
    return withdrawal
