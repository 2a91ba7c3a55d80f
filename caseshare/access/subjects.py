"""Claimants: register, read and find them (use cases on the access path)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from caseshare.access import guards
from caseshare.access.context import RequestContext
from caseshare.audit.event_types import EventType
from caseshare.facts import SubjectFacts
from caseshare.reasons import Reason
from caseshare.subjects import service as subjects
from caseshare.subjects.models import IDENTITY_FIELDS, Subject

IDENTITY_CATEGORIES = sorted(set(IDENTITY_FIELDS.values()))


def register_subject(ctx: RequestContext, identity: dict[str, Any],
                     jurisdiction: str) -> tuple[Subject, dict[str, str]]:
    """Register a claimant; the caller's organisation becomes the lead case member."""
    # A new claimant has no facts yet beyond the caller's own case; the write decision is the
    # protocol layer (a grant to write identity data for this purpose).
    facts = SubjectFacts(subject_id=uuid.UUID(int=0), case_orgs=frozenset({ctx.principal.org}))
    decision = guards.authorise_write(ctx, None, facts, IDENTITY_CATEGORIES)
    subject = subjects.create_subject(ctx.session, keyring=ctx.keyring, principal=ctx.principal,
                                      now=ctx.now, identity=identity, jurisdiction=jurisdiction)
    ctx.audit(EventType.SUBJECT_RECORD_CREATE, subject_id=subject.id, decision=decision,
              outcome="allow",
              categories=IDENTITY_CATEGORIES)
    opened = subjects.open_identity(subject, ctx.keyring, set(IDENTITY_CATEGORIES))
    return subject, opened


def read_subject(ctx: RequestContext, subject_id: uuid.UUID) -> tuple[Subject, dict[str, str],
                                                                      list[dict[str, Any]]]:
    subject, facts = guards.subject_in_case(ctx, subject_id)
    decision = guards.decide(ctx, facts, "read", IDENTITY_CATEGORIES)
    # Identity fields are the lead organisation's record; others read them through a flow.
    permitted = {c for c, d in decision.permitted.items() if subject.lead_org_id in d.sources}
    opened = subjects.open_identity(subject, ctx.keyring, permitted)
    withheld: list[dict[str, Any]] = [
        {"category": c.category,
         "reasons": list(c.reasons) or [str(Reason.DIRECTION_NOT_PERMITTED)]}
        for c in decision.categories if c.category not in permitted
    ]
    if permitted:
        ctx.audit(EventType.SUBJECT_IDENTITY_READ, subject_id=subject.id, decision=decision,
                  outcome="allow", categories=sorted(permitted), reasons=[],
                  details={"fields": sorted(opened)})
    if withheld:
        ctx.audit(EventType.SUBJECT_IDENTITY_READ, subject_id=subject.id, decision=decision,
                  outcome="deny", categories=[w["category"] for w in withheld])
    return subject, opened, withheld


def find_by_nino(ctx: RequestContext, nino: str) -> list[Subject]:
    found = subjects.find_by_nino(ctx.session, keyring=ctx.keyring, nino=nino,
                                  org=ctx.principal.org)
    ctx.audit(EventType.SUBJECT_SEARCH_NINO, outcome="allow", details={"matches": len(found)})
    return found


def find_by_name_and_birth_date(ctx: RequestContext, *, family_name: str,
                                given_name: str | None, date_of_birth: date) -> list[Subject]:
    """Claimants the caller's organisation works with, by name and date of birth. Others are
    never matched, so an empty answer says nothing about claimants elsewhere. The audit event
    records that a search was made and how many matched, never the names searched for."""
    found = subjects.find_by_name_and_birth_date(
        ctx.session, keyring=ctx.keyring, org=ctx.principal.org, family_name=family_name,
        given_name=given_name, date_of_birth=date_of_birth.isoformat())
    ctx.audit(EventType.SUBJECT_SEARCH_NAME_DOB, outcome="allow",
              details={"matches": len(found), "given_name": bool(given_name)})
    return found
