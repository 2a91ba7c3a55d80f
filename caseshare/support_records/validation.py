"""The fields of each kind of record, checked before anything is sealed (pure: no I/O).

A record's `data` is JSON, so the checked values are JSON too: dates as ISO strings, money as
whole pence. Every problem names its field as `data.<field>` (or `data.<field>.<n>.<part>` in a
list), which is how the API's 422 and the pages' error summary point at it. The APA's status
only moves forward along APA_STATUSES (it may be `ended` from any status), and each status
reached keeps its date, so the steps can be shown and counted.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from caseshare.errors import ValidationError
from caseshare.support_records.models import (
    ACCOUNT_TYPES,
    APA_STATUSES,
    APA_TRIGGERS,
    APA_TYPES,
    LANDLORD_TYPES,
    RECORD_KINDS,
    RENT_FREQUENCIES,
    RENT_PAYERS,
)

MAX_PENCE = 100_000_000  # one million pounds: anything above is a typing slip
MAX_LINES = 50
MAX_TEXT = 500
EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)

Errors = dict[str, list[str]]


class _Fields:
    """Collects the checked values and the problems of one record's data."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.out: dict[str, Any] = {}
        self.errors: Errors = {}

    def fail(self, name: str, message: str) -> None:
        self.errors.setdefault(f"data.{name}", []).append(message)

    def choice(self, name: str, allowed: tuple[str, ...], *, required: bool = True) -> None:
        value = self.data.get(name)
        if value is None:
            self._missing(name, required)
        elif value not in allowed:
            self.fail(name, f"Must be one of: {', '.join(allowed)}.")
        else:
            self.out[name] = value

    def pence(self, name: str, *, required: bool = True) -> None:
        value = self.data.get(name)
        if value is None:
            self._missing(name, required)
        elif (problem := pence_problem(value)) is not None:
            self.fail(name, problem)
        else:
            self.out[name] = value

    def day(self, name: str, *, required: bool = True) -> None:
        value = self.data.get(name)
        if value is None:
            self._missing(name, required)
        elif (parsed := parse_day(value)) is None:
            self.fail(name, "Must be a date (YYYY-MM-DD) between 2000 and 2100.")
        else:
            self.out[name] = parsed.isoformat()

    def flag(self, name: str) -> None:
        value = self.data.get(name, False)
        if not isinstance(value, bool):
            self.fail(name, "Must be true or false.")
        else:
            self.out[name] = value

    def lines(self, name: str) -> None:
        """A list of {label, pence}: income, outgoings or priority debts."""
        value = self.data.get(name, [])
        if not isinstance(value, list) or len(value) > MAX_LINES:
            self.fail(name, f"Must be a list of at most {MAX_LINES} lines.")
            return
        kept = []
        for n, line in enumerate(value):
            if not isinstance(line, dict) or set(line) - {"label", "pence"}:
                self.fail(f"{name}.{n}", "Must be a line with a label and an amount in pence.")
                continue
            if (problem := text_problem(line.get("label"))) is not None:
                self.fail(f"{name}.{n}.label", problem)
            if (problem := pence_problem(line.get("pence"))) is not None:
                self.fail(f"{name}.{n}.pence", problem)
            kept.append({"label": line.get("label"), "pence": line.get("pence")})
        self.out[name] = kept

    def texts(self, name: str) -> None:
        value = self.data.get(name, [])
        if not isinstance(value, list) or len(value) > MAX_LINES:
            self.fail(name, f"Must be a list of at most {MAX_LINES} items.")
            return
        for n, item in enumerate(value):
            if (problem := text_problem(item)) is not None:
                self.fail(f"{name}.{n}", problem)
        self.out[name] = list(value)

    def _missing(self, name: str, required: bool) -> None:
        if required:
            self.fail(name, "Required.")
        else:
            self.out[name] = None


