"""Use cases for claimant records and consents, on the same path as case plans."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from caseshare.access import referrals, steps
from caseshare.access.context import RequestContext
from caseshare.access.decision import SubjectFacts
from caseshare.consent import rules
from caseshare.consent import service as consents
from caseshare.consent.forms import ConsentForm
from caseshare.consent.models import Consent, ConsentWithdrawal
from caseshare.crypto.keyring import KeyProvider
from caseshare.errors import NotFoundError, ValidationError
from caseshare.notifications import service as notifications
from caseshare.notifications.service import NotificationView
from caseshare.subjects import service as subjects
from caseshare.subjects.models import IDENTITY_FIELDS, Subject

IDENTITY_CATEGORIES = sorted(set(IDENTITY_FIELDS.values()))


def register_subject(ctx: RequestContext, identity: dict[str, Any],
                     jurisdiction: str) -> tuple[Subject, dict[str, str]]:
    """Register a claimant; the caller's organisation becomes the lead case member."""
    # A new claimant has no facts yet beyond the caller's own case; the write decision is the
    # protocol layer (a grant to write identity data for this purpose).
    facts = SubjectFacts(subject_id=uuid.UUID(int=0), case_orgs=frozenset({ctx.principal.org}))
    decision = steps.authorise_write(ctx, None, facts, IDENTITY_CATEGORIES)
    subject = subjects.create_subject(ctx.session, keyring=ctx.keyring, principal=ctx.principal,
                                      now=ctx.now, identity=identity, jurisdiction=jurisdiction)
    ctx.audit("subject:record:create", subject_id=subject.id, decision=decision, outcome="allow",
              categories=IDENTITY_CATEGORIES)
    opened = subjects.open_identity(subject, ctx.keyring, set(IDENTITY_CATEGORIES))
    ctx.commit()
    return subject, opened


def read_subject(ctx: RequestContext, subject_id: uuid.UUID) -> tuple[Subject, dict[str, str],
                                                                      list[dict[str, Any]]]:
    subject, facts = steps.subject_in_case(ctx, subject_id)
    decision = steps.decide(ctx, facts, "read", IDENTITY_CATEGORIES)
    # Identity fields are the lead organisation's record; others read them through a flow.
    permitted = {c for c, d in decision.permitted.items() if subject.lead_org_id in d.sources}
    opened = subjects.open_identity(subject, ctx.keyring, permitted)
    withheld: list[dict[str, Any]] = [
        {"category": c.category, "reasons": list(c.reasons) or ["direction_not_permitted"]}
        for c in decision.categories if c.category not in permitted
    ]
    if permitted:
        ctx.audit("subject:identity:read", subject_id=subject.id, decision=decision,
                  outcome="allow", categories=sorted(permitted), reasons=[],
                  details={"fields": sorted(opened)})
    if withheld:
        ctx.audit("subject:identity:read", subject_id=subject.id, decision=decision,
                  outcome="deny", categories=[w["category"] for w in withheld])
    ctx.commit()
    return subject, opened, withheld


def find_by_nino(ctx: RequestContext, nino: str) -> list[Subject]:
    found = subjects.find_by_nino(ctx.session, keyring=ctx.keyring, nino=nino,
                                  org=ctx.principal.org)
    ctx.audit("subject:search:nino", outcome="allow", details={"matches": len(found)})
    ctx.commit()
    return found


def find_by_name_and_birth_date(ctx: RequestContext, *, family_name: str,
                                given_name: str | None, date_of_birth: date) -> list[Subject]:
    """Claimants the caller's organisation works with, by name and date of birth. Others are
    never matched, so an empty answer says nothing about claimants elsewhere. The audit event
    records that a search was made and how many matched, never the names searched for."""
    found = subjects.find_by_name_and_birth_date(
        ctx.session, keyring=ctx.keyring, org=ctx.principal.org, family_name=family_name,
        given_name=given_name, date_of_birth=date_of_birth.isoformat())
    ctx.audit("subject:search:name_dob", outcome="allow",
              details={"matches": len(found), "given_name": bool(given_name)})
    ctx.commit()
    return found


ConsentWithHistory = tuple[Consent, list[ConsentWithdrawal], str]


def _age(subject: Subject, keyring: KeyProvider, today: date) -> int | None:
    """The claimant's age, for the child consent rules; the date of birth is opened for this
    check only and goes nowhere else."""
    born = subjects.open_identity(subject, keyring, {"identity"}).get("date_of_birth")
    return rules.age_on(date.fromisoformat(born), today) if born else None


def record_consent(ctx: RequestContext, subject_id: uuid.UUID,
                   data: dict[str, Any]) -> ConsentWithHistory:
    subject, _facts = steps.subject_in_case(ctx, subject_id)
    form = ctx.forms.get(data["form_id"], data["form_version"])
    if form is None:
        raise ValidationError({"form_version": [
            f"No consent form {data['form_id']!r} version {data['form_version']}."]})
    history = subjects.subject_consents(ctx.session, subject.id)
    situation = consents.situation(jurisdiction=subject.jurisdiction,
                                   age=_age(subject, ctx.keyring, ctx.now.date()),
                                   pairs=history, now=ctx.now)
    consent = consents.record_consent(ctx.session, subject_id=subject.id,
                                      principal=ctx.principal, form=form,
                                      protocols=ctx.protocols, subject=situation,
                                      history=history, data=data, now=ctx.now)
    ctx.audit("consent:record:create", subject_id=subject.id, outcome="allow",
              categories=consent.categories, consent_id=consent.id,
              details={"decision": consent.decision, "given_by": consent.given_by_type,
                       "recipients": consent.recipients, "purposes": consent.purposes,
                       "form": f"{form.id}@{form.version}", "text_hash": consent.text_hash,
                       "method": consent.method, "verified": consent.verified,
                       "supersedes": str(consent.supersedes_id) if consent.supersedes_id
                       else None})
    ctx.commit()
    return consent, [], consents.status_of(consent, [], ctx.now, superseded=False)


