"""Recording and withdrawing consent. Records are immutable; withdrawals are appended."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, Uuid, bindparam, exists, or_, select
from sqlalchemy.orm import Session, aliased

from caseshare import db
from caseshare.consent import rules
from caseshare.consent.forms import ConsentForm
from caseshare.consent.models import Consent, ConsentWithdrawal
from caseshare.consent.views import OpenedFields
from caseshare.crypto.sealing import FieldRef, open_sealed, seal
from caseshare.errors import ConflictError, ValidationError
from caseshare.facts import ConsentFacts, Principal
from caseshare.notifications import service as notifications
from caseshare.notifications.models import Notification
from caseshare.policy.models import ProtocolSet

SCOPE_KEYS = ("recipients", "purposes", "categories")
# The category the sealed fields of a consent record are bound to (in the AAD).
SEALED_CATEGORY = "consent_record"
SEALED_CONSENT_FIELDS = ("given_by_name", "authority_ref", "evidence_ref", "explicit_statement")
# A consent ended because its case closed (caseshare/cases/effects.py), not by the claimant.
CASE_CLOSED_CHANNEL = "case_closed"
ConsentHistory = tuple[Consent, list[ConsentWithdrawal]]


def consent_facts(consent: Consent, withdrawals: Sequence[ConsentWithdrawal]) -> ConsentFacts:
    return ConsentFacts(
        id=consent.id,
        recipients=frozenset(consent.recipients),
        purposes=frozenset(consent.purposes),
        categories=frozenset(consent.categories),
        excluded=frozenset(consent.excluded_categories),
        explicit=bool(consent.explicit_confirmed or consent.explicit_statement),
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
# it.
_CURRENT_GRANTED: Select[*tuple[Any, ...]] = (
    select(Consent.id, Consent.recipients, Consent.purposes, Consent.categories,
           Consent.excluded_categories, Consent.explicit_confirmed, Consent.verified,
           Consent.valid_from, Consent.expires_at, ConsentWithdrawal.withdrawn_at,
           ConsentWithdrawal.scope, Consent.explicit_statement.is_not(None))
    .outerjoin(ConsentWithdrawal, ConsentWithdrawal.consent_id == Consent.id)
    # Typed here: the foreign key's type comes from `subjects.id`, which may not be mapped yet
    # when this module is imported, and the driver needs the UUID converted.
    .where(Consent.subject_id == bindparam("subject_id", type_=Uuid()),
           Consent.decision == "granted",
           ~exists().where(_newer.subject_id == Consent.subject_id,
                           _newer.supersedes_id == Consent.id))
    .order_by(Consent.captured_at, Consent.id, ConsentWithdrawal.withdrawn_at)
)
# _CURRENT_GRANTED's columns, in order
(_ID, _RECIPIENTS, _PURPOSES, _CATEGORIES, _EXCLUDED, _EXPLICIT, _VERIFIED, _VALID_FROM,
 _EXPIRES_AT, _WITHDRAWN_AT, _SCOPE, _LEGACY_EXPLICIT) = range(12)


def current_consent_facts(session: Session, subject_id: uuid.UUID) -> list[ConsentFacts]:
    """`decision_facts` in one statement: the subject's current granted consent versions with
    their withdrawals, reading only the columns the decision uses. Superseded versions (a
    claimant's history keeps every one) are not loaded at all."""
    consents: dict[uuid.UUID, tuple[Any, list[Any]]] = {}
    for row in db.rows(session, _CURRENT_GRANTED, {"subject_id": subject_id}):
        _first, withdrawals = consents.setdefault(row[_ID], (row, []))
        if row[_WITHDRAWN_AT] is not None:
            scope = row[_SCOPE]
            withdrawals.append((row[_WITHDRAWN_AT], frozenset(scope.get("recipients", [])),
                                frozenset(scope.get("purposes", [])),
                                frozenset(scope.get("categories", []))))
    return [
        ConsentFacts(id=c[_ID], recipients=frozenset(c[_RECIPIENTS]),
                     purposes=frozenset(c[_PURPOSES]), categories=frozenset(c[_CATEGORIES]),
                     excluded=frozenset(c[_EXCLUDED]),
                     explicit=bool(c[_EXPLICIT] or c[_LEGACY_EXPLICIT]),
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


def recently_withdrawn(pairs: Sequence[ConsentHistory], protocols: ProtocolSet,
                       now: datetime) -> frozenset[str]:
    """Recipients the claimant withdrew consent from (a whole withdrawal, or one naming them)
    within the cooling period of their protocols (`consent_cooling_days`)."""
    out: set[str] = set()
    for consent, withdrawals in pairs:
        for w in withdrawals:
            if w.channel == CASE_CLOSED_CHANNEL:  # the case closed: no withdrawal to cool off
                continue
            named = w.scope.get("recipients") or (
                consent.recipients if not any(w.scope.get(k) for k in SCOPE_KEYS) else [])
            out |= {org for org in named
                    if now - w.withdrawn_at < timedelta(days=protocols.consent_cooling_days(org))}
    return frozenset(out)


def situation(*, jurisdiction: str, age: int | None, pairs: Sequence[ConsentHistory],
              now: datetime, protocols: ProtocolSet | None = None) -> rules.SubjectSituation:
    """The claimant's circumstances the consent rules depend on."""
    superseded = superseded_ids(pairs)
    refused = any(
        c.decision == "refused" and c.given_by_type == "self" and c.id not in superseded
        and now < c.expires_at and (c.competence or {}).get("competent")
        for c, _ in pairs
    )
    cooling = recently_withdrawn(pairs, protocols, now) if protocols else frozenset()
    return rules.SubjectSituation(jurisdiction=jurisdiction, age=age,
                                  competent_child_refused=refused, recently_withdrawn=cooling)


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
    data_key: bytes,
    dek_version: int,
    now: datetime,
) -> Consent:
    """Validate the choices against the form, protocols and the claimant's situation, then add
    an immutable record. Nothing is written unless every rule holds. The proxy's name, the
    authority and evidence references and the explicit statement are sealed under the
    claimant's data key (and so shredded with it)."""
    errors = rules.validate_consent(data, form, protocols, subject, now)
    if errors:
        raise ValidationError(errors)
    if conflict := rules.conflicts(data, subject):
        raise ConflictError(next(iter(conflict.values()))[0], errors=conflict)
    _check_supersedes(data, subject_id, history)
    given_by = data["given_by"]
    statement = (data.get("explicit_statement") or "").strip()
    consent = Consent(
        id=uuid.uuid4(),
        subject_id=subject_id,
        decision=data.get("decision", "granted"),
        supersedes_id=data.get("supersedes"),
        given_by_type=given_by["type"],
        capacity=rules.capacity_record(data),
        competence=rules.competence_record(data, subject),
        recipients=sorted(set(data["recipients"])),
        purposes=sorted(set(data["purposes"])),
        categories=sorted(set(data["categories"])),
        excluded_categories=sorted(set(data.get("excluded_categories") or [])),
        explicit_confirmed=bool(statement),
        explicit_statement_sha256=rules.statement_sha256(statement) if statement else None,
        form_id=form.id,
        form_version=form.version,
        language=data["language"],
        text_hash=form.text_hash(data["language"]),
        method=data["method"],
        verified=rules.is_verified(data["method"], data.get("evidence_ref")),
        captured_by=principal.actor_uuid,
        captured_org=principal.org,
        captured_at=now,
        valid_from=data.get("valid_from") or now,
        expires_at=data["expires_at"],
        expiry_rule=data.get("expiry_rule") or "fixed_date",
    )
    for field, value in (("given_by_name", given_by.get("name")),
                         ("authority_ref", given_by.get("authority_ref")),
                         ("evidence_ref", data.get("evidence_ref")),
                         ("explicit_statement", statement or None)):
        if value:
            setattr(consent, f"{field}_sealed",
                    seal(data_key, dek_version, consent_ref(consent, field), value))
    session.add(consent)
    session.flush()
    return consent


def consent_ref(consent: Consent, field: str) -> FieldRef:
    return FieldRef(consent.subject_id, "consent", str(consent.id), field, SEALED_CATEGORY)


def withdrawal_ref(subject_id: uuid.UUID, withdrawal: ConsentWithdrawal) -> FieldRef:
    return FieldRef(subject_id, "consent_withdrawal", str(withdrawal.id), "reason",
                    SEALED_CATEGORY)


def open_fields(consent: Consent, withdrawals: Sequence[ConsentWithdrawal],
                data_key: bytes) -> OpenedFields:
    """The consent's sealed fields, opened. A row from before migration 0015 that
    `consents seal-legacy` has not sealed yet still has them in plaintext."""
    def opened(field: str) -> str | None:
        sealed: bytes | None = getattr(consent, f"{field}_sealed")
        if sealed is not None:
            return open_sealed(data_key, consent_ref(consent, field), sealed)
        legacy: str | None = getattr(consent, field)
        return legacy

    reasons = tuple(
        (w.id, open_sealed(data_key, withdrawal_ref(consent.subject_id, w), w.reason_sealed)
         if w.reason_sealed is not None else w.reason)
        for w in withdrawals)
    return OpenedFields(given_by_name=opened("given_by_name"),
                        authority_ref=opened("authority_ref"),
                        evidence_ref=opened("evidence_ref"),
                        explicit_statement=opened("explicit_statement"), reasons=reasons)


def seal_legacy(session: Session, *, data_key_of: Any) -> int:
    """Seal the plaintext fields of consent records and withdrawals written before migration
    0015 and clear the plaintext; `data_key_of(subject_id)` gives (data key, version) or None
    for an erased claimant (whose plaintext is then cleared, as erasure would have shredded it).
    Returns how many rows changed. Idempotent."""
    changed = 0
    legacy = or_(*(getattr(Consent, f).is_not(None) for f in SEALED_CONSENT_FIELDS))
    for consent in session.scalars(select(Consent).where(legacy)):
        key = data_key_of(consent.subject_id)
        for field in SEALED_CONSENT_FIELDS:
            value = getattr(consent, field)
            if value is None:
                continue
            if field == "explicit_statement" and value.strip():
                consent.explicit_confirmed = True
                consent.explicit_statement_sha256 = rules.statement_sha256(value)
            if key is not None and value.strip():
                setattr(consent, f"{field}_sealed",
                        seal(key[0], key[1], consent_ref(consent, field), value))
            setattr(consent, field, None)
        changed += 1
    rows = session.execute(select(ConsentWithdrawal, Consent.subject_id)
                           .join(Consent, Consent.id == ConsentWithdrawal.consent_id)
                           .where(ConsentWithdrawal.reason.is_not(None))).all()
    for withdrawal, subject_id in rows:
        key = data_key_of(subject_id)
        if key is not None and withdrawal.reason:
            withdrawal.reason_sealed = seal(key[0], key[1], withdrawal_ref(subject_id, withdrawal),
                                            withdrawal.reason)
        withdrawal.reason = None
        changed += 1
    session.flush()
    return changed


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
    data_key: bytes,
    dek_version: int,
    now: datetime,
    within: dict[str, list[str]] | None = None,
) -> ConsentWithdrawal:
    """Append a withdrawal: no scope withdraws everything, a scope removes exactly that.
    `within` is what the caller sees of the consent on each dimension (a named recipient's
    view); a code outside it gets the same 422 as one not in the consent at all, so the answer
    reveals nothing the caller's view hides. Default: the whole consent."""
    if consent.decision == "refused":
        raise ConflictError("A refusal grants nothing to withdraw; record a new consent instead.")
    if superseded:
        raise ConflictError("This consent was superseded; withdraw the current version.")
    if is_fully_withdrawn(consent, withdrawals):
        raise ConflictError("This consent has already been withdrawn in full.")
    scope = {k: sorted(set(v)) for k, v in (scope or {}).items() if v}
    errors: dict[str, list[str]] = {}
    for key in SCOPE_KEYS:
        allowed = (within or {}).get(key, getattr(consent, key))
        if bad := rules._not_in(scope.get(key, []), allowed):
            errors[f"scope.{key}"] = [f"Not part of this consent: {', '.join(bad)}."]
    if errors:
        raise ValidationError(errors)
    withdrawal = ConsentWithdrawal(
        id=uuid.uuid4(),
        consent_id=consent.id,
        withdrawn_at=now,
        channel=channel,
        scope=scope,
        recorded_by=principal.actor_uuid,
        recorded_org=principal.org,
    )
    if reason:
        withdrawal.reason_sealed = seal(data_key, dek_version,
                                        withdrawal_ref(consent.subject_id, withdrawal), reason)
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


def notify_regrant(session: Session, *, consent: Consent, lead_org: str,
                   recipients: Sequence[str], now: datetime) -> list[Notification]:
    """A consent re-granting recipients the claimant recently withdrew from: tell the lead
    organisation and its IG officers (ids and codes only)."""
    details = {"recipients": sorted(recipients), "method": consent.method,
               "recorded_by_org": consent.captured_org}
    notices = [notifications.notify(session, type="consent_regranted_after_withdrawal",
                                    org=lead_org, role=role, subject_id=consent.subject_id,
                                    consent_id=consent.id, now=now, details=details)
               for role in (None, "ig_officer")]
    session.flush()
    return notices