def pence_problem(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_PENCE:
        return "Must be a whole number of pence from 0 to 100000000."
    return None


def text_problem(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT:
        return f"Must be text of 1 to {MAX_TEXT} characters."
    return None


def parse_day(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        return None
    return parsed if EARLIEST <= parsed <= LATEST and len(value) == 10 else None


def month_later(day: date) -> date:
    """The same day next month, or that month's last day (31 January -> 28 or 29 February)."""
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _tenancy(f: _Fields) -> None:
    f.choice("landlord_type", LANDLORD_TYPES)
    f.pence("rent_pence")
    f.choice("rent_frequency", RENT_FREQUENCIES)
    f.choice("paid_by", RENT_PAYERS)
    f.day("start_on")


def _apa(f: _Fields) -> None:
    f.choice("trigger", APA_TRIGGERS)
    f.choice("type", APA_TYPES)
    f.choice("status", APA_STATUSES)
    f.day("review_on", required=False)
    dates = f.data.get("status_dates", {})
    if not isinstance(dates, dict):
        f.fail("status_dates", "Must map each status reached to its date.")
        return
    kept = {}
    for status, value in dates.items():
        if status not in APA_STATUSES:
            f.fail("status_dates", f"Unknown status {str(status)[:40]!r}.")
        elif (parsed := parse_day(value)) is None:
            f.fail(f"status_dates.{status}", "Must be a date (YYYY-MM-DD) between 2000 and 2100.")
        else:
            kept[status] = parsed.isoformat()
    status = f.out.get("status")
    if status is not None and status not in kept:
        f.fail(f"status_dates.{status}", "Give the date the APA reached this status.")
    f.out["status_dates"] = kept


def _money_plan(f: _Fields) -> None:
    f.lines("income")
    f.lines("outgoings")
    f.lines("priority_debts")
    f.texts("agreed_actions")
    f.day("reviewed_on")


def _banking(f: _Fields) -> None:
    opened = f.data.get("account_opened")
    if opened is None:
        f.out["account_opened"] = None
    elif not isinstance(opened, dict) or set(opened) - {"type", "on"}:
        f.fail("account_opened", "Must give the account's type and the date it was opened.")
    else:
        sub = _Fields(opened)
        sub.choice("type", ACCOUNT_TYPES)
        sub.day("on")
        for name, messages in sub.errors.items():
            f.errors.setdefault(name.replace("data.", "data.account_opened.", 1), []).extend(
                messages)
        f.out["account_opened"] = sub.out
    f.day("online_account_set_up", required=False)
    f.flag("claim_managed_online")


_KINDS: dict[str, tuple[Callable[[_Fields], None], frozenset[str]]] = {
    "tenancy": (_tenancy, frozenset(
        {"landlord_type", "rent_pence", "rent_frequency", "paid_by", "start_on"})),
    "apa": (_apa, frozenset({"trigger", "type", "status", "status_dates", "review_on"})),
    "money_plan": (_money_plan, frozenset(
        {"income", "outgoings", "priority_debts", "agreed_actions", "reviewed_on"})),
    "banking": (_banking, frozenset(
        {"account_opened", "online_account_set_up", "claim_managed_online"})),
}


def check(kind: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """The record's fields, checked and normalised; a ValidationError names every problem."""
    if kind not in RECORD_KINDS:
        raise ValidationError({"kind": [f"Must be one of: {', '.join(RECORD_KINDS)}."]})
    checker, known = _KINDS[kind]
    f = _Fields(data)
    for name in sorted(set(data) - known):
        f.fail(str(name)[:40], "Unknown field for this kind of record.")
    checker(f)
    if f.errors:
        raise ValidationError(f.errors)
    return f.out


def review_on(kind: str, data: Mapping[str, Any]) -> date | None:
    """The record's plain review date: an APA's own; a money plan's a month after its review."""
    if kind == "apa" and data.get("review_on"):
        return date.fromisoformat(data["review_on"])
    if kind == "money_plan":
        return month_later(date.fromisoformat(data["reviewed_on"]))
    return None


def check_apa_move(before: str, after: str) -> None:
    """Statuses move forward only; `ended` may follow any status and nothing follows it."""
    if after not in APA_STATUSES:  # any JSON value may arrive here: not only strings
        raise ValidationError({"data.status": [f"Must be one of: {', '.join(APA_STATUSES)}."]})
    if before == after:
        return
    if before == "ended":
        raise ValidationError({"data.status": ["This APA has ended; record a new one."]})
    if after != "ended" and APA_STATUSES.index(after) < APA_STATUSES.index(before):
        raise ValidationError({"data.status": [
            f"An APA moves forward only: it is {before} and cannot go back to {after}."]})


def next_apa_status(status: str) -> str | None:
    """The step after `status` on the way to `in_place` (None once in place or ended)."""
    order = APA_STATUSES[:APA_STATUSES.index("in_place") + 1]
    if status not in order or status == "in_place":
        return None
    return order[order.index(status) + 1]
