"""Who contributed to an outcome, and each one's share of it.

An outcome-based payment is apportioned among the organisations that did the work: the one that
recorded the outcome, those owning plan entries or support records of the outcome's category
for the claimant, and those up the referral chain that brought the claimant to any of them (a
referral's sender counts when its receiver contributed; declined and withdrawn referrals brought
no one). Shares are equal and sum to exactly 1 (four decimal places, as stored): the rounding
remainder goes to the recording organisation, so the total never drifts.

`contributors` and `shares` are pure over plain inputs (unit-tested); `attribute` gathers those
inputs with three small queries and writes the attribution rows for one outcome.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from caseshare.case_plan.models import PlanEntry, Referral
from caseshare.outcomes.models import Outcome, OutcomeAttribution
from caseshare.support_records.models import SupportRecord

# Referrals that never brought the claimant anywhere do not earn a share.
NOT_CONTRIBUTING_REFERRALS = ("declined", "withdrawn")
SHARE_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class Share:
    """One organisation's part in an outcome and why it counts."""

    org: str
    basis: str  # recorded | entry_owner | referral
    share: Decimal


def contributors(recorded_org: str, owners: Iterable[str],
                 referrals: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Each contributing organisation with its basis (the first that applies, in the order
    recorded, entry_owner, referral). `referrals` are (from_org, to_org) pairs."""
    found: dict[str, str] = {recorded_org: "recorded"}
    for org in sorted(set(owners)):
        found.setdefault(org, "entry_owner")
    pairs = sorted(set(referrals))
    grew = True
    while grew:  # walk up the chain until no sender is new (chains are short)
        grew = False
        for sender, receiver in pairs:
            if receiver in found and sender not in found:
                found[sender] = "referral"
                grew = True
    return found


def shares(recorded_org: str, owners: Iterable[str],
           referrals: Iterable[tuple[str, str]]) -> list[Share]:
    """Equal shares for every contributor, summing to exactly 1 (recording org first)."""
    found = contributors(recorded_org, owners, referrals)
    each = (Decimal(1) / len(found)).quantize(SHARE_PLACES, rounding=ROUND_DOWN)
    remainder = Decimal(1) - each * len(found)
    return [Share(org, basis, each + (remainder if org == recorded_org else 0))
            for org, basis in found.items()]


def attribution_inputs(session: Session,
                       outcome: Outcome) -> tuple[set[str], list[tuple[str, str]]]:
    """The owners of plan entries and support records of the outcome's category for its
    subject, and the subject's contributing referrals as (from_org, to_org)."""
    owners = set(session.scalars(select(PlanEntry.owner_org).where(
        PlanEntry.subject_id == outcome.subject_id, PlanEntry.category == outcome.category)))
    owners |= set(session.scalars(select(SupportRecord.created_org).where(
        SupportRecord.subject_id == outcome.subject_id,
        SupportRecord.category == outcome.category)))
    rows = session.execute(select(Referral.from_org, Referral.to_org).where(
        Referral.subject_id == outcome.subject_id,
        Referral.status.not_in(NOT_CONTRIBUTING_REFERRALS)))
    return owners, [(f, t) for f, t in rows]


def attribute(session: Session, outcome: Outcome) -> list[OutcomeAttribution]:
    """Write the outcome's attribution rows (flushed, not committed): once per outcome, right
    after it is recorded (typed by a worker or computed by the system)."""
    owners, referrals = attribution_inputs(session, outcome)
    rows = [OutcomeAttribution(outcome_id=outcome.id, org=s.org, basis=s.basis, share=s.share)
            for s in shares(outcome.recorded_org, owners, referrals)]
    session.add_all(rows)
    session.flush()
    return rows
