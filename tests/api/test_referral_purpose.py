"""Issue 18 (e): a referral is checked against the caller's own grants, for the purpose the
request declares and the referral's purpose; a refusal is a 403 with reasons, audited."""

from __future__ import annotations

import uuid
from typing import Any

from flask.testing import FlaskClient

from caseshare.case_plan.models import Referral
from caseshare.identity import service as identity
from caseshare.runtime import Runtime
from tests.audit_helpers import count, events
from tests.builders import assert_problem, consent, refer, register
from tests.conftest import HOUSING, Clock, issue_token

DUAL = "morgan.ellis@derby-housing.example"


def _dual_role_officer(rt: Runtime) -> dict[str, str]:
    """A housing officer who is also their organisation's IG officer (one person, two roles)."""
    with rt.session_factory() as s:
        identity.add_or_update_staff(s, protocols=rt.protocols, email=DUAL, name="Morgan Ellis",
                                     org="derby-housing",
                                     roles=["housing_officer", "ig_officer"], now=rt.now())
        s.commit()
    return {"Authorization": f"Bearer {issue_token(rt, DUAL)}"}


def test_a_referral_declared_for_the_audit_purpose_is_refused_with_reasons_and_audited(
    client: FlaskClient, auth: Any, rt: Runtime, clock: Clock
) -> None:
    housing = auth(HOUSING)
    subject = register(client, housing)
    consent(client, housing, subject, clock.now)
    dual = _dual_role_officer(rt)
    # `audit` gives audit metadata, never claimant data: a referral hands claimant data over.
    r = refer(client, dual, subject, "jcp-derby", "case_management", clock.now,
              query_purpose="audit")
    assert_problem(r, 403)
    assert r.json["reasons"] == ["purpose_reserved"]
    [event] = [e for e in events(rt, type="referral:referral:create",
                                 subject_id=uuid.UUID(subject)) if e.decision == "deny"]
    assert r.json["audit_id"] == str(event.event_uuid)
    assert event.reasons == ["purpose_reserved"] and event.purpose == "audit"
    assert event.details["referral_purpose"] == "case_management"
    assert event.details["to_org"] == "jcp-derby"
    assert count(rt, Referral) == 0


def test_the_same_person_refers_under_a_purpose_their_grant_gives_and_it_is_audited(
    client: FlaskClient, auth: Any, rt: Runtime, clock: Clock
) -> None:
    housing = auth(HOUSING)
    subject = register(client, housing)
    consent(client, housing, subject, clock.now)
    dual = _dual_role_officer(rt)
    r = refer(client, dual, subject, "jcp-derby", "case_management", clock.now,
              query_purpose="tenancy_sustainment")
    assert r.status_code == 201, r.json
    [event] = [e for e in events(rt, type="referral:referral:create",
                                 subject_id=uuid.UUID(subject)) if e.decision == "allow"]
    assert event.purpose == "tenancy_sustainment" and event.details["referral_id"] == r.json["id"]
