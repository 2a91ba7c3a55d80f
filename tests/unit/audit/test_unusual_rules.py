"""The unusual access rules as pure functions: windows, working time across the clock change,
relationship periods, and the settings that configure them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from caseshare.audit import unusual
from caseshare.audit.unusual import Relationships, Thresholds
from caseshare.config import ConfigError, load_settings

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@dataclass
class E:
    occurred_at: datetime
    actor: str | None = "staff-1"
    subject_id: uuid.UUID | None = field(default_factory=uuid.uuid4)
    type: str = "case_plan:plan:read"
    decision: str | None = "allow"
    reasons: list[str] = field(default_factory=list)
    purpose: str | None = "case_management"
    org: str | None = "jcp-derby"
    role: str | None = "work_coach"
    request_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    seq: int | None = None
    id: int = 0
    event_uuid: uuid.UUID = field(default_factory=uuid.uuid4)


def at(*minutes: float) -> list[datetime]:
    return [T0 + timedelta(minutes=m) for m in minutes]


def test_dense_runs_need_more_than_the_limit_inside_one_half_open_window() -> None:
    window = timedelta(minutes=10)
    assert unusual.dense_runs(at(0, 1, 2), 3, window) == []
    assert unusual.dense_runs(at(0, 1, 2, 3), 3, window) == [(0, 3)]
    assert unusual.dense_runs(at(0, 4, 8, 10), 3, window) == []  # 0 and 10 are two windows
    # Overlapping dense windows merge into one run (12 is in no window of four); a later
    # separate one is another run.
    assert unusual.dense_runs(at(0, 1, 2, 3, 9, 12, 60, 61, 62, 63), 3, window) == [
        (0, 4), (6, 9)]


def test_working_time_is_london_local_time_on_working_days() -> None:
    rules = Thresholds()
    summer = datetime(2026, 7, 1, tzinfo=UTC)  # a Wednesday, British Summer Time (UTC+1)
    assert unusual.is_working_time(summer.replace(hour=7, minute=30), rules)  # 08:30 BST
    assert not unusual.is_working_time(summer.replace(hour=6, minute=59), rules)  # 07:59
    assert not unusual.is_working_time(summer.replace(hour=17), rules)  # 18:00 BST
    winter = datetime(2026, 11, 23, tzinfo=UTC)  # a Monday, GMT
    assert unusual.is_working_time(winter.replace(hour=17, minute=59), rules)
    assert not unusual.is_working_time(winter.replace(hour=18), rules)
    assert not unusual.is_working_time(datetime(2026, 11, 28, 12, tzinfo=UTC), rules)  # Sat
    seven_days = Thresholds(working_days=frozenset(range(7)), day_start=time(0, 0),
                            day_end=time(23, 59))
    assert unusual.is_working_time(datetime(2026, 11, 28, 12, tzinfo=UTC), seven_days)


def test_relationships_hold_only_within_their_periods() -> None:
    subject = uuid.uuid4()
    rels = Relationships({(subject, "derby-housing"): [(T0, T0 + timedelta(hours=4))]},
                         frozenset({subject}))
    assert not rels.held(subject, "derby-housing", T0 - timedelta(seconds=1))
    assert rels.held(subject, "derby-housing", T0)
    assert not rels.held(subject, "derby-housing", T0 + timedelta(hours=4))
    assert not rels.held(subject, "ca-derby", T0)


def test_reserved_purposes_and_audit_queries_are_not_subject_accesses() -> None:
    assert unusual.is_subject_access(E(T0))
    assert not unusual.is_subject_access(E(T0, purpose="subject_access"))
    assert not unusual.is_subject_access(E(T0, type="audit:report:access", purpose="audit"))
    assert not unusual.is_subject_access(E(T0, subject_id=None))
    assert not unusual.is_subject_access(E(T0, actor=None))


def test_failed_lookups() -> None:
    assert unusual.is_failed_lookup(E(T0, type="access:subject:deny", decision="deny"))
    assert unusual.is_failed_lookup(E(T0, type="subject:search:nino", details={"matches": 0}))
    assert not unusual.is_failed_lookup(E(T0, type="subject:search:nino",
                                          details={"matches": 1}))
    # A withheld category is a refusal, not a failed lookup.
    assert not unusual.is_failed_lookup(E(T0, decision="deny",
                                          reasons=["category_not_in_protocol"]))


def test_events_of_one_request_count_once_towards_a_burst() -> None:
    events = [E(t, request_id=f"r{i // 2}", id=i) for i, t in
              enumerate(at(0, 0, 1, 1, 2, 2, 3, 3))]  # four requests, two events each
    [finding] = unusual.dense(events, "burst", 3, timedelta(minutes=10))
    assert finding.count == 4 and len(finding.events) == 8
    assert unusual.dense(events, "burst", 4, timedelta(minutes=10)) == []


def test_settings_come_from_the_environment_and_bad_values_stop_start_up(tmp_path: Any) -> None:
    env = {"CASESHARE_INSTANCE_PATH": str(tmp_path), "CASESHARE_UNUSUAL_BURST_COUNT": "50",
           "CASESHARE_WORKING_HOURS": "07:30-19:00", "CASESHARE_WORKING_DAYS": "mon,tue,sat",
           "CASESHARE_TIMEZONE": "Europe/London"}
    rules = Thresholds.from_settings(load_settings(environ=env))
    assert rules.burst_count == 50 and rules.day_start == time(7, 30)
    assert rules.working_days == frozenset({0, 1, 5})
    for name, value in (("CASESHARE_WORKING_HOURS", "18:00-08:00"),
                        ("CASESHARE_WORKING_HOURS", "nine to five"),
                        ("CASESHARE_WORKING_DAYS", "mon,funday"),
                        ("CASESHARE_TIMEZONE", "Mars/Olympus_Mons"),
                        ("CASESHARE_UNUSUAL_ENUMERATION_MINUTES", "0")):
        with pytest.raises(ConfigError, match=name):
            load_settings(environ={**env, name: value})
