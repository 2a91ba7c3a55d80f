"""Audit events as CSV and JSON downloads, in the API's shapes (schemas.audit), so a file from
the pages and an answer from /api/v1 read the same."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from flask import Response

from caseshare.audit.scope import EventView
from caseshare.schemas.audit import UTCZ, ReportEvent

CSV_COLUMNS = ["index", "occurred_at", "type", "decision", "org", "role", "actor", "actor_name",
               "purpose", "subject_id", "categories", "reasons", "consent_id", "protocol",
               "override_id", "request_id", "id"]
FORMULA_START = tuple("=+-@\t\r")


class Named:
    """An audit event with the staff member's name beside it."""

    def __init__(self, event: EventView, actor_name: str | None) -> None:
        self._event, self.actor_name = event, actor_name

    def __getattr__(self, name: str) -> Any:
        return getattr(self._event, name)


def dump(events: Sequence[EventView], names: dict[str, str]) -> list[dict[str, Any]]:
    rows = [Named(e, names.get(e.actor or "")) for e in events]
    dumped: list[dict[str, Any]] = ReportEvent(many=True).dump(rows)
    return dumped


def csv_response(items: list[dict[str, Any]], filename: str,
                 columns: list[str] | None = None) -> Response:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns or CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for item in items:
        row = {k: " ".join(v) if isinstance(v, list) else v for k, v in item.items()}
        # Spreadsheet formula injection: no cell may start with a formula character.
        writer.writerow({k: f"'{v}" if isinstance(v, str) and v.startswith(FORMULA_START) else v
                         for k, v in row.items()})
    return _attachment(out.getvalue(), "text/csv; charset=utf-8", filename)


def json_response(body: dict[str, Any], filename: str) -> Response:
    return _attachment(json.dumps(body, indent=1, sort_keys=True), "application/json", filename)


def utc(value: datetime) -> str | None:
    serialized: str | None = UTCZ().serialize("value", {"value": value})
    return serialized


def _attachment(data: str, mimetype: str, filename: str) -> Response:
    return Response(data, content_type=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
