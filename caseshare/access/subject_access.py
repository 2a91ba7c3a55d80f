"""Use case: a subject access request (UK GDPR Art 15) export for an IG officer.

Everything the partnership holds about a claimant, opened under the reserved `subject_access`
purpose: identity, the whole case plan (every category, each entry with its history),
referrals, every consent version with its withdrawals, proxies and evidence, break-glass
overrides with their justifications and reviews, and the disclosure log (who received what,
when and why, from the audit log).

Who may run it: an IG officer whose own organisation has a relationship with the claimant (case
member, accepted referral, or named in a consent), as for every claimant read; anyone else gets
the same audited 404 as a probe. The IG officer's reach is the records of every party to the
protocols in force for their organisation; records of other controllers in the case are not
opened, and the export names those controllers so the request can be passed on. The disclosure
log holds the audit events the officer may see (caseshare.audit.scope), redacted the same way.
This is the only use case that opens claimant data under a reserved purpose, through its own
decision (`decision.subject_access_decision`): the ordinary decision opens nothing under
`audit` or `subject_access`.

The export is one audit event naming the categories disclosed, committed before anything
leaves. An erased claimant's record says so and holds no plaintext: nothing sealed can be opened
any more, and consent records (kept in plain text) are not shown either.
"""

from __future__ import annotations

import uuid
from typing import Any

from caseshare.access import audit_trail, guards
from caseshare.access.context import RequestContext
from caseshare.access.decision import Decision, subject_access_decision
from caseshare.access.disclosure import disclose_entries
from caseshare.audit import queries
from caseshare.audit.event_types import EventType
from caseshare.audit.scope import AuditScope, EventView
from caseshare.case_plan import referrals
from caseshare.case_plan import service as plans
from caseshare.consent import service as consents
from caseshare.consent.models import Consent, ConsentWithdrawal
from caseshare.consent.views import OpenedFields
from caseshare.errors import NotFoundError
from caseshare.identity.service import staff_names
from caseshare.overrides import service as overrides
from caseshare.policy.models import usable_protocols
from caseshare.reasons import Reason
from caseshare.subjects import service as subjects
from caseshare.subjects.models import IDENTITY_FIELDS, Subject

SAR_PURPOSE = "subject_access"
EXPORT_EVENT = EventType.SUBJECT_SAR_EXPORT
FORMAT_VERSION = 1


def export_subject(ctx: RequestContext, subject_id: uuid.UUID,
                   format: str = "json") -> dict[str, Any]:
    """The SAR document for one claimant (see the module docstring), audited (the request's
    unit of work commits the event).
    `format` is recorded in the audit event (the caller may package the same document as a
    zip). Values are plain Python (str, int, bool, None, lists, dicts, UUIDs, datetimes)."""
    scope = audit_trail.audit_scope(ctx, subject_id, purpose=SAR_PURPOSE)
    reach = scope.orgs
    subject = _related_subject(ctx, subject_id)
    members = sorted(subjects.case_orgs(ctx.session, subject.id))
    disclosures = _disclosure_log(ctx, subject.id, scope)
    document: dict[str, Any] = {
        "format": "caseshare-subject-access-export", "format_version": FORMAT_VERSION,
        "subject_id": subject.id, "generated_at": ctx.now,
        "generated_by": {"actor": ctx.principal.actor_id, "org": ctx.principal.org,
                         "role": ctx.principal.role},
        "purpose": SAR_PURPOSE,
        "organisations_covered": sorted(reach),
        "other_controllers": [m for m in members if m not in reach],
        "status": "erased" if subject.erased_at or subjects.is_erased(subject, ctx.keyring)
                  else "active",
        "erased_at": subject.erased_at,
    }
    if document["status"] == "erased":
        document.update(record=None, case_plan=None, referrals=None, consents=None,
                        overrides=None, disclosures=disclosures)
        categories: list[str] = []
    else:
        facts = subjects.subject_facts(ctx.session, subject)
        decision = subject_access_decision(ctx.principal, ctx.purpose,
                                           sorted(ctx.protocols.categories), facts,
                                           ctx.protocols, ctx.now, sources=reach)
        key = subjects.data_key(subject, ctx.keyring)
        record, identity_categories = _record(ctx, subject, decision, members)
        plan, plan_categories = _case_plan(ctx, subject, decision, key)
        override_rows = _overrides(ctx, subject, reach, key)
        document.update(
            record=record, case_plan=plan,
            referrals=_referrals(ctx, subject, key),
            consents=_consents(ctx, subject, reach, key),
            overrides=override_rows, disclosures=disclosures)
        categories = sorted(set(identity_categories) | set(plan_categories)
                            | {c for o in override_rows for c in o["categories"]})
    counts = {name: len(document[name] or []) for name in
              ("referrals", "consents", "overrides", "disclosures")}
    counts["entries"] = len((document["case_plan"] or {}).get("entries", []))
    event = ctx.audit(EXPORT_EVENT, subject_id=subject.id, outcome="allow",
                      categories=categories,
                      details={"format": format, "status": document["status"],
                               "orgs": sorted(reach), "counts": counts})
    document["audit_event_id"] = event.event_uuid
    return document


