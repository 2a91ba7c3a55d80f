"""The unusual access rules: pure functions over audit events (no I/O, no clock).

Four rules, each finding naming the events behind it:

- `outside_relationship`: a staff member or partner system opened (or tried to open) the record
  of an existing claimant while their organisation had no relationship with the claimant: not a
  case member, no referral to or from it that was still standing, no override in force.
- `burst`: one caller made more than `burst_count` subject accesses within `burst_window`
  (one request is one access, however many events it wrote).
- `out_of_hours`: a subject access outside working hours in local time (weekends included).
- `enumeration`: one caller had more than `enumeration_count` not-found or refused lookups
  (claimants, consents, referrals not theirs, NINO searches that matched nothing) within
  `enumeration_window`: someone probing ids.

IG officers' use of the reserved purposes (`audit`, `subject_access`) is not analysed here (it
opens no claimant data but the subject access export); their own audit queries are not subject
accesses either. The access layer passes only the events the IG officer may see
(caseshare.audit.scope).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from caseshare.audit.event_types import EventType
from caseshare.audit.scope import EventView
from caseshare.config import DAY_NAMES, Settings, parse_working_days, parse_working_hours
from caseshare.policy.models import RESERVED_PURPOSES

RULES = ("outside_relationship", "burst", "out_of_hours", "enumeration")
# Denials that mean "no such thing for you": what an id prober collects.
LOOKUP_DENIALS = frozenset({EventType.ACCESS_SUBJECT_DENY, EventType.ACCESS_CONSENT_DENY})
LOOKUP_REASONS = frozenset({"no_case_relationship", "no_such_consent", "not_recipient"})
NINO_SEARCH = EventType.SUBJECT_SEARCH_NINO


# The rules read events as the IG officer may see them (caseshare.audit.scope).
Event = EventView


@dataclass(frozen=True)
class Thresholds:
    burst_count: int = 30
    burst_window: timedelta = timedelta(minutes=10)
    enumeration_count: int = 10
    enumeration_window: timedelta = timedelta(hours=1)
    day_start: time = time(8, 0)
    day_end: time = time(18, 0)
    working_days: frozenset[int] = frozenset(range(5))  # Monday to Friday
    timezone: str = "Europe/London"

    @classmethod
    def from_settings(cls, settings: Settings) -> Thresholds:
        start, end = parse_working_hours(settings.working_hours)
        return cls(burst_count=settings.unusual_burst_count,
                   burst_window=timedelta(minutes=settings.unusual_burst_minutes),
                   enumeration_count=settings.unusual_enumeration_count,
                   enumeration_window=timedelta(minutes=settings.unusual_enumeration_minutes),
                   day_start=start, day_end=end,
                   working_days=parse_working_days(settings.working_days),
                   timezone=settings.local_timezone)

    def as_details(self) -> dict[str, object]:
        return {"burst_count": self.burst_count,
                "burst_minutes": int(self.burst_window.total_seconds() // 60),
                "enumeration_count": self.enumeration_count,
                "enumeration_minutes": int(self.enumeration_window.total_seconds() // 60),
                "working_hours": f"{self.day_start:%H:%M}-{self.day_end:%H:%M}",
                "working_days": [DAY_NAMES[d] for d in sorted(self.working_days)],
                "timezone": self.timezone}


@dataclass(frozen=True)
class Finding:
    rule: str
    actor: str | None
    org: str | None
    role: str | None
    events: tuple[Event, ...]
    subject_id: uuid.UUID | None = None
    count: int = 0  # accesses or lookups the rule counted (one per request)

    @property
    def first_at(self) -> datetime:
        return self.events[0].occurred_at

    @property
    def last_at(self) -> datetime:
        return self.events[-1].occurred_at


# A relationship of an organisation with a claimant: from, until (None: still standing).
Period = tuple[datetime, datetime | None]


@dataclass(frozen=True)
class Relationships:
    periods: dict[tuple[uuid.UUID, str], list[Period]] = field(default_factory=dict)
    existing: frozenset[uuid.UUID] = frozenset()

    def held(self, subject_id: uuid.UUID, org: str, at: datetime) -> bool:
        return any(start <= at and (end is None or at < end)
                   for start, end in self.periods.get((subject_id, org), ()))


def is_subject_access(event: Event) -> bool:
    return (event.subject_id is not None and event.actor is not None
            and event.purpose not in RESERVED_PURPOSES and not event.type.startswith("audit:"))


def is_failed_lookup(event: Event) -> bool:
    if event.type == NINO_SEARCH:
        return event.details.get("matches") == 0
    return event.decision == "deny" and (
        event.type in LOOKUP_DENIALS or bool(LOOKUP_REASONS & set(event.reasons)))


def detect(events: Sequence[Event], relationships: Relationships, thresholds: Thresholds,
           rules: Iterable[str] = RULES) -> list[Finding]:
    """Every finding of the chosen rules, oldest first (`events` oldest first)."""
    wanted = set(rules)
    accesses = [e for e in events if is_subject_access(e)]
    found: list[Finding] = []
    if "outside_relationship" in wanted:
        found += outside_relationship(accesses, relationships)
    if "burst" in wanted:
        found += dense(accesses, "burst", thresholds.burst_count, thresholds.burst_window)
    if "out_of_hours" in wanted:
        found += out_of_hours(accesses, thresholds)
    if "enumeration" in wanted:
        lookups = [e for e in events if e.actor is not None and is_failed_lookup(e)]
        found += dense(lookups, "enumeration", thresholds.enumeration_count,
                       thresholds.enumeration_window)
    return sorted(found, key=lambda f: (f.first_at, RULES.index(f.rule), f.actor or ""))


def _by(events: Iterable[Event], key: Callable[[Event], Hashable]) -> list[list[Event]]:
    groups: dict[Hashable, list[Event]] = defaultdict(list)
    for event in events:
        groups[key(event)].append(event)
    return list(groups.values())


def _finding(rule: str, events: list[Event], subject_id: uuid.UUID | None = None) -> Finding:
    first = events[0]
    return Finding(rule, first.actor, first.org, first.role, tuple(events), subject_id,
                   count=len(_requests(events)))


def _requests(events: Iterable[Event]) -> list[list[Event]]:
    """Events grouped by the request that wrote them, in order (an event with no request id is
    a request of its own)."""
    groups: dict[object, list[Event]] = {}
    for event in events:
        groups.setdefault(event.request_id or ("event", event.id), []).append(event)
    return list(groups.values())


def outside_relationship(accesses: Sequence[Event], relationships: Relationships) -> list[Finding]:
    outside = [e for e in accesses
               if e.subject_id is not None and e.subject_id in relationships.existing
               and e.org is not None
               and not relationships.held(e.subject_id, e.org, e.occurred_at)]
    return [_finding("outside_relationship", group, group[0].subject_id)
            for group in _by(outside, lambda e: (e.actor, e.subject_id))]


def dense(events: Sequence[Event], rule: str, limit: int, window: timedelta) -> list[Finding]:
    """Per caller, each maximal run of requests where some `window` holds more than `limit`."""
    found = []
    for group in _by(events, lambda e: e.actor):
        requests = _requests(group)
        times = [r[0].occurred_at for r in requests]
        for lo, hi in dense_runs(times, limit, window):
            found.append(_finding(rule, [e for r in requests[lo:hi + 1] for e in r]))
    return found


def dense_runs(times: Sequence[datetime], limit: int, window: timedelta) -> list[tuple[int, int]]:
    """Index ranges (inclusive, merged) of sorted `times` where more than `limit` fall within
    one `window` (half-open: exactly `window` apart is two windows)."""
    runs: list[tuple[int, int]] = []
    lo = 0
    for hi, at in enumerate(times):
        while at - times[lo] >= window:
            lo += 1
        if hi - lo + 1 > limit:
            if runs and lo <= runs[-1][1]:
                runs[-1] = (runs[-1][0], hi)
            else:
                runs.append((lo, hi))
    return runs


def is_working_time(at: datetime, thresholds: Thresholds) -> bool:
    local = at.astimezone(ZoneInfo(thresholds.timezone))
    return (local.weekday() in thresholds.working_days
            and thresholds.day_start <= local.time() < thresholds.day_end)


def out_of_hours(accesses: Sequence[Event], thresholds: Thresholds) -> list[Finding]:
    zone = ZoneInfo(thresholds.timezone)
    late = [e for e in accesses if not is_working_time(e.occurred_at, thresholds)]
    return [_finding("out_of_hours", group)
            for group in _by(late, lambda e: (e.actor, e.occurred_at.astimezone(zone).date()))]
