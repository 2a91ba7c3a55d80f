"""Consent records: record, list, withdraw and export them, and those about to expire."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date
from typing import Any

from caseshare.access import guards, referrals
from caseshare.access.context import RequestContext
from caseshare.audit.event_types import EventType
from caseshare.consent import rules, views
from caseshare.consent import service as consents
from caseshare.consent.forms import ConsentForm
from caseshare.consent.models import Consent, ConsentWithdrawal
from caseshare.consent.views import ConsentView
from caseshare.crypto.keyring import KeyProvider
from caseshare.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
from caseshare.reasons import Reason
from caseshare.subjects import renewals
from caseshare.subjects import service as subjects
from caseshare.subjects.models import Subject
from caseshare.uk_time import uk_today

ConsentWithHistory = tuple[Consent, list[ConsentWithdrawal], str]


def _view_for(ctx: RequestContext, subject: Subject, row: ConsentWithHistory,
              superseded: bool) -> ConsentView | None:
    """What the caller's organisation may see of one consent version, or None (not at all)."""
    consent, withdrawals, status = row
    seen = views.audience(consent, ctx.principal.org, subject.lead_org_id)
    if seen == "whole":
        opened = consents.open_fields(consent, withdrawals,
                                      subjects.data_key(subject, ctx.keyring))
        view = views.whole_view(consent, withdrawals, status, opened)
    elif seen == "recipient":
        view = views.recipient_view(consent, withdrawals, superseded=superseded,
                                    org=ctx.principal.org, protocols=ctx.protocols, now=ctx.now)
    else:
        return None
    return replace(view, lead_org=subject.lead_org_id)


def _check_partnership(ctx: RequestContext, form: ConsentForm) -> None:
    """A form is recorded on only by a party to one of its protocols: another partnership's
    form would name that partnership's organisations (and, once they are named, show them the
    claimant) under an agreement the recorder is not part of."""
    own = {p.id for p in ctx.protocols.for_party(ctx.principal.org)}
    if form.protocols and not own & set(form.protocols):
        mine = ctx.forms.current_for(ctx.principal.org)
        use = f" Use {mine.id!r}." if mine is not None else ""
        raise ValidationError({"form_id": [
            f"Form {form.id!r} belongs to a partnership your organisation is not part of.{use}"]})


def record_consent(ctx: RequestContext, subject_id: uuid.UUID,
                   data: dict[str, Any]) -> ConsentView:
    subject, _facts = guards.subject_in_case(ctx, subject_id)
    form = ctx.forms.get(data["form_id"], data["form_version"])
    if form is None:
        raise ValidationError({"form_version": [
            f"No consent form {data['form_id']!r} version {data['form_version']}."]})
    if (retired := ctx.forms.retirement(form.id)) is not None:
        raise ValidationError({"form_id": [
            f"Form {form.id!r} is retired and takes no new consent: {retired.reason} "
            f"Use {' or '.join(retired.replaced_by) or 'another form'}."]})
    _check_partnership(ctx, form)
    history = subjects.subject_consents(ctx.session, subject.id)
    situation = consents.situation(jurisdiction=subject.jurisdiction,
                                   age=_age(subject, ctx.keyring, uk_today(ctx.now)),
                                   pairs=history, now=ctx.now, protocols=ctx.protocols)
    consent = consents.record_consent(ctx.session, subject_id=subject.id,
                                      principal=ctx.principal, form=form,
                                      protocols=ctx.protocols, subject=situation,
                                      history=history, data=data,
                                      data_key=subjects.data_key(subject, ctx.keyring),
                                      dek_version=subject.dek_version, now=ctx.now)
    regranted = rules.regranted_after_withdrawal(data, situation)
    notices = consents.notify_regrant(ctx.session, consent=consent, lead_org=subject.lead_org_id,
                                      recipients=regranted, now=ctx.now) if regranted else []
    ctx.audit(EventType.CONSENT_RECORD_CREATE, subject_id=subject.id, outcome="allow",
              categories=consent.categories, consent_id=consent.id,
              details={"decision": consent.decision, "given_by": consent.given_by_type,
                       "recipients": consent.recipients, "purposes": consent.purposes,
                       "form": f"{form.id}@{form.version}", "text_hash": consent.text_hash,
                       "method": consent.method, "verified": consent.verified,
                       "explicit_statement_sha256": consent.explicit_statement_sha256,
                       "regranted_after_withdrawal": regranted,
                       "notified": [f"{n.org_id}:{n.role or 'org'}" for n in notices],
                       "supersedes": str(consent.supersedes_id) if consent.supersedes_id
                       else None})
    status = consents.status_of(consent, [], ctx.now, superseded=False)
    opened = consents.open_fields(consent, [], subjects.data_key(subject, ctx.keyring))
    return views.whole_view(consent, [], status, opened)