def _related_subject(ctx: RequestContext, subject_id: uuid.UUID) -> Subject:
    """The claimant, if the IG officer's own organisation has a relationship with them (case
    member, accepted referral, named in a consent); otherwise 404 like any probe (audited).
    Unlike other reads, an erased claimant is not an error here."""
    subject = subjects.find_subject(ctx.session, subject_id)
    if subject is None or not guards.related_org(
            ctx.principal.org, subjects.subject_facts(ctx.session, subject)):
        event = ctx.audit_refusal(EventType.ACCESS_SUBJECT_DENY, subject_id=subject_id,
                                  reasons=[str(Reason.NO_CASE_RELATIONSHIP)])
        raise NotFoundError("No such claimant.", audit_id=event.event_uuid)
    return subject


def _record(ctx: RequestContext, subject: Subject, decision: Decision,
            members: list[str]) -> tuple[dict[str, Any], list[str]]:
    # Identity fields are the lead organisation's record, as for any read.
    permitted = {c for c, d in decision.permitted.items() if subject.lead_org_id in d.sources}
    identity = subjects.open_identity(subject, ctx.keyring, permitted)
    opened = sorted({IDENTITY_FIELDS[f] for f in identity})
    return {"id": subject.id, "jurisdiction": subject.jurisdiction,
            "lead_org": subject.lead_org_id, "created_at": subject.created_at,
            "case_members": members, "identity": identity}, opened


def _case_plan(ctx: RequestContext, subject: Subject, decision: Decision,
               key: bytes) -> tuple[dict[str, Any] | None, list[str]]:
    plan = plans.find_plan(ctx.session, subject.id)
    if plan is None:
        return None, []
    disclosure = disclose_entries(plans.entries_of(ctx.session, plan), decision, key)
    entries = []
    for entry, opened in zip(disclosure.entries, disclosure.items, strict=True):
        history = [plans.open_version(entry, v, key)
                   for v in plans.entry_history(ctx.session, entry)]
        entries.append({**opened, "owner_org": entry.owner_org,
                        "created_org": entry.created_org, "created_at": entry.created_at,
                        "history": history})
    return ({"id": plan.id, "lead_org": plan.lead_org_id, "created_at": plan.created_at,
             "entries": entries}, disclosure.categories)


def _referrals(ctx: RequestContext, subject: Subject, key: bytes) -> list[dict[str, Any]]:
    """Referrals made under a protocol the IG officer's organisation is party to (a referral
    to a treatment provider under a protocol they are not party to is not theirs to open)."""
    usable, _why = usable_protocols(ctx.principal.org, ctx.protocols, ctx.now)
    refs = {p.ref for p in usable}
    return [referrals.open_referral(r, key)
            for r in referrals.referrals_of(ctx.session, subject.id) if r.protocol in refs]


