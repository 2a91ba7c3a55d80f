"""Counting the recorded work: activities by partner organisation in a period, from plain
columns only (nothing sealed is opened, so counting never discloses what a record says).

"Costs captured activity by activity, without burdening front-line staff with extra data entry":
every count here comes from work already recorded for the claimant's own sake.

- referral_accepted: a referral's `accepted` step (referral_events), by the accepting
  organisation, for referrals made under the partnership's protocol;
- plan_entry_completed:<service line>: plan entries now done, first marked done in the period
  under one of the protocol's purposes (their version history), by the owning organisation and
  the entry's LSSF service line;
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
from caseshare.case_plan.models import PlanEntry, PlanEntryVersion, Referral, ReferralEvent
from caseshare.outcomes.models import Outcome, OutcomeAttribution
from caseshare.policy.models import Protocol
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


def _referrals_accepted(period: Period, protocol: Protocol) -> Executable:
    """Referrals made under `protocol` and accepted in the period by one of its parties: a
    referral under another protocol is another partnership's work, even when the accepting
    organisation is party to both."""
    return (select(ReferralEvent.actor_org, null(), func.count())
            .join(Referral, Referral.id == ReferralEvent.referral_id)
            .where(ReferralEvent.type == "accepted", ReferralEvent.at >= period.start,
                   ReferralEvent.at < period.end,
                   # `id@version`: any version of the partnership's protocol.
                   Referral.protocol.startswith(f"{protocol.id}@", autoescape=True),
                   ReferralEvent.actor_org.in_(_parties(protocol)))
            .group_by(ReferralEvent.actor_org))


def _entries_completed(period: Period, protocol: Protocol) -> Executable:
    """Plan entries now done, counted once, in the period they were first marked done (their
    history says when), when that change was made under one of the protocol's purposes by
    one of its parties: editing a done entry later does not pay for it again."""
    first_done = (select(PlanEntryVersion.entry_id, func.min(PlanEntryVersion.changed_at)
                         .label("done_at"))
                  .where(PlanEntryVersion.status == "done")
                  .group_by(PlanEntryVersion.entry_id).subquery())
    return (select(PlanEntryVersion.owner_org, PlanEntry.service, func.count())
            .join(first_done, (first_done.c.entry_id == PlanEntryVersion.entry_id)
                  & (first_done.c.done_at == PlanEntryVersion.changed_at))
            .join(PlanEntry, PlanEntry.id == PlanEntryVersion.entry_id)
            .where(PlanEntry.status == "done", first_done.c.done_at >= period.start,
                   first_done.c.done_at < period.end,
                   PlanEntryVersion.purpose.in_(sorted(protocol.purposes)),
                   PlanEntryVersion.owner_org.in_(_parties(protocol)))
            .group_by(PlanEntryVersion.owner_org, PlanEntry.service))


def _parties(protocol: Protocol) -> list[str]:
    return sorted(party.id for party in protocol.parties)


def activity_counts(session: Session, period: Period, protocol: Protocol) -> dict[Key, int]:
    """(organisation, activity key) -> count of each activity in `period` done by the
    parties to `protocol` (referrals and plan entries: under it). Plan entries count both
    with and without their service line, so a price may apply to any completed entry or to
    one service line's."""
    start, end, parties = period.start, period.end, _parties(protocol)
    assessments = (select(Assessment.completed_org, null(), func.count())
                   .where(Assessment.completed_at >= start, Assessment.completed_at < end,
                          Assessment.completed_org.in_(parties))
                   .group_by(Assessment.completed_org))
    money_plans = (select(SupportRecord.created_org, null(), func.count())
                   .where(SupportRecord.kind == "money_plan", SupportRecord.created_at >= start,
                          SupportRecord.created_at < end, SupportRecord.created_org.in_(parties))
                   .group_by(SupportRecord.created_org))
    counts: dict[Key, int] = {}
    for query, prefix in ((_referrals_accepted(period, protocol), "referral_accepted"),
                          (assessments, "assessment_completed"),
                          (money_plans, "money_plan_agreed"),
                          (_entries_completed(period, protocol), "plan_entry_completed")):
        counts.update(_grouped(session, query, prefix))
    for (org, key), n in list(counts.items()):
        if key.startswith("plan_entry_completed:"):
            counts[(org, "plan_entry_completed")] = counts.get((org, "plan_entry_completed"), 0) + n
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


def count_all(session: Session, period: Period, protocol: Protocol) -> ActivityCounts:
    """Every count the funding view needs for one partnership, in four grouped queries and one
    more (outcomes are narrowed to the parties by `ActivityCounts`)."""
    return ActivityCounts(activity_counts(session, period, protocol),
                          outcome_shares(session, period))