def list_consents(ctx: RequestContext, subject_id: uuid.UUID) -> list[ConsentView]:
    """The consent versions the caller's organisation may see, each as much as it may see:
    whole for the recorder and the lead organisation, the parts naming it for a recipient,
    nothing of a consent that does not name it."""
    subject, _facts = guards.subject_in_case(ctx, subject_id)
    pairs = subjects.subject_consents(ctx.session, subject.id)
    superseded = consents.superseded_ids(pairs)
    shown = [v for row in consents.with_status(pairs, ctx.now)
             if (v := _view_for(ctx, subject, row, row[0].id in superseded)) is not None]
    ctx.audit(EventType.CONSENT_RECORD_LIST, subject_id=subject.id, outcome="allow",
              details={"consents": [str(v.id) for v in shown],
                       "views": {str(v.id): v.audience for v in shown},
                       "not_shown": len(pairs) - len(shown)})
    return shown


def _no_such_consent(ctx: RequestContext, consent_id: uuid.UUID, reason: str,
                     subject_id: uuid.UUID | None = None) -> NotFoundError:
    """The one answer for a consent id the caller may not see, whatever the reason: the same
    as for an id that does not exist (the audit event records the real reason)."""
    event = ctx.audit_refusal(EventType.ACCESS_CONSENT_DENY, subject_id=subject_id,
                              reasons=[reason],
                              details={"consent_id": str(consent_id)})
    return NotFoundError("No such consent.", audit_id=event.event_uuid)


def _consent_in_case(ctx: RequestContext, consent_id: uuid.UUID) -> tuple[
        Subject, ConsentWithHistory, ConsentView]:
    """The consent with its history, status and the caller's view of it, if the caller's
    organisation may see it; otherwise 404 "No such consent", as for an id that does not exist
    (audited)."""
    consent = ctx.session.get(Consent, consent_id)
    if consent is None:
        raise _no_such_consent(ctx, consent_id, "no_such_consent")
    try:
        subject, _facts = guards.subject_in_case(ctx, consent.subject_id)  # erased: 410
    except NotFoundError as exc:
        # No relationship with the claimant (audited by subject_in_case): answered like an id
        # that does not exist, so consent ids cannot be probed either.
        raise NotFoundError("No such consent.", **exc.extra) from None
    pairs = subjects.subject_consents(ctx.session, subject.id)
    superseded = consents.superseded_ids(pairs)
    row = next(r for r in consents.with_status(pairs, ctx.now) if r[0].id == consent.id)
    view = _view_for(ctx, subject, row, consent.id in superseded)
    if view is None:
        raise _no_such_consent(ctx, consent_id, "consent_not_visible", subject.id)
    return subject, row, view


