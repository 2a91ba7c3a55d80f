"""Reading submitted form values for the pages: small, explicit, and never losing what the
user typed (the page re-renders the submitted values with the errors)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from werkzeug.datastructures import MultiDict

Errors = dict[str, str]


def text(form: MultiDict[str, str], name: str) -> str:
    return form.get(name, "").strip()


def ticked(form: MultiDict[str, str], name: str, allowed: list[str] | tuple[str, ...]) -> list[str]:
    """The ticked boxes among the allowed values (anything else is ignored)."""
    return [v for v in form.getlist(name) if v in allowed]


def date_parts(form: MultiDict[str, str], name: str) -> dict[str, str]:
    return {part: text(form, f"{name}-{part}") for part in ("day", "month", "year")}


def parse_date(parts: dict[str, str]) -> date | None:
    try:
        return date(int(parts["year"]), int(parts["month"]), int(parts["day"]))
    except (KeyError, ValueError):
        return None


def start_of_day(value: date) -> datetime:
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def domain_errors(errors: dict[str, Any], fields: dict[str, str]) -> Errors:
    """Map a use case's field errors (API names) onto this page's field ids."""
    out: Errors = {}
    for name, messages in errors.items():
        target = fields.get(name, next(iter(fields.values())))
        message = messages[0] if isinstance(messages, list) and messages else str(messages)
        out.setdefault(target, message.rstrip("."))
    return out


def check_text(errors: Errors, name: str, value: str, *, max_length: int, too_long: str,
               missing: str | None = None) -> None:
    """Record the first problem with a text field in `errors`: empty when `missing` is given
    (the field is required), or longer than `max_length`."""
    if not value:
        if missing is not None:
            errors[name] = missing
    elif len(value) > max_length:
        errors[name] = too_long
