"""The shared steps of the access path: relationship, decision, write authorisation, denial."""

from __future__ import annotations

import uuid
from typing import Any

from caseshare.access.context import RequestContext
from caseshare.access.decision import Decision, evaluate
from caseshare.access.disclosure import Disclosure
from caseshare.audit.event_types import EventType
from caseshare.cases import service as cases
from caseshare.errors import ForbiddenError, NotFoundError, ValidationError
from caseshare.facts import SubjectFacts
from caseshare.reasons import Reason
from caseshare.subjects import service as subjects
from caseshare.subjects.models import Subject


def subject_in_case(ctx: RequestContext, subject_id: uuid.UUID) -> tuple[Subject, SubjectFacts]:
    """The subject, if the caller's organisation has a relationship with it; otherwise 404, so
    ids cannot be probed. The attempt is audited either way."""
    return _in_case(ctx, subject_id, subjects.find_subject_with_facts(ctx.session, subject_id))


def _in_case(ctx: RequestContext, subject_id: uuid.UUID,
             found: tuple[Subject, SubjectFacts] | None) -> tuple[Subject, SubjectFacts]:
    if found is None or not _related(ctx, found[1]):
        event = ctx.audit_refusal(EventType.ACCESS_SUBJECT_DENY, subject_id=subject_id,
                                  reasons=["no_case_relationship"])
        raise NotFoundError("No such claimant.", audit_id=event.event_uuid)
    subject, facts = found
    # The shred register counts too: a restored earlier database may still hold the data key.
    if facts.erased or subjects.is_erased(subject, ctx.keyring):
        ctx.audit_refusal(EventType.ACCESS_SUBJECT_DENY, subject_id=subject_id,
                          reasons=["subject_erased"])
        raise subjects.SubjectErasedError()
    return subject, facts


def _related(ctx: RequestContext, facts: SubjectFacts) -> bool:
    return related_org(ctx.principal.org, facts)


def related_org(org: str, facts: SubjectFacts) -> bool:
    """The relationship rule, the same for every role and purpose (IG officers under `audit` or
    `subject_access` included): a case member (an accepted referral makes one) or an
    organisation named in a consent."""
    return org in facts.case_orgs or subjects.named_in_consent(facts, org)


def decide(ctx: RequestContext, facts: SubjectFacts, action: str,
            categories: list[str] | None) -> Decision:
    wanted = categories if categories else sorted(ctx.protocols.categories)
    return evaluate(ctx.principal, ctx.purpose, action, wanted, facts, ctx.protocols, ctx.now)


def authorise_write(ctx: RequestContext, subject_id: uuid.UUID | None, facts: SubjectFacts,
                     categories: list[str]) -> Decision:
    unknown = sorted({c for c in categories if c not in ctx.protocols.categories})
    if unknown:
        raise ValidationError({"category": [f"Unknown category: {', '.join(unknown)}."]})
    decision = decide(ctx, facts, "write", sorted(set(categories)) or ["identity"])
    if not decision.allowed:
        deny(ctx, EventType.ACCESS_WRITE_DENY, subject_id, decision.reasons,
              sorted(decision.withheld), decision)
    if subject_id is not None and cases.is_closed(ctx.session, subject_id):
        # A closed case is read-only until a case member reopens it (access/cases.py).
        deny(ctx, EventType.ACCESS_WRITE_DENY, subject_id, [str(Reason.CASE_CLOSED)],
             sorted(set(categories)), decision)
    return decision


def check_owner(ctx: RequestContext, facts: SubjectFacts, values: dict[str, Any]) -> None:
    owner = values.get("owner_org")
    if owner is not None and owner not in facts.case_orgs:
        raise ValidationError({"owner_org": ["Must be an organisation involved in this case."]})


def audit_read(ctx: RequestContext, type: EventType, subject_id: uuid.UUID, decision: Decision,
                disclosure: Disclosure) -> None:
    permitted = sorted(decision.permitted)
    if permitted:
        ctx.audit(type, subject_id=subject_id, decision=decision, outcome="allow",
                  categories=permitted, reasons=[],
                  details={"entries": [str(e.id) for e in disclosure.entries]})
    if disclosure.withheld:
        ctx.audit(type, subject_id=subject_id, decision=decision, outcome="deny",
                  categories=[w["category"] for w in disclosure.withheld],
                  details={"withheld": disclosure.withheld})


def deny(ctx: RequestContext, type: EventType, subject_id: uuid.UUID | None, reasons: list[str],
          categories: list[str], decision: Decision | None = None) -> None:
    event = ctx.audit_refusal(type, subject_id=subject_id, decision=decision,
                              categories=categories, reasons=reasons)
    raise ForbiddenError("Access denied.", reasons=reasons, audit_id=event.event_uuid)
