"""The exact bytes an audit event's leaf hash covers, for the append path and for verify.

The definition is `json.dumps(body, sort_keys=True, separators=(",", ":"))` (ASCII output, as
the standalone verifier in proofs.py computes it), over the event's fields in text form. Events
already in every database were hashed that way, so it can never change.

Verify encodes a million of these, and json.dumps is most of its time, so `canonical_json` uses
orjson where its bytes are the same and falls back to json.dumps where they might not be:
- orjson writes non-ASCII characters as UTF-8 and DEL (0x7f) raw; json.dumps escapes both. Any
  such output is re-encoded by json.dumps.
- orjson formats some floats differently (1e-05 as 0.00001) and NaN/Infinity as null. Floats
  therefore never reach orjson as floats: the JSON-typed fields are decoded by `json_values`,
  which makes every number with a fraction or exponent (and NaN, Infinity) a `JSONFloat`, a float
  subclass that orjson refuses (TypeError) and json.dumps writes exactly as a float.
- orjson refuses integers beyond 64 bits and non-string keys (TypeError): json.dumps then.
tests/unit/audit/test_canonical.py checks these equal json.dumps for any JSON the app can hold.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from json.scanner import make_scanner
from typing import Any

import orjson

from caseshare.audit.models import UNHASHED_COLUMNS, AuditEvent, NewEvent

__all__ = [
    "CANONICAL_FIELDS", "JSONFloat", "canonical_bytes", "canonical_json",
    "event_bytes", "json_values", "reference_json", "stored_event_bytes", "time_text",
    "uuid_text",
]


# What the leaf hash covers: every column of the event except those in UNHASHED_COLUMNS, in the
# table's order (the body's keys are sorted anyway).
CANONICAL_FIELDS = tuple(column.name for column in AuditEvent.__table__.columns
                         if column.name not in UNHASHED_COLUMNS)


class JSONFloat(float):
    """A JSON number with a fraction or exponent: json.dumps writes it as the float it is;
    orjson refuses it, so it always goes the reference way."""


def _constant(name: str) -> JSONFloat:
    return JSONFloat(name)  # NaN, Infinity, -Infinity: json.dumps writes them back as such


_DECODER = json.JSONDecoder(parse_float=JSONFloat, parse_constant=_constant)
# The scanner `_DECODER.decode` runs (the C one), called directly by stored_event_bytes: decode's
# Python wrapper around it (two frames, two regex matches) costs as much again per event.
_SCAN: Callable[[str, int], tuple[Any, int]] = make_scanner(_DECODER)  # type: ignore[arg-type]


def json_values(text: str) -> Any:
    """JSON text as values canonical_json encodes correctly (floats as JSONFloat)."""
    return _DECODER.decode(text)


def reference_json(body: Any) -> bytes:
    """The definition of the canonical bytes."""
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def canonical_json(body: Any) -> bytes:
    """`reference_json(body)`, faster. Floats must arrive as JSONFloat (from `json_values`)."""
    try:
        data = orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # JSONFloat, integers beyond 64 bits, non-string keys
        return reference_json(body)
    if data.isascii() and b"\x7f" not in data:
        return data
    return reference_json(body)


def uuid_text(value: uuid.UUID | str | None) -> str | None:
    """A UUID in its canonical text form, from a UUID or SQLite's stored 32-digit hex."""
    if value is None:
        return None
    if isinstance(value, str) and len(value) == 32:
        return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
    return str(value)


def time_text(value: datetime | str) -> str:
    """An event time as the hash covers it (isoformat in UTC), from a datetime or from the text
    verify reads ('YYYY-MM-DD HH:MM:SS.ffffff' in UTC, as SQLite stores it), because parsing a
    million timestamps is slow."""
    if isinstance(value, str):
        if len(value) == 26 and value[10] == " " and value[19] == ".":
            micro = value[20:]
            return f"{value[:10]}T{value[11:19]}{'' if micro == '000000' else '.' + micro}+00:00"
        value = datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()


