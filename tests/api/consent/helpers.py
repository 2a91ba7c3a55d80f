"""Shared bits for the consent API tests."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient

from caseshare.consent.models import Consent, ConsentWithdrawal
from caseshare.notifications.models import Notification
from caseshare.runtime import Runtime
from tests.audit_helpers import count
from tests.conftest import COACH, START

CONSENTS = "/api/v1/subjects/{}/consents?purpose=case_management"
PLAN = "/api/v1/subjects/{}/case-plan?purpose={}"
# The form's own explicit statement (derby-multi-agency v1, English): the only accepted wording.
TREATMENT = ("I explicitly agree that information about my drug or alcohol treatment may be "
             "shared with the organisations I have chosen, for the reasons I have chosen.")


def consent_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "form_id": "derby-multi-agency", "form_version": 1, "language": "en",
        "given_by": {"type": "self"}, "recipients": ["jcp-derby"],
        "purposes": ["case_management"], "categories": ["identity", "contact"],
        "method": "e_signature", "evidence_ref": "DOC-77",
        "expires_at": (START + timedelta(days=90)).isoformat(),
    }
    body.update(changes)
    return body


def register(client: FlaskClient, auth: Any, *, born: str, jurisdiction: str = "england") -> str:
    r = client.post("/api/v1/subjects?purpose=case_management", headers=auth(COACH), json={
        "given_name": "Alex", "family_name": "Test", "date_of_birth": born,
        "jurisdiction": jurisdiction})
    assert r.status_code == 201, r.json
    return str(r.json["id"])


def state(rt: Runtime) -> tuple[int, int, int]:
    """Row counts of everything a consent action may write (to prove no partial state)."""
    return count(rt, Consent), count(rt, ConsentWithdrawal), count(rt, Notification)


def assert_problem(r: Any, status: int, field: str | None) -> None:
    assert r.status_code == status, r.get_data(as_text=True)
    assert r.headers["Content-Type"] == "application/problem+json"
    assert r.json["status"] == status
    if field is not None:
        assert field in r.json["errors"], r.json


def first_consent(client: FlaskClient, auth: Any, subject: uuid.UUID | str) -> dict[str, Any]:
    r = client.get(CONSENTS.format(subject), headers=auth(COACH))
    assert r.status_code == 200
    item: dict[str, Any] = r.json["items"][0]
    return item
