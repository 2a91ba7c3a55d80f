"""Recording and withdrawing consent. Records are immutable; withdrawals are appended."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, exists, select
from sqlalchemy.orm import Session, aliased

from caseshare.access.decision import ConsentFacts, Principal
from caseshare.consent import rules
from caseshare.consent.forms import ConsentForm
from caseshare.consent.models import Consent, ConsentWithdrawal
from caseshare.driver_sql import DriverSelect
from caseshare.errors import ConflictError, NotFoundError, ValidationError
from caseshare.notifications import service as notifications
from caseshare.notifications.models import Notification
from caseshare.policy.models import ProtocolSet
from caseshare.subjects.models import Subject

SCOPE_KEYS = ("recipients", "purposes", "categories")
ConsentHistory = tuple[Consent, list[ConsentWithdrawal]]


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


def decision_facts(pairs: Sequence[ConsentHistory]) -> list[ConsentFacts]:
    """The consents the access decision may rely on: current versions that grant something.

    A refusal is recorded for the claimant's benefit and the IG record; it is not a lawful basis
    for anything and, being neutral, it does not block what another consent allows.
    """
    superseded = {c.supersedes_id for c, _ in pairs if c.supersedes_id}
    return [consent_facts(c, ws) for c, ws in pairs
            if c.id not in superseded and c.decision == "granted"]


_newer = aliased(Consent)
# Built once: composing it (the alias especially) costs more than running it. Every access runs
# it, on the driver's cursor (driver_sql.py).
_CURRENT_GRANTED = DriverSelect(
    select(Consent.id, Consent.recipients, Consent.purposes, Consent.categories,
           Consent.excluded_categories, Consent.explicit_statement, Consent.verified,
           Consent.valid_from, Consent.expires_at, ConsentWithdrawal.withdrawn_at,
           ConsentWithdrawal.scope)
    .outerjoin(ConsentWithdrawal, ConsentWithdrawal.consent_id == Consent.id)
    .where(Consent.subject_id == bindparam("subject_id"), Consent.decision == "granted",
           ~exists().where(_newer.subject_id == Consent.subject_id,
                           _newer.supersedes_id == Consent.id))
    .order_by(Consent.captured_at, Consent.id, ConsentWithdrawal.withdrawn_at)
)
# _CURRENT_GRANTED's columns, in order
(_ID, _RECIPIENTS, _PURPOSES, _CATEGORIES, _EXCLUDED, _EXPLICIT, _VERIFIED, _VALID_FROM,
 _EXPIRES_AT, _WITHDRAWN_AT, _SCOPE) = range(11)


def current_consent_facts(session: Session, subject_id: uuid.UUID) -> list[ConsentFacts]:
    """`decision_facts` in one statement: the subject's current granted consent versions with
    their withdrawals, reading only the columns the decision uses. Superseded versions (a
    claimant's history keeps every one) are not loaded at all."""
    consents: dict[uuid.UUID, tuple[Any, list[Any]]] = {}
    for row in _CURRENT_GRANTED.rows(session, {"subject_id": subject_id}):
        _first, withdrawals = consents.setdefault(row[_ID], (row, []))
        if row[_WITHDRAWN_AT] is not None:
            scope = row[_SCOPE]
            withdrawals.append((row[_WITHDRAWN_AT], frozenset(scope.get("recipients", [])),
                                frozenset(scope.get("purposes", [])),
                                frozenset(scope.get("categories", []))))
    return [
        ConsentFacts(id=c[_ID], recipients=frozenset(c[_RECIPIENTS]),
                     purposes=frozenset(c[_PURPOSES]), categories=frozenset(c[_CATEGORIES]),
                     excluded=frozenset(c[_EXCLUDED]), explicit=bool(c[_EXPLICIT]),
                     verified=c[_VERIFIED], valid_from=c[_VALID_FROM],
                     expires_at=c[_EXPIRES_AT], withdrawals=tuple(withdrawals))
        for c, withdrawals in consents.values()
    ]


def is_fully_withdrawn(consent: Consent, withdrawals: Sequence[ConsentWithdrawal]) -> bool:
    """Withdrawn in full, at once or by partial withdrawals that together cover one dimension."""
    removed: dict[str, set[str]] = {k: set() for k in SCOPE_KEYS}
    for w in withdrawals:
        named = [k for k in SCOPE_KEYS if w.scope.get(k)]
        if not named:
            return True
        if len(named) == 1:  # a scope naming one dimension removes those values entirely
            removed[named[0]] |= set(w.scope[named[0]])
    return (set(consent.recipients) <= removed["recipients"]
            or set(consent.purposes) <= removed["purposes"]
            or set(consent.categories) <= removed["categories"])


def status_of(
    consent: Consent, withdrawals: Sequence[ConsentWithdrawal], now: datetime, superseded: bool
) -> str:
    if superseded:
        return "superseded"
    if consent.decision == "refused":
        return "refused"
    if is_fully_withdrawn(consent, withdrawals):
        return "withdrawn"
    if now >= consent.expires_at:
        return "expired"
    if withdrawals:
        return "partially_withdrawn"
    if not consent.verified:
        return "unverified"
    return "active"


def superseded_ids(pairs: Sequence[ConsentHistory]) -> set[uuid.UUID]:
    return {c.supersedes_id for c, _ in pairs if c.supersedes_id}


def with_status(pairs: Sequence[ConsentHistory], now: datetime) -> list[
        tuple[Consent, list[ConsentWithdrawal], str]]:
    superseded = superseded_ids(pairs)
    return [(c, ws, status_of(c, ws, now, c.id in superseded)) for c, ws in pairs]


def situation(*, jurisdiction: str, age: int | None, pairs: Sequence[ConsentHistory],
              now: datetime) -> rules.SubjectSituation:
    """The claimant's circumstances the consent rules depend on."""
    superseded = superseded_ids(pairs)
    refused = any(
        c.decision == "refused" and c.given_by_type == "self" and c.id not in superseded
        and now < c.expires_at and (c.competence or {}).get("competent")
        for c, _ in pairs
    )
    return rules.SubjectSituation(jurisdiction=jurisdiction, age=age,
                                  competent_child_refused=refused)


def _check_supersedes(data: dict[str, Any], subject_id: uuid.UUID,
                      pairs: Sequence[ConsentHistory]) -> None:
    target = data.get("supersedes")
    if target is None:
        return
    if target not in {c.id for c, _ in pairs}:
        raise ValidationError({"supersedes": ["Not a consent of this claimant."]})
    if target in superseded_ids(pairs):
        raise ConflictError("That consent has already been superseded by a newer version.",
                            errors={"supersedes": ["Already superseded."]})


def record_consent(
    session: Session,
    *,
    subject_id: uuid.UUID,
    principal: Principal,
    form: ConsentForm,
    protocols: ProtocolSet,
    subject: rules.SubjectSituation,
    history: Sequence[ConsentHistory],
    data: dict[str, Any],
    now: datetime,
) -> Consent:
    """Validate the choices against the form, protocols and the claimant's situation, then add
    an immutable record. Nothing is written unless every rule holds."""
    errors = rules.validate_consent(data, form, protocols, subject, now)
    if errors:
        raise ValidationError(errors)
    if conflict := rules.conflicts(data, subject):
        raise ConflictError(next(iter(conflict.values()))[0], errors=conflict)
    _check_supersedes(data, subject_id, history)
    given_by = data["given_by"]
    statement = (data.get("explicit_statement") or "").strip()
    consent = Consent(
        subject_id=subject_id,
        decision=data.get("decision", "granted"),
        supersedes_id=data.get("supersedes"),
        given_by_type=given_by["type"],
        given_by_name=given_by.get("name"),
        authority_ref=given_by.get("authority_ref"),
        capacity=rules.capacity_record(data),
        competence=rules.competence_record(data, subject),
        recipients=sorted(set(data["recipients"])),
        purposes=sorted(set(data["purposes"])),
        categories=sorted(set(data["categories"])),
        excluded_categories=sorted(set(data.get("excluded_categories") or [])),
        explicit_statement=statement or None,
        form_id=form.id,
        form_version=form.version,
        language=data["language"],
        text_hash=form.text_hash(data["language"]),
        method=data["method"],
        evidence_ref=data.get("evidence_ref"),
        verified=rules.is_verified(data["method"], data.get("evidence_ref")),
        captured_by=principal.actor_uuid,
        captured_org=principal.org,
        captured_at=now,
        valid_from=data.get("valid_from") or now,
        expires_at=data["expires_at"],
        expiry_rule=data.get("expiry_rule") or "fixed_date",
    )
    session.add(consent)
    session.flush()
    return consent


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
    superseded: bool,
    principal: Principal,
    channel: str,
    scope: dict[str, list[str]] | None,
    reason: str | None,
    now: datetime,
) -> ConsentWithdrawal:
    """Append a withdrawal: no scope withdraws everything, a scope removes exactly that."""
    if consent.decision == "refused":
        raise ConflictError("A refusal grants nothing to withdraw; record a new consent instead.")
    if superseded:
        raise ConflictError("This consent was superseded; withdraw the current version.")
    if is_fully_withdrawn(consent, withdrawals):
        raise ConflictError("This consent has already been withdrawn in full.")
    scope = {k: sorted(set(v)) for k, v in (scope or {}).items() if v}
    errors: dict[str, list[str]] = {}
    for key in SCOPE_KEYS:
        if bad := rules._not_in(scope.get(key, []), getattr(consent, key)):
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


