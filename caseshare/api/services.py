"""The service directory as JSON (caseshare.access.services)."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from caseshare.access import services
from caseshare.api.common import api_blueprint, unit_of_work
from caseshare.schemas.services import ServiceList, ServiceQuery

blp = api_blueprint("services", __name__, "The service directory (Open Referral UK)")


def service_out(item: services.ServiceItem) -> dict[str, Any]:
    """A service in the API's shape."""
    v = item.service
    return {"id": v.id, "name": v.name, "name_cy": v.name_cy, "status": v.status,
            "organisation": {"id": v.organisation_id, "name": v.organisation_name,
                             "name_cy": v.organisation_name_cy, "party_id": v.party_id},
            "description": v.description, "url": v.url, "email": v.email,
            "service_lines": v.service_lines, "service_areas": v.service_areas,
            "contacts": v.contacts, "eligibility": v.eligibility,
            "regular_schedules": v.regular_schedules, "locations": v.locations,
            "shares_data": item.shares_data, "referral_purposes": item.referral_purposes}


@blp.route("/services", methods=["GET"])
@blp.arguments(ServiceQuery, location="query", as_kwargs=True)
@blp.response(200, ServiceList)
def search(purpose: str, limit: int, service_line: str | None = None,
           postcode: str | None = None, q: str | None = None,
           cursor: str | None = None) -> Any:
    """Search the service directory.

    Active services by LSSF service line, postcode (a full postcode or a district; matched by
    district and service area) and name (`q`), sorted by name and paged. Each says whether the
    caller's organisation shares data with the service's (`shares_data`): otherwise a referral
    to it is signposting only. The directory holds no claimant data, so a search is not
    audited (the scope and purpose refusals are).
    """
    with unit_of_work(purpose, "referrals:read") as ctx:
        found = services.search_services(ctx, service_line=service_line, postcode=postcode,
                                          q=q, limit=limit, cursor=cursor)
    # Built in the documented shape (ServiceList) and returned as it is: a page of 50 services
    # dumped through the nested marshmallow schemas cost more than the search itself
    # (BENCHMARKS.md, "Directory search"); tests/api/test_services.py checks the shape.
    return jsonify({"items": [service_out(i) for i in found.items],
                    "next_cursor": found.next_cursor})
