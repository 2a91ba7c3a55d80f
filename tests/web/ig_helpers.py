"""Steps shared by the IG page tests: an IG officer with a second factor, and a break-glass
override to review (made by the housing officer through the API, as in the real journey)."""

from __future__ import annotations

import uuid
from typing import Any

import pyotp
from flask.testing import FlaskClient

from caseshare.identity.models import StaffMember
from caseshare.runtime import Runtime
from tests.conftest import COACH, HOUSING, IG

JUSTIFICATION = (
    "Neighbour reported the claimant has not been seen for four days and the flat is silent; "
    "consent was withdrawn yesterday and the claimant cannot be reached to ask again. We need "
    "the work coach's latest contact notes to judge the risk before a welfare visit."
)


def enrol_second_factor(rt: Runtime, email: str = IG) -> str:
    """Give the IG officer an authenticator secret (as `staff totp-enrol` does); returns it."""
    secret = pyotp.random_base32()
    with rt.session_factory() as s:
        staff = s.query(StaffMember).filter_by(email=email).one()
        staff.totp_secret = secret
        s.commit()
    return secret


def break_glass(client: FlaskClient, auth: Any, subject: uuid.UUID) -> str:
    """The housing officer withdraws nothing herself: the work coach records the claimant's
    withdrawal, then the housing officer breaks glass for employment. Returns the override id."""
    r = client.get(f"/api/v1/subjects/{subject}/consents?purpose=case_management",
                   headers=auth(COACH))
    consent_id = r.json["items"][0]["id"]
    w = client.post(f"/api/v1/consents/{consent_id}/withdrawal?purpose=case_management",
                    json={"channel": "phone"}, headers=auth(COACH))
    assert w.status_code == 200
    o = client.post(f"/api/v1/subjects/{subject}/overrides?purpose=tenancy_sustainment",
                    json={"route": "safeguarding", "justification": JUSTIFICATION,
                          "categories": ["employment"], "hours": 4},
                    headers=auth(HOUSING))
    assert o.status_code == 201, o.json
    return str(o.json["id"])