def list_consents(ctx: RequestContext, subject_id: uuid.UUID) -> list[ConsentWithHistory]:
    subject, _facts = steps.subject_in_case(ctx, subject_id)
    pairs = subjects.subject_consents(ctx.session, subject.id)
    ctx.audit("consent:record:list", subject_id=subject.id, outcome="allow",
              details={"consents": [str(c.id) for c, _ in pairs]})
    ctx.commit()
    return consents.with_status(pairs, ctx.now)


def _consent_in_case(ctx: RequestContext, consent_id: uuid.UUID) -> tuple[
        Subject, ConsentWithHistory]:
    """The consent with its history and status, if the caller's organisation works with the
    claimant; otherwise 404 like any other probe (audited by subject_in_case)."""
    consent = ctx.session.get(Consent, consent_id)
    if consent is None:
        event = ctx.audit("access:consent:deny", outcome="deny", reasons=["no_such_consent"],
                          details={"consent_id": str(consent_id)})
        ctx.commit()
        raise NotFoundError("No such consent.", audit_id=event.event_uuid)
    subject, _facts = steps.subject_in_case(ctx, consent.subject_id)
    rows = consents.with_status(subjects.subject_consents(ctx.session, subject.id), ctx.now)
    return subject, next(row for row in rows if row[0].id == consent.id)


def withdraw_consent(ctx: RequestContext, consent_id: uuid.UUID,
                     data: dict[str, Any]) -> ConsentWithHistory:
    """Withdrawal is one action and takes effect for the very next request of any partner:
    the decision reads consents from the database on every request, nothing is cached."""
    subject, (consent, history, status) = _consent_in_case(ctx, consent_id)
    withdrawal = consents.withdraw(ctx.session, consent=consent, withdrawals=history,
                                   superseded=status == "superseded",
                                   principal=ctx.principal, channel=data["channel"],
                                   scope=data.get("scope"), reason=data.get("reason"),
                                   now=ctx.now)
    history = [*history, withdrawal]
    full = consents.is_fully_withdrawn(consent, history)
    notices = consents.notify_withdrawal(ctx.session, consent=consent, withdrawal=withdrawal,
                                         fully_withdrawn=full)
    ctx.session.flush()
    # Open referrals that relied on this consent are suspended in the same unit of work.
    suspended = referrals.suspend_where_basis_lost(ctx, subject.id)
    ctx.audit("consent:record:withdraw", subject_id=subject.id, outcome="allow",
              consent_id=consent.id, categories=withdrawal.scope.get("categories", []),
              details={"channel": withdrawal.channel, "scope": withdrawal.scope, "full": full,
                       "notified": [n.org_id for n in notices],
                       "referrals_suspended": [str(r) for r in suspended]})
    ctx.commit()
    return consent, history, consents.status_of(consent, history, ctx.now, superseded=False)


def export_consent(ctx: RequestContext, consent_id: uuid.UUID,
                   kind: str) -> tuple[ConsentWithHistory, ConsentForm | None]:
    """A consent for its receipt or FHIR export (`kind`), audited before it leaves."""
    subject, row = _consent_in_case(ctx, consent_id)
    consent = row[0]
    ctx.audit(f"consent:{kind}:export", subject_id=subject.id, outcome="allow",
              consent_id=consent.id, categories=consent.categories)
    ctx.commit()
    return row, ctx.forms.get(consent.form_id, consent.form_version)


def list_notifications(ctx: RequestContext) -> list[NotificationView]:
    """The caller's notifications: their organisation's, their role's and their own."""
    notices = notifications.list_for(ctx.session, _reader(ctx))
    ctx.audit("consent:notification:list", outcome="allow",
              details={"notifications": len(notices)})
    ctx.commit()
    return notices


def mark_notification_read(ctx: RequestContext, notification_id: uuid.UUID) -> None:
    notifications.mark_read(ctx.session, _reader(ctx), notification_id, now=ctx.now)
    ctx.audit("consent:notification:read", outcome="allow",
              details={"notification_id": str(notification_id)})
    ctx.commit()


def _reader(ctx: RequestContext) -> notifications.Reader:
    p = ctx.principal
    return notifications.Reader(p.actor_uuid, p.org, p.roles)


def expiring_consents(ctx: RequestContext, days: int) -> list[
        tuple[Consent, list[ConsentWithdrawal], str, str]]:
    """Consents ending within `days` on cases the caller's organisation leads (to renew)."""
    rows = consents.expiring(ctx.session, now=ctx.now, days=days, lead_org=ctx.principal.org)
    ctx.audit("consent:record:expiring", outcome="allow",
              details={"days": days, "consents": [str(r[0].id) for r in rows]})
    ctx.commit()
    return rows
