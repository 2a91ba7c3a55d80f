"""The information-governance officer's path into the audit log.

Only the `ig_officer` role, under the reserved `audit` purpose, reads the log; anyone else is
refused with reasons, and the refusal is audited (so is an IG officer whose organisation is party
to no protocol in force). An IG officer sees an event when their organisation is party to the
protocol it was recorded under, or when the actor is their own staff; categories outside their
organisation's reach under that protocol are redacted (caseshare.audit.scope). Every look at the
log is itself an audit event, committed before the answer leaves.

The access report for one claimant needs the same relationship as any claimant read (case member,
accepted referral, named in a consent); for any other claimant it is a 404 like every probe. The
IG officer can still find their own staff's events about such a claimant with the event search.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from caseshare.access import guards
from caseshare.access.context import RequestContext
from caseshare.audit import queries, unusual
from caseshare.audit.event_types import EventType
from caseshare.audit.models import Checkpoint
from caseshare.audit.scope import AuditScope, EventView
from caseshare.errors import ValidationError
from caseshare.identity.service import staff_names
from caseshare.policy.models import usable_protocols
from caseshare.reasons import Reason
from caseshare.subjects.relationships import case_relationships

AUDIT_PURPOSE = "audit"


def audit_scope(ctx: RequestContext, subject_id: uuid.UUID | None = None,
                purpose: str = AUDIT_PURPOSE) -> AuditScope:
    """Which events this caller may read and what of them, or a 403 (audited) saying why not.
    `purpose` is the reserved purpose the use case requires (`subject_access` for a SAR).
    `orgs` of the scope: every party to the protocols in force for the caller's organisation."""
    if "ig_officer" not in ctx.principal.roles or ctx.purpose != purpose:
        guards.deny(ctx, EventType.ACCESS_AUDIT_DENY, subject_id,
                   [Reason.ROLE_NOT_GRANTED.value], [])
    usable, why = usable_protocols(ctx.principal.org, ctx.protocols, ctx.now)
    if not usable:
        guards.deny(ctx, EventType.ACCESS_AUDIT_DENY, subject_id,
                   sorted({str(r) for r in why}) or [Reason.NOT_PARTY_TO_PROTOCOL.value], [])
    return AuditScope.build(
        ctx.principal.org, ctx.protocols.for_party(ctx.principal.org),
        codes=ctx.protocols.categories,
        orgs=(party.id for protocol in usable for party in protocol.parties))


def search_events(ctx: RequestContext, filters: queries.EventFilter, cursor: str | None,
                  limit: int) -> tuple[list[EventView], str | None]:
    scope = audit_scope(ctx, filters.subject_id)
    found, next_cursor = queries.find_events(ctx.session, scope=scope, filters=filters,
                                             cursor=cursor, limit=limit)
    ctx.audit(EventType.AUDIT_EVENTS_QUERY, subject_id=filters.subject_id, outcome="allow",
              details={"filters": filters.as_details(), "returned": len(found),
                       "protocols": sorted(scope.protocols), "page": cursor is not None})
    return found, next_cursor


def access_report(ctx: RequestContext, subject_id: uuid.UUID) -> tuple[list[EventView],
                                                                         dict[str, str]]:
    """Every allowed and denied access to a related claimant's data that this IG officer sees
    (404 for a claimant their organisation has no relationship with, as for any read)."""
    scope = audit_scope(ctx, subject_id)
    subject, _facts = guards.subject_in_case(ctx, subject_id)
    history = queries.subject_access_history(ctx.session, subject_id=subject.id, scope=scope)
    names = staff_names(ctx.session, (e.actor for e in history))
    ctx.audit(EventType.AUDIT_REPORT_ACCESS, subject_id=subject.id, outcome="allow",
              details={"events": len(history), "protocols": sorted(scope.protocols)})
    return history, names


def latest_checkpoint(ctx: RequestContext) -> Checkpoint:
    audit_scope(ctx)
    checkpoint = queries.get_latest_checkpoint(ctx.session)
    ctx.audit(EventType.AUDIT_CHECKPOINT_READ, outcome="allow",
              details={"tree_size": checkpoint.tree_size})
    return checkpoint


def inclusion_proof(ctx: RequestContext, index: int,
                    tree_size: int | None) -> queries.InclusionProof:
    """The proof carries hashes only (no event fields), so it is served for any index: the
    officer learns nothing of an event they may not see beyond its leaf hash."""
    audit_scope(ctx)
    proof = queries.inclusion_proof(ctx.session, index=index, tree_size=tree_size)
    ctx.audit(EventType.AUDIT_PROOF_INCLUSION, outcome="allow",
              details={"leaf_index": index, "tree_size": proof.tree_size})
    return proof


def consistency_proof(ctx: RequestContext, first: int, second: int) -> queries.ConsistencyProof:
    audit_scope(ctx)
    proof = queries.consistency_proof(ctx.session, first=first, second=second)
    ctx.audit(EventType.AUDIT_PROOF_CONSISTENCY, outcome="allow",
              details={"first": first, "second": second})
    return proof


UNUSUAL_DEFAULT_RANGE = timedelta(days=7)
UNUSUAL_MAX_RANGE = timedelta(days=92)


@dataclass(frozen=True)
class UnusualAccessReport:
    from_: datetime
    to: datetime
    generated_at: datetime
    thresholds: unusual.Thresholds
    rules: tuple[str, ...]
    findings: list[unusual.Finding]
    names: dict[str, str]  # staff id -> name, for the findings' actors

    def actor_name(self, finding: unusual.Finding) -> str | None:
        return self.names.get(finding.actor or "")


def unusual_access(ctx: RequestContext, thresholds: unusual.Thresholds,
                   from_: datetime | None = None, to: datetime | None = None,
                   rules: tuple[str, ...] = unusual.RULES) -> UnusualAccessReport:
    """Findings of the unusual access rules (caseshare.audit.unusual) over the events this IG
    officer may see, in [from_, to) (default: the 7 days up to and including now; at most 92
    days), audited."""
    scope = audit_scope(ctx)
    up_to_now = to is None
    to = to or ctx.now
    from_ = from_ or to - UNUSUAL_DEFAULT_RANGE
    if to <= from_:
        raise ValidationError({"to": ["Must be after from."]})
    if to - from_ > UNUSUAL_MAX_RANGE:
        raise ValidationError({"from": [f"At most {UNUSUAL_MAX_RANGE.days} days before to."]})
    events = queries.events_for_review(ctx.session, scope=scope, from_=from_, to=to,
                                       up_to_now=up_to_now)
    relationships = case_relationships(ctx.session,
                                          (e.subject_id for e in events if e.subject_id))
    findings = unusual.detect(events, relationships, thresholds, rules)
    names = staff_names(ctx.session, (f.actor for f in findings))
    ctx.audit(EventType.AUDIT_REPORT_UNUSUAL_ACCESS, outcome="allow",
              details={"from": from_.isoformat(), "to": to.isoformat(), "rules": list(rules),
                       "thresholds": thresholds.as_details(),
                       "protocols": sorted(scope.protocols),
                       "events": len(events),
                       "findings": {rule: sum(f.rule == rule for f in findings)
                                    for rule in rules}})
    return UnusualAccessReport(from_, to, ctx.now, thresholds, rules, findings, names)
