"""The fast canonical encoder gives exactly the bytes of the definition (json.dumps, sorted keys,
compact, ASCII) for anything an audit event can hold, on the append path and on the verify path
(columns as stored), so events hashed before the fast encoder existed still verify."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from caseshare.audit.canonical import (
    CANONICAL_FIELDS,
    canonical_bytes,
    canonical_json,
    json_values,
    reference_json,
    stored_event_bytes,
    time_text,
)

# Anything JSON can hold, including what orjson writes differently from json.dumps: non-ASCII
# and DEL, control characters, lone surrogates, small and huge floats, NaN and infinities,
# integers beyond 64 bits, nested objects whose keys need sorting.
texts = st.text(st.characters(codec=None), max_size=12) | st.sampled_from(
    ["café", "\x7f", "\x00\x1f\n\t", "\ud800", "Ynys Môn ✓", "a\\\"b", "</script>"])
numbers = st.integers() | st.integers(min_value=-(2**80), max_value=2**80) | st.floats()
scalars = st.none() | st.booleans() | numbers | texts
json_like = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=12)


def as_stored(value: Any) -> Any:
    """What the JSON column gives back: the app stores json.loads(json.dumps(details))."""
    return json.loads(json.dumps(value))


def the_definition(fields: dict[str, Any]) -> bytes:
    """The canonical bytes exactly as the log has always defined them."""
    return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


@settings(deadline=None)  # a loaded shared machine is no reason to fail
@given(json_like)
@example(1e-05)
@example(float("nan"))
@example({"b": [1.5, "\x7f"], "a": {"é": 2**70}})
def test_canonical_json_is_json_dumps_for_any_stored_json(value: Any) -> None:
    stored = as_stored(value)
    assert canonical_json(json_values(json.dumps(stored))) == reference_json(stored)


@settings(deadline=None)  # a loaded shared machine is no reason to fail
@given(st.lists(texts, max_size=3), st.lists(texts, max_size=3),
       st.dictionaries(texts, json_like, max_size=4), texts, st.none() | texts,
       st.datetimes(datetime(2000, 1, 1), datetime(2200, 1, 1),  # noqa: DTZ001 (hypothesis)
                    timezones=st.just(UTC)),
       st.none() | st.uuids())
@example([], [], {"ratio": 1e-05, "big": 2**70, "name": "Siân"}, "a:b:c", None,
         datetime(2026, 1, 1, tzinfo=UTC), None)
def test_both_paths_give_the_definitions_bytes(
    categories: list[str], reasons: list[str], details: dict[str, Any], type_: str,
    actor: str | None, occurred_at: datetime, subject: uuid.UUID | None,
) -> None:
    event = SimpleNamespace(
        event_uuid=uuid.uuid4(), occurred_at=occurred_at, type=type_, actor=actor, org="org",
        role=None, purpose="case_management", subject_id=subject, categories=categories,
        decision="allow", reasons=reasons, consent_id=None, protocol="p@1",
        override_id=uuid.uuid4(), request_id="r", details=as_stored(details))
    expected = the_definition({
        name: (str(v) if isinstance(v, uuid.UUID) else
               occurred_at.isoformat() if name == "occurred_at" else v)
        for name, v in ((n, getattr(event, n)) for n in CANONICAL_FIELDS)})
    # The append path, as audit.record hashes a new event.
    assert canonical_bytes(event) == expected  # type: ignore[arg-type]
    # The verify path, from the columns as SQLite stores them (hex UUIDs, naive UTC text, JSON
    # text from json.dumps).
    stored = stored_event_bytes(
        event.event_uuid.hex, time_text(occurred_at.strftime("%Y-%m-%d %H:%M:%S.%f")), type_,
        actor, "org",
        None, "case_management", subject.hex if subject else None, json.dumps(categories),
        "allow", json.dumps(reasons), None, "p@1", event.override_id.hex, "r",
        json.dumps(event.details))
    assert stored == expected