def event_bytes(event_uuid: str | None, occurred_at: str, type_: str, actor: str | None,
                org: str | None, role: str | None, purpose: str | None,
                subject_id: str | None, categories: Any, decision: str | None, reasons: Any,
                consent_id: str | None, protocol: str | None, override_id: str | None,
                request_id: str | None, details: Any) -> bytes:
    """The canonical bytes of an event given in text form, its JSON fields from `json_values`.
    The one place both paths build the body (keys in CANONICAL_FIELDS' sorted order)."""
    return canonical_json({
        "actor": actor, "categories": categories, "consent_id": consent_id,
        "decision": decision, "details": details, "event_uuid": event_uuid,
        "occurred_at": occurred_at, "org": org, "override_id": override_id,
        "protocol": protocol, "purpose": purpose, "reasons": reasons,
        "request_id": request_id, "role": role, "subject_id": subject_id, "type": type_,
    })


def _json_column(text: str) -> Any:
    """One JSON column's value, as `json_values` gives it; ValueError if it is not exactly one
    JSON value. The scanner directly where the text is the value and nothing else (as stored),
    the full decoder otherwise (surrounding whitespace, or to report what is wrong)."""
    try:
        value, end = _SCAN(text, 0)
    except StopIteration:
        return json_values(text)
    return value if end == len(text) else json_values(text)


def stored_event_bytes(event_uuid: str | None, stamped: str, type_: str,
                       actor: str | None, org: str | None, role: str | None,
                       purpose: str | None, subject_id: str | None, categories_json: str,
                       decision: str | None, reasons_json: str, consent_id: str | None,
                       protocol: str | None, override_id: str | None, request_id: str | None,
                       details_json: str) -> bytes:
    """The canonical bytes from an event's columns as verify reads them: UUIDs as SQLite's hex
    or as text, the time already in hashed form (`time_text` of the stored text), the JSON
    columns as JSON text (each decoded on its own).
    Raises ValueError or TypeError when the stored values are no longer an event's.

    The same as `event_bytes(uuid_text(event_uuid), ..., *json_values(text))`
    (tests/unit/audit/test_canonical.py checks it), written out in one function because verify
    runs it a million times and the calls were a third of its cost."""
    # Each column on its own: joined into one text, characters moved from one column to the
    # next (possible where JSON is stored as text, as on SQLite) would read the same.
    categories = _json_column(categories_json)
    reasons = _json_column(reasons_json)
    details = _json_column(details_json)
    # uuid_text, inline: SQLite's 32-digit hex gets its dashes, anything else is str()'d.
    if isinstance(event_uuid, str) and len(event_uuid) == 32:
        event_uuid = (f"{event_uuid[:8]}-{event_uuid[8:12]}-{event_uuid[12:16]}-"
                      f"{event_uuid[16:20]}-{event_uuid[20:]}")
    elif event_uuid is not None:
        event_uuid = str(event_uuid)
    if isinstance(subject_id, str) and len(subject_id) == 32:
        subject_id = (f"{subject_id[:8]}-{subject_id[8:12]}-{subject_id[12:16]}-"
                      f"{subject_id[16:20]}-{subject_id[20:]}")
    elif subject_id is not None:
        subject_id = str(subject_id)
    return canonical_json({
        "actor": actor, "categories": categories,
        "consent_id": None if consent_id is None else uuid_text(consent_id),
        "decision": decision, "details": details, "event_uuid": event_uuid,
        "occurred_at": stamped, "org": org,
        "override_id": None if override_id is None else uuid_text(override_id),
        "protocol": protocol, "purpose": purpose, "reasons": reasons,
        "request_id": request_id, "role": role, "subject_id": subject_id, "type": type_,
    })


def canonical_bytes(event: NewEvent | AuditEvent) -> bytes:
    """The exact bytes an event's leaf hash covers (CANONICAL_FIELDS). Any object with those
    attributes will do, e.g. a row selected with the same columns."""
    categories, reasons, details = json_values(
        json.dumps([list(event.categories), list(event.reasons), event.details]))
    return event_bytes(
        uuid_text(event.event_uuid), time_text(event.occurred_at), event.type, event.actor,
        event.org, event.role, event.purpose, uuid_text(event.subject_id), categories,
        event.decision, reasons, uuid_text(event.consent_id), event.protocol,
        uuid_text(event.override_id), event.request_id, details)