def notify_withdrawal(session: Session, *, consent: Consent, withdrawal: ConsentWithdrawal,
                      fully_withdrawn: bool) -> list[Notification]:
    """Tell each recipient organisation whose access the withdrawal narrows (not the recorder,
    who already knows). The notice names the claimant by id and the scope, nothing else."""
    affected = withdrawal.scope.get("recipients") or consent.recipients
    notices = [
        notifications.notify(session, type="consent_withdrawn", org=org,
                             subject_id=consent.subject_id, consent_id=consent.id,
                             now=withdrawal.withdrawn_at,
                             details={"scope": withdrawal.scope, "full": fully_withdrawn,
                                      "channel": withdrawal.channel})
        for org in sorted(set(affected)) if org != withdrawal.recorded_org
    ]
    session.flush()
    return notices


def expiring(session: Session, *, now: datetime, days: int, lead_org: str | None) -> list[
        tuple[Consent, list[ConsentWithdrawal], str, str]]:
    """Current, granted consents that end within `days`, for the case owner (lead org) to renew.
    Returns (consent, withdrawals, status, lead org)."""
    query = (
        select(Consent, Subject.lead_org_id)
        .join(Subject, Subject.id == Consent.subject_id)
        .where(Consent.decision == "granted", Consent.expires_at > now,
               Consent.expires_at <= now + timedelta(days=days), Subject.dek_wrapped.is_not(None))
        .order_by(Consent.expires_at)
    )
    if lead_org is not None:
        query = query.where(Subject.lead_org_id == lead_org)
    rows = session.execute(query).all()
    if not rows:
        return []
    ids = [c.id for c, _ in rows]
    newer = set(session.scalars(select(Consent.supersedes_id).where(
        Consent.supersedes_id.in_(ids))))
    withdrawals: dict[uuid.UUID, list[ConsentWithdrawal]] = {i: [] for i in ids}
    for w in session.scalars(select(ConsentWithdrawal).where(ConsentWithdrawal.consent_id.in_(ids))
                             .order_by(ConsentWithdrawal.withdrawn_at)):
        withdrawals[w.consent_id].append(w)
    out = []
    for consent, lead in rows:
        ws = withdrawals[consent.id]
        if consent.id in newer or is_fully_withdrawn(consent, ws):
            continue
        out.append((consent, ws, status_of(consent, ws, now, False), lead))
    return out
