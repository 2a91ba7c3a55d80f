"""Reading the audit search form (a GET form, so a search is a link that can be shared with a
colleague, paged and downloaded). Everything typed is kept to re-render the form."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from werkzeug.datastructures import MultiDict

from caseshare.audit.queries import EventFilter
from caseshare.web.forms import Errors, date_parts, parse_date, start_of_day, text

PAGE_SIZES = (20, 50, 100, 200)
DEFAULT_PAGE_SIZE = 50
DECISIONS = ("allow", "deny")
TEXT_FIELDS = ("subject", "actor", "org", "event_purpose", "decision", "type")
DATE_FIELDS = ("from", "to")
EVENT_TYPE = re.compile(r"^[a-z0-9_\-]+(:[a-z0-9_\-]+){0,2}$")


@dataclass
class Search:
    """A submitted search: what was typed, the errors, and the filter once it is valid."""

    values: dict[str, Any]
    errors: Errors = field(default_factory=dict)
    submitted: bool = False
    limit: int = DEFAULT_PAGE_SIZE
    cursor: str | None = None
    subject_id: uuid.UUID | None = None
    from_: datetime | None = None
    to: datetime | None = None

    def query(self) -> dict[str, str]:
        """The search as query-string values (for the next page and the downloads)."""
        out = {k: v for k in TEXT_FIELDS if (v := self.values.get(k))}
        for name in DATE_FIELDS:
            for part, value in self.values[name].items():
                if value:
                    out[f"{name}-{part}"] = value
        out["limit"] = str(self.limit)
        out["searched"] = "1"
        return out

    def filter(self, actor: str | None) -> EventFilter:
        v = self.values
        return EventFilter(subject_id=self.subject_id, actor=actor, org=v["org"] or None,
                           purpose=v["event_purpose"] or None, decision=v["decision"] or None,
                           type=v["type"] or None, from_=self.from_, to=self.to)


def read_search(args: MultiDict[str, str], orgs: list[str], purposes: list[str]) -> Search:
    values: dict[str, Any] = {name: text(args, name) for name in TEXT_FIELDS}
    values.update({name: date_parts(args, name) for name in DATE_FIELDS})
    search = Search(values=values, submitted=bool(args.get("searched")))
    search.cursor = text(args, "cursor") or None
    try:
        size = int(args.get("limit", DEFAULT_PAGE_SIZE))
    except ValueError:
        size = DEFAULT_PAGE_SIZE
    search.limit = size if size in PAGE_SIZES else DEFAULT_PAGE_SIZE
    errors = search.errors
    if values["subject"]:
        try:
            search.subject_id = uuid.UUID(values["subject"])
        except ValueError:
            errors["subject"] = ("Enter the claimant reference in the correct format, like "
                                 "3f2b6c1e-8d4a-4f3b-9c2d-1a2b3c4d5e6f")
    if len(values["actor"]) > 254:
        errors["actor"] = "Staff member must be 254 characters or fewer"
    if values["org"] and values["org"] not in orgs:
        errors["org"] = "Select an organisation from the list"
    if values["event_purpose"] and values["event_purpose"] not in purposes:
        errors["event_purpose"] = "Select a purpose from the list"
    if values["decision"] and values["decision"] not in DECISIONS:
        errors["decision"] = "Select allowed or denied"
    if values["type"] and (len(values["type"]) > 80 or not EVENT_TYPE.match(values["type"])):
        errors["type"] = "Enter an event type like case_plan:plan:read"
    first = _date(values["from"], "from", "Date from", errors)
    last = _date(values["to"], "to", "Date to", errors)
    if first and last and last < first:
        errors["to-day"] = "Date to must be the same as or after date from"
    search.from_ = start_of_day(first) if first else None
    search.to = start_of_day(last) + timedelta(days=1) if last else None  # the whole last day
    return search


def _date(parts: dict[str, str], name: str, label: str, errors: Errors) -> date | None:
    if not any(parts.values()):
        return None
    value = parse_date(parts)
    if value is None or not 2000 <= value.year <= 2100:
        errors[f"{name}-day"] = f"{label} must be a real date"
        return None
    return value
