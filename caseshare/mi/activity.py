"""Counting the recorded work: activities by partner organisation in a period, from plain
columns only (nothing sealed is opened, so counting never discloses what a record says).

"Costs captured activity by activity, without burdening front-line staff with extra data entry":
every count here comes from work already recorded for the claimant's own sake.

- referral_accepted: a referral's `accepted` step (referral_events), by the accepting organisation;
- plan_entry_completed:<service line>: plan entries now done, last changed in the period, by
  the owning organisation and the entry's LSSF service line;
- assessment_completed: needs assessments completed, by the completing organisation;
- money_plan_agreed: money action plans recorded (support_records), by the writing organisation;
- outcomes by code, by the recording organisation (outcomes), and the attributed shares of
  outcomes by contributing organisation (outcome_attributions), for apportioning payments.

Periods are half-open UTC days: `first` included, `last` included, as dates.
"""

from __future__ import annotations

from collections import Counter
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
class ActivityCounts:
    activities: dict[Key, int]  # (org, activity key) -> count
    outcomes: dict[Key, int]  # (recording org, outcome code) -> count
    shares: dict[Key, float]  # (contributing org, outcome code) -> sum of attributed shares

    def by_key(self, orgs: Collection[str]) -> tuple[Counter[str], Counter[str]]:
        """Activity counts and outcome counts summed over `orgs` (a partnership's parties)."""
        activities: Counter[str] = Counter()
        outcomes: Counter[str] = Counter()
        for (org, key), n in self.activities.items():
            if org in orgs:
                activities[key] += n
        for (org, code), n in self.outcomes.items():
            if org in orgs:
                outcomes[code] += n
        return activities, outcomes


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


def outcome_counts(session: Session, period: Period) -> dict[Key, int]:
    """(recording organisation, outcome code) -> outcomes achieved in `period`."""
    rows = session.execute(
        select(Outcome.recorded_org, Outcome.code, func.count())
        .where(Outcome.achieved_on >= period.first, Outcome.achieved_on <= period.last)
        .group_by(Outcome.recorded_org, Outcome.code))
    return {(org, code): int(n) for org, code, n in rows}


def attributed_shares(session: Session, period: Period) -> dict[Key, float]:
    """(contributing organisation, outcome code) -> the sum of its shares of the outcomes
    achieved in `period` (shares of one outcome sum to 1)."""
    rows = session.execute(
        select(OutcomeAttribution.org, Outcome.code, func.sum(OutcomeAttribution.share))
        .join(Outcome, Outcome.id == OutcomeAttribution.outcome_id)
        .where(Outcome.achieved_on >= period.first, Outcome.achieved_on <= period.last)
        .group_by(OutcomeAttribution.org, Outcome.code))
    return {(org, code): float(total) for org, code, total in rows}


def count_all(session: Session, period: Period) -> ActivityCounts:
    """Every count the funding view needs, in four grouped queries and two more."""
    return ActivityCounts(activity_counts(session, period), outcome_counts(session, period),
                          attributed_shares(session, period))
