"""Find a service: the directory search page (`/services`), by need (LSSF service line),
postcode and name, calling the same use case as GET /api/v1/services. With a claimant in
context (`?subject_id=`), each service whose organisation shares data with the user's offers
"Refer the claimant" (the referral page, service preselected); any other is signposting only,
and the page says that nothing about the claimant goes with it and shows its contacts.

The page names no claimant: the directory holds no claimant data, so nothing here is a
disclosure (access.services says why a search is not audited)."""

from __future__ import annotations

import uuid
from typing import Any

from flask import request

from caseshare.access import services
from caseshare.directory.taxonomy import SERVICE_LINES
from caseshare.errors import BadCursorError, ValidationError
from caseshare.web import forms
from caseshare.web.blueprint import bp, page, run

PAGE_SIZE = 20
FIELDS = ("service_line", "postcode", "q")


def _subject() -> uuid.UUID | None:
    try:
        return uuid.UUID(request.args.get("subject_id", ""))
    except ValueError:
        return None


@bp.route("/services", methods=["GET"])
def find_service() -> tuple[str, int]:
    values: dict[str, Any] = {name: forms.text(request.args, name)[:100] for name in FIELDS}
    subject_id = _subject()
    errors: forms.Errors = {}
    if values["service_line"] and values["service_line"] not in SERVICE_LINES:
        errors["service_line"] = "Select a need from the list"
    searched = any(values.values())
    found: services.ServicePage | None = None
    if searched and not errors:
        try:
            found = run("referrals:read", services.search_services,
                        service_line=values["service_line"] or None,
                        postcode=values["postcode"] or None, q=values["q"] or None,
                        limit=PAGE_SIZE, cursor=request.args.get("cursor") or None)
        except BadCursorError:
            errors["q"] = "The page of results asked for is not available: search again"
        except ValidationError as exc:
            errors.update(forms.domain_errors(exc.extra["errors"],
                                              {name: name for name in FIELDS}))
    status = 422 if errors else 200
    return page("services.html", status, values=values, errors=errors, found=found,
                subject_id=subject_id, lines=SERVICE_LINES, days=days)


DAYS = {"MO": "Monday", "TU": "Tuesday", "WE": "Wednesday", "TH": "Thursday", "FR": "Friday",
        "SA": "Saturday", "SU": "Sunday"}


def days(byday: str | None) -> str:
    """'MO,TU,WE,TH,FR' -> 'Monday to Friday'; 'MO,WE' -> 'Monday, Wednesday'."""
    codes = [d for d in (byday or "").split(",") if d in DAYS]
    order = list(DAYS)
    if len(codes) > 2 and [order.index(d) for d in codes] == list(
            range(order.index(codes[0]), order.index(codes[0]) + len(codes))):
        return f"{DAYS[codes[0]]} to {DAYS[codes[-1]]}"
    return ", ".join(DAYS[d] for d in codes) or "Days not given"
