"""The one set of test builders: assert a problem+json error, register a claimant, record a
consent, make a referral, as a front-line user would through the API.

Every test that checks an error response uses `assert_problem`; every test that needs a
claimant, a consent or a referral builds it here, so a change to the API changes one place.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from flask.testing import FlaskClient

from caseshare.consent.models import Consent, ConsentWithdrawal
from caseshare.notifications.models import Notification
from caseshare.runtime import Runtime
from tests.audit_helpers import count
from tests.conftest import COACH, START

PROBLEM = "application/problem+json"
SUBJECTS = "/api/v1/subjects?purpose=case_management"
CONSENTS = "/api/v1/subjects/{}/consents?purpose=case_management"
PLAN = "/api/v1/subjects/{}/case-plan?purpose={}"

ALL_RECIPIENTS = ["jcp-derby", "recovery-partnership", "derby-housing"]
ALL_PURPOSES = ["case_management", "recovery_support", "tenancy_sustainment"]
ALL_CATEGORIES = ["identity", "contact", "employment", "housing_tenancy", "substance_misuse"]

# The form's own explicit statement (derby-multi-agency v1, English): the only accepted wording.
TREATMENT = ("I explicitly agree that information about my drug or alcohol treatment may be "
             "shared with the organisations I have chosen, for the reasons I have chosen.")


def assert_problem(r: Any, status: int, field: str | None = None, *, reason: str | None = None,
                   ) -> dict[str, Any]:
    """`r` is an RFC 9457 problem+json response with this status (and, when given, naming
    `field` in `errors` and `reason` in `reasons`); returns the body for further checks."""
    assert r.status_code == status, r.get_data(as_text=True)[:2000]
    assert r.headers["Content-Type"] == PROBLEM
    body: dict[str, Any] = r.json
    assert {"type", "title", "status", "detail"} <= set(body), body
    assert body["status"] == status, body
    if field is not None:
        assert field in body.get("errors", {}), body
    if reason is not None:
        assert reason in body.get("reasons", []), body
    return body


def register(client: FlaskClient, headers: dict[str, str], *, given_name: str = "Jordan",
             family_name: str = "Ashby", born: str = "1990-05-17",
             nino: str | None = "AB 12 34 56 C", postcode: str | None = "DE1 3AB",
             jurisdiction: str = "england") -> str:
    """Register a claimant (fields left None are not sent); returns the subject id."""
    body: dict[str, Any] = {"given_name": given_name, "family_name": family_name,
                            "date_of_birth": born, "nino": nino, "postcode": postcode,
                            "jurisdiction": jurisdiction}
    r = client.post(SUBJECTS, headers=headers,
                    json={key: value for key, value in body.items() if value is not None})
    assert r.status_code == 201, r.json
    return str(r.json["id"])


def consent_body(**changes: Any) -> dict[str, Any]:
    """A narrow consent (JCP, case management, identity and contact) for 90 days from START,
    with `changes` applied: the starting point for tests of one consent rule."""
    body: dict[str, Any] = {
        "form_id": "derby-multi-agency", "form_version": 1, "language": "en",
        "given_by": {"type": "self"}, "recipients": ["jcp-derby"],
        "purposes": ["case_management"], "categories": ["identity", "contact"],
        "method": "e_signature", "evidence_ref": "DOC-77",
        "expires_at": (START + timedelta(days=90)).isoformat(),
    }
    body.update(changes)
    return body


def consent(client: FlaskClient, headers: dict[str, str], subject: str, now: datetime,
            **overrides: Any) -> str:
    """Record a broad consent (three agencies, three purposes, treatment included) for 180
    days from `now`, with `overrides` applied; returns the consent id."""
    body: dict[str, Any] = {
        "form_id": "derby-multi-agency", "form_version": 1, "language": "en",
        "given_by": {"type": "self"}, "recipients": ALL_RECIPIENTS, "purposes": ALL_PURPOSES,
        "categories": ALL_CATEGORIES,
        "explicit_statement": TREATMENT,
        "method": "e_signature", "evidence_ref": "DOC-2026-0999",
        "expires_at": (now + timedelta(days=180)).isoformat(),
    }
    body.update(overrides)
    r = client.post(CONSENTS.format(subject), headers=headers, json=body)
    assert r.status_code == 201, r.json
    return str(r.json["id"])


def first_consent(client: FlaskClient, auth: Any, subject: uuid.UUID | str) -> dict[str, Any]:
    """The first consent the work coach sees on the subject's list."""
    r = client.get(CONSENTS.format(subject), headers=auth(COACH))
    assert r.status_code == 200
    item: dict[str, Any] = r.json["items"][0]
    return item


def refer(client: FlaskClient, headers: dict[str, str], subject: str, to_org: str, purpose: str,
          now: datetime, query_purpose: str = "case_management") -> Any:
    """Post a referral (appointment two days from `now`); returns the response unchecked."""
    return client.post(
        f"/api/v1/subjects/{subject}/referrals?purpose={query_purpose}", headers=headers,
        json={"to_org": to_org, "purpose": purpose,
              "message": "Jordan would like help with alcohol use; prefers mornings.",
              "contact_name": "Sam Okafor",
              "appointment_at": (now + timedelta(days=2)).isoformat()})


def consent_state(rt: Runtime) -> tuple[int, int, int]:
    """Row counts of everything a consent action may write (to prove no partial state)."""
    return count(rt, Consent), count(rt, ConsentWithdrawal), count(rt, Notification)
