"""Recording and reading a claimant's outcomes, under the decision for each code's category.

An outcome reveals something about the claimant (an APA in place says they had rent trouble), so
it is written and read under the category its code names in the partnership's list
(partnerships/<protocol-id>/outcomes.yaml): recording needs a write grant of that category for
the claimant (and an open case); reading shows only the outcomes whose category the decision
permits and names the withheld categories. The evidence reference is sealed; it is opened only
for a reader permitted the category. Recording attributes the outcome (outcomes/attribution.py)
in the same unit of work, and both are audited.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

from caseshare.access import case_plans, guards
from caseshare.access.context import RequestContext
from caseshare.access.decision import Decision
from caseshare.audit.event_types import EventType
from caseshare.crypto.sealing import open_sealed
from caseshare.errors import ValidationError
from caseshare.outcomes import attribution
from caseshare.outcomes import service as outcomes
from caseshare.outcomes.codes import OutcomeCode
from caseshare.outcomes.models import Outcome, OutcomeAttribution
from caseshare.subjects import service as subjects


@dataclass(frozen=True)
class OutcomeView:
    """An outcome as a permitted reader sees it."""

    id: uuid.UUID
    code: str
    label: str | None
    category: str
    achieved_on: date
    service_line: str | None
    evidence_ref: str | None
    computed: bool
    recorded_org: str
    attribution: list[dict[str, Any]]


def codes_for(ctx: RequestContext) -> dict[str, OutcomeCode]:
    """The outcome codes of the partnerships the caller's organisation is party to."""
    return ctx.outcome_codes.for_protocols(p.id for p in ctx.protocols.for_party(ctx.principal.org))


def known_code(ctx: RequestContext, code: str) -> OutcomeCode:
    """The code's definition, or a 422 naming `code` (before anything is read or audited).
    Computed codes are the system's to record: typing one is refused the same way."""
    definition = codes_for(ctx).get(code)
    if definition is None:
        raise ValidationError({"code": [f"Unknown outcome code {code!r} for your partnership."]})
    if definition.computed:
        raise ValidationError({"code": [f"{code!r} is recorded by Caseshare from the "
                                        "claimant's records, not typed."]})
    return definition


def record_outcome(ctx: RequestContext, subject_id: uuid.UUID, values: dict[str, Any]
                   ) -> OutcomeView:
    """Record an outcome the caller may write (its code's category, an open case), attribute
    it, audit both as one event, and answer with it as the caller now reads it."""
    definition = known_code(ctx, values["code"])
    if values["achieved_on"] > ctx.now.date():
        raise ValidationError({"achieved_on": ["An outcome cannot be achieved in the future."]})
    subject, facts = guards.subject_in_case(ctx, subject_id)
    decision = guards.authorise_write(ctx, subject.id, facts, [definition.category])
    key = subjects.data_key(subject, ctx.keyring)
    outcome = outcomes.record_outcome(
        ctx.session, key, subject_id=subject.id, code=definition.code,
        category=definition.category, achieved_on=values["achieved_on"],
        org=ctx.principal.org, purpose=ctx.purpose, now=ctx.now,
        staff_id=ctx.principal.actor_uuid,
        service_line=values.get("service_line") or definition.service_line,
        evidence=values.get("evidence_ref"),
        own_record=case_plans.own_record(decision, definition.category))
    rows = attribution.attribute(ctx.session, outcome)
    ctx.audit(EventType.OUTCOMES_OUTCOME_RECORD, subject_id=subject.id, decision=decision,
              outcome="allow", categories=[definition.category],
              details={"outcome_id": str(outcome.id), "code": outcome.code,
                       "attributed_to": sorted(r.org for r in rows)})
    return _view(outcome, definition, rows, values.get("evidence_ref"))


def list_outcomes(ctx: RequestContext, subject_id: uuid.UUID
                  ) -> tuple[list[OutcomeView], list[dict[str, Any]]]:
    """The claimant's outcomes whose category the caller may read, and the withheld
    categories with their reasons (both audited)."""
    subject, facts = guards.subject_in_case(ctx, subject_id)
    rows = list(ctx.session.scalars(select(Outcome).where(Outcome.subject_id == subject.id)
                                    .order_by(Outcome.achieved_on, Outcome.code)))
    codes = codes_for(ctx)
    # Every category an outcome code can have is decided and, when withheld, listed, whether
    # or not the claimant has an outcome in it: naming only the categories with rows would say
    # which kinds of outcome they have.
    listable = {d.category for d in codes.values()}
    decision = guards.decide(ctx, facts, "read",
                             sorted(listable | {o.category for o in rows}) or None)
    permitted = [o for o in rows if may_read(o, decision)]
    withheld = [{"category": c, "reasons": list(d.reasons)} for c, d in
                sorted(decision.withheld.items()) if c in listable]
    shares = _attributions(ctx, [o.id for o in permitted])
    key = subjects.data_key(subject, ctx.keyring) if permitted else b""
    views = [_view(o, codes.get(o.code), shares.get(o.id, []),
                   open_sealed(key, outcomes.evidence_ref(o), o.evidence_ref)
                   if o.evidence_ref else None) for o in permitted]
    if permitted or not withheld:
        ctx.audit(EventType.OUTCOMES_OUTCOME_LIST, subject_id=subject.id, decision=decision,
                  outcome="allow", categories=sorted({o.category for o in permitted}),
                  details={"outcomes": [str(o.id) for o in permitted]})
    if withheld:
        ctx.audit(EventType.OUTCOMES_OUTCOME_LIST, subject_id=subject.id, decision=decision,
                  outcome="deny", categories=[str(w["category"]) for w in withheld],
                  details={"withheld": withheld})
    return views, withheld


def may_read(outcome: Outcome, decision: Decision) -> bool:
    """Whether the reader may see this outcome: its category is permitted and its recording
    organisation is one of the sources the decision lets them read that category from (the
    same rule as a support record's; an outcome another partner recorded reaches them only
    through a flow from that partner). An outcome recorded as its organisation's own record
    is for that organisation alone."""
    if outcome.own_record and decision.org is not None and outcome.recorded_org != decision.org:
        return False
    permitted = decision.permitted.get(outcome.category)
    return permitted is not None and outcome.recorded_org in permitted.sources


def _attributions(ctx: RequestContext, ids: list[uuid.UUID]
                  ) -> dict[uuid.UUID, list[OutcomeAttribution]]:
    found: dict[uuid.UUID, list[OutcomeAttribution]] = {}
    if ids:
        for row in ctx.session.scalars(select(OutcomeAttribution).where(
                OutcomeAttribution.outcome_id.in_(ids)).order_by(OutcomeAttribution.org)):
            found.setdefault(row.outcome_id, []).append(row)
    return found


def _view(outcome: Outcome, definition: OutcomeCode | None, rows: list[OutcomeAttribution],
          evidence: str | None) -> OutcomeView:
    return OutcomeView(
        id=outcome.id, code=outcome.code, label=definition.label if definition else None,
        category=outcome.category, achieved_on=outcome.achieved_on,
        service_line=outcome.service_line, evidence_ref=evidence, computed=outcome.computed,
        recorded_org=outcome.recorded_org,
        attribution=[{"org": r.org, "basis": r.basis, "share": float(r.share)} for r in rows])
