"""The service directory on the access path: search it, read one service, and check the
service a referral names.

Not audited, on purpose: the directory holds no claimant data. A search names no claimant and
returns only what partnerships publish about their services (names, addresses, opening times,
contact points), so it discloses nothing about anyone and there is nothing for an audit event
to record; an event per search would only fill the log that IG officers read. The scope and the
declared purpose are still checked by `access.begin` like every request, and their refusals are
audited there. What a referral to a service shares is decided and audited by
`access.referrals`, where the claimant is named.

Each result says whether the caller's organisation could refer to it with information going
along (`shares_data`: a protocol in force carries a flow from the caller's organisation to the
service's organisation) or only signpost the claimant to it."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from caseshare.access.context import RequestContext
from caseshare.directory import postcodes
from caseshare.directory import service as directory
from caseshare.directory.service import Query, ServiceView
from caseshare.directory.taxonomy import SERVICE_LINES
from caseshare.errors import BadCursorError, NotFoundError, ValidationError
from caseshare.policy.models import RESERVED_PURPOSES, usable_protocols

MAX_PAGE = 200


@dataclass(frozen=True)
class ServiceItem:
    """A service, and what the caller's organisation may do with it: `referral_purposes` are
    the purposes a protocol flow carries from the caller's organisation to the service's (empty:
    signposting only, no information about the claimant goes with it)."""

    service: ServiceView
    referral_purposes: list[str]

    @property
    def shares_data(self) -> bool:
        return bool(self.referral_purposes)


@dataclass(frozen=True)
class ServicePage:
    items: list[ServiceItem]
    next_cursor: str | None


def search_services(ctx: RequestContext, *, service_line: str | None = None,
                    postcode: str | None = None, q: str | None = None, limit: int = 50,
                    cursor: str | None = None) -> ServicePage:
    """Active services matching every filter given, by name, one page (see the module's
    docstring for why this is not audited). `postcode`: a full postcode or a district."""
    errors: dict[str, list[str]] = {}
    if service_line and service_line not in SERVICE_LINES:
        errors["service_line"] = [f"Unknown service line {service_line!r}."]
    if q and "\x00" in q:  # PostgreSQL text cannot hold NUL: a 422, never a 500
        errors["q"] = ["Enter words of a name, without control characters."]
    if postcode and postcodes.district(postcode) is None:
        errors["postcode"] = ["Enter a full postcode or a postcode district, like DE1 2FS "
                              "or DE1."]
    if errors:
        raise ValidationError(errors)
    limit = max(1, min(limit, MAX_PAGE))
    ctx.read_from_snapshot()  # nothing is written: no write lock on SQLite
    rows = directory.search(ctx.session, Query(
        service_line=service_line or None, postcode=postcode or None, q=(q or "").strip() or None,
        after=_decode(cursor) if cursor else None, limit=limit))
    page, more = rows[:limit], len(rows) > limit
    next_cursor = _encode(page[-1]) if more and page else None
    purposes = _referral_purposes(ctx)
    return ServicePage([ServiceItem(v, purposes.get(v.party_id or "", [])) for v in page],
                       next_cursor)


def get_service(ctx: RequestContext, service_id: str) -> ServiceItem:
    """One service (any status), or 404."""
    view = None if "\x00" in service_id else directory.get(ctx.session, service_id)
    if view is None:
        raise NotFoundError("No such service.")
    return ServiceItem(view, _referral_purposes(ctx).get(view.party_id or "", []))


def referral_to_service(ctx: RequestContext, values: dict[str, Any]) -> dict[str, Any]:
    """The referral's values with `to_org` taken from its `service_id` where it names one and
    gives no `to_org`. The service must exist, be active and belong to an organisation that is
    a protocol party (a service of an organisation outside every protocol is for signposting
    only: no information goes to it), and that organisation must be `to_org` when both are
    given: otherwise a ValidationError naming `service_id`. Without a service, `to_org` is
    required."""
    service_id = values.get("service_id")
    if not service_id:
        if not values.get("to_org"):
            raise ValidationError({"to_org": ["Missing data for required field."]})
        return values
    view = None if "\x00" in service_id else directory.get(ctx.session, service_id)
    problem = None
    if view is None:
        problem = f"Unknown service {service_id!r}."
    elif view.status != "active":
        problem = "The service is not taking referrals (it is not active)."
    elif view.party_id is None:
        problem = ("The service's organisation is outside every information sharing "
                   "protocol: signpost the claimant to it instead (no information about them "
                   "goes with a signposting).")
    elif values.get("to_org") and values["to_org"] != view.party_id:
        problem = f"The service belongs to {view.party_id!r}, not to {values['to_org']!r}."
    if problem is not None:
        raise ValidationError({"service_id": [problem]})
    assert view is not None
    return {**values, "to_org": view.party_id}


def _referral_purposes(ctx: RequestContext) -> dict[str, list[str]]:
    """Protocol party -> the purposes a flow in force carries from the caller's organisation
    to it (the party active in that protocol). Pure: read from the loaded protocols."""
    me = ctx.principal.org
    usable, _why = usable_protocols(me, ctx.protocols, ctx.now)
    found: dict[str, set[str]] = {}
    for protocol in usable:
        for flow in protocol.flows:
            if me not in flow.from_orgs:
                continue
            for to_org in flow.to_orgs - {me}:
                party = protocol.party(to_org)
                if party is not None and party.status == "active":
                    found.setdefault(to_org, set()).update(flow.purposes - RESERVED_PURPOSES)
    return {org: sorted(p) for org, p in found.items() if p}


def _encode(view: ServiceView) -> str:
    raw = json.dumps([view.sort_key, view.id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> tuple[str, str]:
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise BadCursorError() from exc
    if (not isinstance(value, list) or len(value) != 2
            or not all(isinstance(v, str) and "\x00" not in v for v in value)):
        raise BadCursorError()
    return value[0], value[1]
