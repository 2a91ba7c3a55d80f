"""The one list of audit event types, and the one declaration of an event's fields."""

from __future__ import annotations

import re
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path

import pytest

from caseshare.audit import proofs, service
from caseshare.audit.canonical import CANONICAL_FIELDS
from caseshare.audit.event_types import RENAMED, EventType
from caseshare.audit.models import (
    NEW_EVENT_COLUMNS,
    SEQUENCED_COLUMNS,
    UNHASHED_COLUMNS,
    AuditEvent,
    NewEvent,
)
from caseshare.audit.scope import EventView

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
SOURCE = Path(__file__).resolve().parents[3] / "caseshare"


def test_every_type_is_source_subject_action() -> None:
    for member in EventType:
        assert re.fullmatch(r"[a-z_]+:[a-z_-]+:[a-z_-]+", member.value), member


def test_renames_lead_to_members_and_the_old_names_are_gone_from_the_enum() -> None:
    values = {m.value for m in EventType}
    assert RENAMED and all(isinstance(new, EventType) for new in RENAMED.values())
    assert not values & set(RENAMED)


def test_every_type_written_in_the_code_is_a_member_or_a_renamed_one() -> None:
    """A literal `source:subject:action` anywhere in caseshare/ names a known type."""
    known = {m.value for m in EventType} | set(RENAMED)
    found = {m for path in SOURCE.rglob("*.py")
             for m in re.findall(r'"([a-z_-]+:[a-z_-]+:[a-z_-]+)"', path.read_text())}
    assert found and found <= known, sorted(found - known)


def test_the_writer_takes_members_and_refuses_anything_else() -> None:
    made = service.new_event(type=EventType.AUDIT_SUMMARY_READ, now=NOW)
    assert made.type == "audit:summary:read" and type(made.type) is str
    for wrong in ("audit:summary:reed", "identity:made-up:thing", "", 42, None):
        with pytest.raises(ValueError):
            service.new_event(type=wrong, now=NOW)  # type: ignore[arg-type]


def test_new_event_is_the_table_less_what_the_sequencer_sets() -> None:
    table = [c.name for c in AuditEvent.__table__.columns]
    assert list(NEW_EVENT_COLUMNS) == [c for c in table if c not in SEQUENCED_COLUMNS]
    assert list(CANONICAL_FIELDS) == [c for c in table if c not in UNHASHED_COLUMNS]
    assert set(CANONICAL_FIELDS) < set(NEW_EVENT_COLUMNS)
    # The standalone verifier's own copy (it imports nothing of Caseshare's) names the same.
    assert set(proofs.EVENT_FIELDS.values()) == set(CANONICAL_FIELDS)


def test_an_event_view_is_an_event_with_its_place_in_the_log() -> None:
    names = {f.name for f in fields(EventView)}
    assert names == {*NEW_EVENT_COLUMNS, "id", "seq", "redacted"}
    assert issubclass(EventView, NewEvent)
