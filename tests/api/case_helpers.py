"""Building a claimant's case through the API, as a front-line user would."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask.testing import FlaskClient

ALL_RECIPIENTS = ["jcp-derby", "recovery-partnership", "derby-housing"]
ALL_PURPOSES = ["case_management", "recovery_support", "tenancy_sustainment"]
ALL_CATEGORIES = ["identity", "contact", "employment", "housing_tenancy", "substance_misuse"]


def register(client: FlaskClient, headers: dict[str, str], *, nino: str = "AB 12 34 56 C",
             given_name: str = "Jordan") -> str:
    r = client.post("/api/v1/subjects?purpose=case_management", headers=headers, json={
        "given_name": given_name, "family_name": "Ashby", "date_of_birth": "1990-05-17",
        "nino": nino, "postcode": "DE1 3AB", "jurisdiction": "england"})
    assert r.status_code == 201, r.json
    return str(r.json["id"])


# The form's own explicit statement (derby-multi-agency v1, English).
TREATMENT = ("I explicitly agree that information about my drug or alcohol treatment may be "
             "shared with the organisations I have chosen, for the reasons I have chosen.")


def consent(client: FlaskClient, headers: dict[str, str], subject: str, now: datetime,
            **overrides: Any) -> str:
    body: dict[str, Any] = {
        "form_id": "derby-multi-agency", "form_version": 1, "language": "en",
        "given_by": {"type": "self"}, "recipients": ALL_RECIPIENTS, "purposes": ALL_PURPOSES,
        "categories": ALL_CATEGORIES,
        "explicit_statement": TREATMENT,
        "method": "e_signature", "evidence_ref": "DOC-2026-0999",
        "expires_at": (now + timedelta(days=180)).isoformat(),
    }
    body.update(overrides)
    r = client.post(f"/api/v1/subjects/{subject}/consents?purpose=case_management",
                    headers=headers, json=body)
    assert r.status_code == 201, r.json
    return str(r.json["id"])


def refer(client: FlaskClient, headers: dict[str, str], subject: str, to_org: str, purpose: str,
          now: datetime, query_purpose: str = "case_management") -> Any:
    return client.post(
        f"/api/v1/subjects/{subject}/referrals?purpose={query_purpose}", headers=headers,
        json={"to_org": to_org, "purpose": purpose,
              "message": "Jordan would like help with alcohol use; prefers mornings.",
              "contact_name": "Sam Okafor",
              "appointment_at": (now + timedelta(days=2)).isoformat()})