def withdraw_consent(ctx: RequestContext, consent_id: uuid.UUID,
                     data: dict[str, Any]) -> ConsentView:
    """Withdrawal is one action and takes effect for the very next request of any partner:
    the decision reads consents from the database on every request, nothing is cached."""
    subject, (consent, history, status), view = _consent_in_case(ctx, consent_id)
    scope, within = data.get("scope"), None
    if view.audience == "recipient":
        scope, within = _recipient_withdrawal(ctx, subject, consent, view, scope)
    withdrawal = consents.withdraw(ctx.session, consent=consent, withdrawals=history,
                                   superseded=status == "superseded",
                                   principal=ctx.principal, channel=data["channel"],
                                   scope=scope, reason=data.get("reason"),
                                   data_key=subjects.data_key(subject, ctx.keyring),
                                   dek_version=subject.dek_version, now=ctx.now, within=within)
    history = [*history, withdrawal]
    full = consents.is_fully_withdrawn(consent, history)
    notices = consents.notify_withdrawal(ctx.session, consent=consent, withdrawal=withdrawal,
                                         fully_withdrawn=full)
    ctx.session.flush()
    # Open referrals that relied on this consent are suspended in the same unit of work.
    suspended = referrals.suspend_where_basis_lost(ctx, subject.id)
    ctx.audit(EventType.CONSENT_RECORD_WITHDRAW, subject_id=subject.id, outcome="allow",
              consent_id=consent.id, categories=withdrawal.scope.get("categories", []),
              details={"channel": withdrawal.channel, "scope": withdrawal.scope, "full": full,
                       "notified": [n.org_id for n in notices],
                       "referrals_suspended": [str(r) for r in suspended]})
    row = (consent, history, consents.status_of(consent, history, ctx.now, superseded=False))
    after = _view_for(ctx, subject, row, superseded=False)
    if after is None:  # cannot happen: seen a moment ago in the same unit of work
        raise NotFoundError("No such consent.")
    return after


def _recipient_withdrawal(ctx: RequestContext, subject: Subject, consent: Consent,
                          view: ConsentView, scope: dict[str, list[str]] | None) -> tuple[
        dict[str, list[str]], dict[str, list[str]]]:
    """A named recipient records the claimant's withdrawal of the part that reaches it, and
    only that: the scope's recipients become [itself] (no scope: everything that reaches it),
    purposes and categories may narrow it within its view. A scope naming any other
    organisation is refused with one answer whether or not that organisation is in the
    consent (audited, nothing written); the lead organisation records withdrawals for others.
    Returns the scope to record and the codes the recipient may name."""
    org = ctx.principal.org
    if others := rules.others_named(scope, org):
        event = ctx.audit_refusal(EventType.CONSENT_RECORD_WITHDRAW, subject_id=subject.id,
                                  consent_id=consent.id,
                                  reasons=[str(Reason.WITHDRAWAL_SCOPE_NOT_YOURS)],
                                  details={"view": "recipient", "requested_recipients": others})
        raise ForbiddenError(
            "Your organisation can record a withdrawal only of what is shared with it. Ask "
            "the claimant's lead organisation to record a withdrawal for other organisations.",
            reasons=[Reason.WITHDRAWAL_SCOPE_NOT_YOURS], audit_id=event.event_uuid)
    if view.status == "withdrawn":
        raise ConflictError("What this consent shares with your organisation has already been "
                            "withdrawn.")
    within = {"recipients": [org], "purposes": view.purposes, "categories": view.categories}
    return rules.recipient_scope(scope, org), within


_EXPORTS = {"receipt": EventType.CONSENT_RECEIPT_EXPORT, "fhir": EventType.CONSENT_FHIR_EXPORT}


def export_consent(ctx: RequestContext, consent_id: uuid.UUID,
                   kind: str) -> tuple[ConsentView, ConsentForm | None]:
    """A consent for its receipt or FHIR export (`kind`: `receipt` or `fhir`), as much of it as
    the caller may see, audited before it leaves."""
    subject, (consent, _ws, _status), view = _consent_in_case(ctx, consent_id)
    ctx.audit(_EXPORTS[kind], subject_id=subject.id, outcome="allow",
              consent_id=consent.id, categories=view.categories,
              details={"view": view.audience})
    return view, ctx.forms.get(consent.form_id, consent.form_version)


def expiring_consents(ctx: RequestContext, days: int) -> list[
        tuple[Consent, list[ConsentWithdrawal], str, str]]:
    """Consents ending within `days` on cases the caller's organisation leads (to renew)."""
    rows = renewals.expiring_consents(ctx.session, now=ctx.now, days=days,
                                      lead_org=ctx.principal.org)
    ctx.audit(EventType.CONSENT_RECORD_EXPIRING, outcome="allow",
              details={"days": days, "consents": [str(r[0].id) for r in rows]})
    return rows


def _age(subject: Subject, keyring: KeyProvider, today: date) -> int | None:
    """The claimant's age, for the child consent rules; the date of birth is opened for this
    check only and goes nowhere else."""
    born = subjects.open_identity(subject, keyring, {"identity"}).get("date_of_birth")
    return rules.age_on(date.fromisoformat(born), today) if born else None