def _consents(ctx: RequestContext, subject: Subject, reach: frozenset[str],
              key: bytes) -> list[dict[str, Any]]:
    rows = consents.with_status(subjects.subject_consents(ctx.session, subject.id), ctx.now)
    return [_consent(c, ws, status, consents.open_fields(c, ws, key)) for c, ws, status in rows
            if c.captured_org in reach or set(c.recipients) & reach]


def _consent(c: Consent, withdrawals: list[ConsentWithdrawal], status: str,
             opened: OpenedFields) -> dict[str, Any]:
    return {
        "id": c.id, "status": status, "decision": c.decision, "supersedes": c.supersedes_id,
        "given_by": {"type": c.given_by_type, "name": opened.given_by_name,
                     "authority_ref": opened.authority_ref},
        "capacity": c.capacity, "competence": c.competence,
        "recipients": c.recipients, "purposes": c.purposes, "categories": c.categories,
        "excluded_categories": c.excluded_categories,
        "explicit_statement": opened.explicit_statement,
        "form": {"id": c.form_id, "version": c.form_version, "language": c.language,
                 "text_hash": c.text_hash},
        "evidence": {"method": c.method, "evidence_ref": opened.evidence_ref,
                     "verified": c.verified},
        "captured": {"by": c.captured_by, "org": c.captured_org, "at": c.captured_at},
        "valid_from": c.valid_from, "expires_at": c.expires_at, "expiry_rule": c.expiry_rule,
        "withdrawals": [{"withdrawn_at": w.withdrawn_at, "channel": w.channel,
                         "scope": w.scope, "reason": opened.reason(w.id),
                         "recorded_org": w.recorded_org}
                        for w in withdrawals],
    }


def _overrides(ctx: RequestContext, subject: Subject, reach: frozenset[str],
               key: bytes) -> list[dict[str, Any]]:
    rows = overrides.overrides_of_subject(ctx.session, subject_id=subject.id, orgs=reach)
    names = staff_names(ctx.session, [r.requested_by for r in rows]
                                + [r.reviewed_by for r in rows])
    return [{
        "id": r.id, "org": r.org_id, "requested_by": r.requested_by,
        "requested_by_name": names.get(r.requested_by), "role": r.role, "purpose": r.purpose,
        "route": r.route, "categories": r.categories, "protocol": r.protocol,
        "justification": overrides.open_justification(r, key),
        "starts_at": r.starts_at, "expires_at": r.expires_at,
        "review_due_at": r.review_due_at, "status": r.status,
        "reviewed_by": r.reviewed_by, "reviewed_by_name": names.get(r.reviewed_by or ""),
        "reviewed_at": r.reviewed_at, "review_note": overrides.open_review_note(r, key),
    } for r in rows]


def _disclosure_log(ctx: RequestContext, subject_id: uuid.UUID,
                    scope: AuditScope) -> list[dict[str, Any]]:
    """Who received what, when and why: every allowed access in the audit log that the IG
    officer may see (caseshare.audit.scope)."""
    events = [e for e in queries.subject_access_history(ctx.session, subject_id=subject_id,
                                                         scope=scope)
              if e.decision == "allow"]
    names = staff_names(ctx.session, (e.actor for e in events))
    return [_disclosure(e, names.get(e.actor or "")) for e in events]


def _disclosure(e: EventView, actor_name: str | None) -> dict[str, Any]:
    return {"index": e.seq, "event_id": e.event_uuid, "occurred_at": e.occurred_at,
            "type": e.type, "actor": e.actor, "actor_name": actor_name, "org": e.org,
            "role": e.role, "purpose": e.purpose, "categories": e.categories,
            "consent_id": e.consent_id, "protocol": e.protocol,
            "override_id": e.override_id}
