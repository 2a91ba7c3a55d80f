"""Use case: "who has seen my information", a report a front-line worker can print and hand to
the claimant, from the audit log.

Who may run it: someone whose organisation works with the claimant (a case member, not merely
named in a consent), under the purpose of their current work; the run is audited (allow or
deny), and the request's unit of work commits that before anything leaves.

What it shows: each organisation that saw the claimant's information, with the role of the
person (never their name), the day, the purpose and the kinds of information, grouped by day,
organisation, role and purpose. Emergency (break-glass) access is marked.

Decisions, and why:
- Staff names are left out. The claimant is entitled to know the recipients of their data
  (UK GDPR Art. 15(1)(c)), which are organisations; naming individual staff on a paper that
  leaves the building puts front-desk and treatment staff at risk, and the full record with
  names remains available to an IG officer through a subject access request.
- Only the kinds of information the caller may themselves read for their purpose are listed.
  Otherwise the report would tell, say, a Citizens Advice adviser that a treatment provider
  read "drug and alcohol treatment" information, which is exactly what the claimant's consent
  keeps from them. Accesses that involved only other kinds are left out, and the report always
  says (whether or not any were left out, so it is no oracle) that a complete report can be
  asked for as a subject access request.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from caseshare.access import guards
from caseshare.access.context import RequestContext
from caseshare.audit import queries
from caseshare.audit.event_types import EventType
from caseshare.audit.scope import AuditScope, EventView
from caseshare.reasons import Reason
from caseshare.uk_time import UK

REPORT_EVENT = EventType.ACCESS_REPORT_WHO_HAS_SEEN
# Events in which information about the claimant reached someone (reads, exports, emergency
# access). Writes, searches that matched nothing and refusals are not "seeing".
SEEN_TYPES = frozenset({
    EventType.SUBJECT_IDENTITY_READ, EventType.CASE_PLAN_PLAN_READ,
    EventType.CASE_PLAN_ENTRY_HISTORY,
    EventType.REFERRAL_REFERRAL_READ, EventType.REFERRAL_REFERRAL_ACCEPT,
    EventType.CONSENT_RECEIPT_EXPORT, EventType.CONSENT_FHIR_EXPORT,
    EventType.ACCESS_OVERRIDE_GRANT,
    EventType.ACCESS_OVERRIDE_READ,
})


@dataclass(frozen=True)
class Access:
    day: date  # in UK time, as the claimant reads it
    org: str
    role: str | None
    purpose: str | None
    categories: tuple[str, ...]
    emergency: bool
    times: int


@dataclass(frozen=True)
class Report:
    subject_id: uuid.UUID
    accesses: list[Access]
    generated_at: datetime
    by_org: str


def who_has_seen(ctx: RequestContext, subject_id: uuid.UUID, *, language: str) -> Report:
    subject, facts = guards.subject_in_case(ctx, subject_id)
    if ctx.principal.org not in facts.case_orgs:
        guards.deny(ctx, REPORT_EVENT, subject.id, [Reason.NO_CASE_RELATIONSHIP], [])
    readable = frozenset(guards.decide(ctx, facts, "read", None).permitted)
    # The same visibility rule as the IG officer's (caseshare.audit.scope): accesses recorded
    # under a protocol the caller's organisation is party to, or by its own staff.
    scope = AuditScope.build(ctx.principal.org, ctx.protocols.for_party(ctx.principal.org),
                             codes=ctx.protocols.categories)
    history = queries.subject_access_history(ctx.session, subject_id=subject.id, scope=scope)
    accesses = summarise([e for e in history if e.decision == "allow"
                          and e.type in SEEN_TYPES], readable)
    ctx.audit(REPORT_EVENT, subject_id=subject.id, outcome="allow",
              categories=sorted(readable),
              details={"accesses": len(accesses), "language": language})
    return Report(subject_id=subject.id, accesses=accesses, generated_at=ctx.now,
                  by_org=ctx.principal.org)


def summarise(events: list[EventView], readable: frozenset[str]) -> list[Access]:
    """One line per UK day, organisation, role and purpose, newest first, with the union of the
    kinds of information (only those in `readable`) and whether any was emergency access."""
    groups: dict[tuple[date, str, str | None, str | None], list[EventView]] = {}
    for event in events:
        shown = readable.intersection(event.categories)
        if not shown or event.org is None:
            continue
        day = event.occurred_at.astimezone(UK).date()
        groups.setdefault((day, event.org, event.role, event.purpose), []).append(event)
    lines = [
        Access(day=day, org=org, role=role, purpose=purpose,
               categories=tuple(sorted({c for e in found for c in e.categories
                                        if c in readable})),
               emergency=any(e.override_id is not None for e in found),
               times=len(found))
        for (day, org, role, purpose), found in groups.items()
    ]
    return sorted(lines, key=lambda a: (a.day, a.org, a.role or "", a.purpose or ""),
                  reverse=True)

