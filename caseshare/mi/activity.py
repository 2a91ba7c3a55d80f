"""Counting the recorded work: activities by partner organisation in a period, from plain
columns only (nothing sealed is opened, so counting never discloses what a record says).

"Costs captured activity by activity, without burdening front-line staff with extra data entry":
every count here comes from work already recorded for the claimant's own sake.

- referral_accepted: a referral's `accepted` step (referral_events), by the accepting organisation;
- plan_entry_completed:<service line>: plan entries now done, last changed in the period, by
  the owning organisation and the entry's LSSF service line;
- assessment_completed: needs assessments completed, by the completing organisation;
- money_plan_agreed: money action plans recorded (support_records), by the writing organisation;
- outcomes by code: distinct claimants achieving the code in the period, recorded by the
  partnership's organisations (outcomes), and the attributed shares of those claimants by
  contributing organisation (outcome_attributions), for apportioning payments. Funding pays
  for claimants helped, not for rows typed: a claimant with the same outcome recorded on twelve
  days counts once (and is then suppressed like any count of one), so repeated recording can
  neither earn payments nor publish what MI, which counts claimants too, hides.

Periods are half-open UTC days: `first` included, `last` included, as dates.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Executable, func, null, select
from sqlalchemy.orm import Session

from caseshare.assessments.models import Assessment
from caseshare.case_plan.models import PlanEntry, ReferralEvent
from caseshare.outcomes.models import Outcome, OutcomeAttribution
from caseshare.support_records.models import SupportRecord

Key = tuple[str, str]  # (organisation, activity key or outcome code)


@dataclass(frozen=True)
class Period:
    first: date
    last: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time.min, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """The instant after the last day (exclusive)."""
        return datetime.combine(self.last + timedelta(days=1), time.min, tzinfo=UTC)


@dataclass(frozen=True)
class OutcomeShare:
    """One contributing organisation's share of one outcome (plain columns only)."""

    subject: uuid.UUID
    outcome: uuid.UUID
    code: str
    recorded_org: str
    org: str | None  # None: an outcome with no attribution recorded (counted, never shared)
    share: float


@dataclass(frozen=True)
class ActivityCounts:
    activities: dict[Key, int]  # (org, activity key) -> count
    outcome_shares: tuple[OutcomeShare, ...]  # every attribution of the period's outcomes

    @property
    def outcomes(self) -> dict[Key, int]:
        """(recording org, outcome code) -> distinct claimants."""
        claimants: dict[Key, set[uuid.UUID]] = defaultdict(set)
        for row in self.outcome_shares:
            claimants[(row.recorded_org, row.code)].add(row.subject)
        return {k: len(v) for k, v in claimants.items()}

    @property
    def shares(self) -> dict[Key, float]:
        """(contributing org, code) -> its shares of the claimants (every recording org)."""
        return self.shares_for(None)

    def shares_for(self, orgs: Collection[str] | None) -> dict[Key, float]:
        """(contributing org, code) -> the sum over claimants of the org's share of that
        claimant's outcomes of the code recorded by `orgs` (all when None): each claimant
        weighs 1 however many times the outcome was recorded, so a code's shares sum to its
        count of claimants."""
        rows = [r for r in self.outcome_shares if orgs is None or r.recorded_org in orgs]
        outcomes: dict[tuple[uuid.UUID, str], set[uuid.UUID]] = defaultdict(set)
        for row in rows:
            outcomes[(row.subject, row.code)].add(row.outcome)
        totals: dict[Key, float] = defaultdict(float)
        for row in rows:
            if row.org is None:
                continue
            totals[(row.org, row.code)] += row.share / len(outcomes[(row.subject, row.code)])
        return dict(totals)

    def by_key(self, orgs: Collection[str]) -> tuple[Counter[str], Counter[str]]:
        """Activity counts, and distinct claimants per outcome code, over `orgs` (a
        partnership's parties): a claimant whose outcome two parties recorded counts once."""
        activities: Counter[str] = Counter()
        for (org, key), n in self.activities.items():
            if org in orgs:
                activities[key] += n
        claimants: dict[str, set[uuid.UUID]] = defaultdict(set)
        for row in self.outcome_shares:
            if row.recorded_org in orgs:
                claimants[row.code].add(row.subject)
        return activities, Counter({code: len(who) for code, who in claimants.items()})


def _grouped(session: Session, query: Executable,
             prefix: str) -> dict[Key, int]:
    counts: dict[Key, int] = {}
    for org, detail, n in session.execute(query):
        if org is None:
            continue
        key = f"{prefix}:{detail}" if detail else prefix
        counts[(org, key)] = counts.get((org, key), 0) + int(n)
    return counts


def activity_counts(session: Session, period: Period,
                    orgs: Collection[str] | None = None) -> dict[Key, int]:
    """(organisation, activity key) -> count of each activity in `period` (every organisation,
    or those in `orgs`). Plan entries count both with and without their service line, so a
    price may apply to any completed entry or to one service line's."""
    start, end = period.start, period.end
    referrals = (select(ReferralEvent.actor_org, null(), func.count())
                 .where(ReferralEvent.type == "accepted", ReferralEvent.at >= start,
                        ReferralEvent.at < end)
                 .group_by(ReferralEvent.actor_org))
    entries = (select(PlanEntry.owner_org, PlanEntry.service, func.count())
               .where(PlanEntry.status == "done", PlanEntry.updated_at >= start,
                      PlanEntry.updated_at < end)
               .group_by(PlanEntry.owner_org, PlanEntry.service))
    assessments = (select(Assessment.completed_org, null(), func.count())
                   .where(Assessment.completed_at >= start, Assessment.completed_at < end)
                   .group_by(Assessment.completed_org))
    money_plans = (select(SupportRecord.created_org, null(), func.count())
                   .where(SupportRecord.kind == "money_plan", SupportRecord.created_at >= start,
                          SupportRecord.created_at < end)
                   .group_by(SupportRecord.created_org))
    counts: dict[Key, int] = {}
    for query, prefix in ((referrals, "referral_accepted"), (assessments, "assessment_completed"),
                          (money_plans, "money_plan_agreed"), (entries, "plan_entry_completed")):
        counts.update(_grouped(session, query, prefix))
    for (org, key), n in list(counts.items()):
        if key.startswith("plan_entry_completed:"):
            counts[(org, "plan_entry_completed")] = counts.get((org, "plan_entry_completed"), 0) + n
    if orgs is not None:
        counts = {k: n for k, n in counts.items() if k[0] in orgs}
    return counts


def outcome_shares(session: Session, period: Period) -> tuple[OutcomeShare, ...]:
    """Every attribution of the outcomes achieved in `period` (shares of one outcome sum to 1),
    and a row with no organisation for an outcome nobody was attributed."""
    rows = session.execute(
        select(Outcome.subject_id, Outcome.id, Outcome.code, Outcome.recorded_org,
               OutcomeAttribution.org, OutcomeAttribution.share)
        .outerjoin(OutcomeAttribution, OutcomeAttribution.outcome_id == Outcome.id)
        .where(Outcome.achieved_on >= period.first, Outcome.achieved_on <= period.last))
    return tuple(OutcomeShare(subject, outcome, code, recorded, org, float(share or 0))
                 for subject, outcome, code, recorded, org, share in rows)


def count_all(session: Session, period: Period) -> ActivityCounts:
    """Every count the funding view needs, in four grouped queries and one more."""
    return ActivityCounts(activity_counts(session, period), outcome_shares(session, period))
