"""The "who has seen my information" summary (pure): grouping by UK day, organisation, role
and purpose; only the kinds of information the caller may see; emergency access marked."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from caseshare.access.who_has_seen import summarise
from caseshare.audit.models import AuditEvent


def event(at: datetime, org: str, categories: list[str], *, role: str = "work_coach",
          purpose: str = "case_management", override: bool = False) -> AuditEvent:
    return AuditEvent(occurred_at=at, org=org, role=role, purpose=purpose,
                      categories=categories, decision="allow", type="case_plan:plan:read",
                      override_id=uuid.uuid4() if override else None)


def test_events_of_one_uk_day_org_role_and_purpose_make_one_line() -> None:
    morning = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    lines = summarise([event(morning, "jcp-derby", ["identity"]),
                       event(morning.replace(hour=15), "jcp-derby", ["employment"]),
                       event(morning, "jcp-derby", ["identity"], purpose="recovery_support")],
                      frozenset({"identity", "employment"}))
    assert [(a.purpose, a.categories, a.times) for a in lines] == [
        ("recovery_support", ("identity",), 1),
        ("case_management", ("employment", "identity"), 2)]


def test_the_day_is_the_uk_day() -> None:
    # 23:30 UTC on 1 July is 00:30 on 2 July in London (BST); in January they agree.
    summer = summarise([event(datetime(2026, 7, 1, 23, 30, tzinfo=UTC), "jcp-derby",
                              ["identity"])], frozenset({"identity"}))
    winter = summarise([event(datetime(2026, 1, 1, 23, 30, tzinfo=UTC), "jcp-derby",
                              ["identity"])], frozenset({"identity"}))
    assert summer[0].day == date(2026, 7, 2) and winter[0].day == date(2026, 1, 1)


def test_only_readable_kinds_are_listed_and_unreadable_only_events_are_left_out() -> None:
    at = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    lines = summarise([
        event(at, "recovery-partnership", ["substance_misuse"], role="key_worker"),
        event(at, "jcp-derby", ["identity", "substance_misuse"]),
    ], frozenset({"identity", "housing_tenancy"}))
    assert [(a.org, a.categories) for a in lines] == [("jcp-derby", ("identity",))]


def test_emergency_access_is_marked_and_newest_days_come_first() -> None:
    lines = summarise([
        event(datetime(2026, 11, 20, 10, 0, tzinfo=UTC), "derby-housing", ["contact"],
              role="housing_officer"),
        event(datetime(2026, 11, 22, 10, 0, tzinfo=UTC), "derby-housing", ["contact"],
              role="housing_officer", override=True),
    ], frozenset({"contact"}))
    assert [(a.day.day, a.emergency) for a in lines] == [(22, True), (20, False)]
