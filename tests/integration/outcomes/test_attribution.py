"""Recording an outcome on a real database (both engines): attributed through the referral
chain (the work coach's accepted referral to the housing service) and to the owner of a support
record of the outcome's category, in shares summing to 1; a referral that did not lead to a
contributor earns nothing."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from caseshare.outcomes.attribution import attribute
from caseshare.outcomes.models import Outcome, OutcomeAttribution
from caseshare.runtime import Runtime
from caseshare.support_records.models import SupportRecord
from tests.builders import consent, refer, register
from tests.conftest import COACH, HOUSING, KEY_WORKER, Clock

TS = "tenancy_sustainment"


def _shares(rt: Runtime, outcome_id: uuid.UUID) -> dict[str, tuple[str, Decimal]]:
    with rt.session_factory() as s:
        rows = s.scalars(select(OutcomeAttribution)
                         .where(OutcomeAttribution.outcome_id == outcome_id))
        return {r.org: (r.basis, Decimal(str(r.share))) for r in rows}


def test_outcome_is_attributed_up_the_referral_chain_and_to_record_owners(
        client: FlaskClient, auth: Any, rt: Runtime, clock: Clock) -> None:
    coach = auth(COACH)
    subject = register(client, coach)
    consent(client, coach, subject, clock.now)
    to_housing = refer(client, coach, subject, "derby-housing", TS, clock.now).json["id"]
    assert client.post(f"/api/v1/referrals/{to_housing}/accept?purpose={TS}",
                       headers=auth(HOUSING)).status_code == 200
    # A referral to treatment brings no one to the housing outcome.
    to_treatment = refer(client, coach, subject, "recovery-partnership", "recovery_support",
                         clock.now).json["id"]
    assert client.post(f"/api/v1/referrals/{to_treatment}/accept?purpose=recovery_support",
                       headers=auth(KEY_WORKER)).status_code == 200

    r = client.post(f"/api/v1/subjects/{subject}/outcomes?purpose={TS}", headers=auth(HOUSING),
                    json={"code": "apa_identified",
                          "achieved_on": (clock.now - timedelta(days=1)).date().isoformat()})
    assert r.status_code == 201, r.json
    assert _shares(rt, uuid.UUID(r.json["id"])) == {
        "derby-housing": ("recorded", Decimal("0.5")), "jcp-derby": ("referral", Decimal("0.5"))}

    # Citizens Advice wrote a housing record for the claimant: it shares the next outcome.
    with rt.session_factory() as s:
        s.add(SupportRecord(subject_id=uuid.UUID(subject), kind="tenancy",
                            category="housing_tenancy", created_org="ca-derby", data=b"sealed",
                            created_at=clock.now, created_by=uuid.uuid4(), updated_at=clock.now,
                            updated_by=uuid.uuid4(), updated_purpose=TS))
        s.commit()
    r = client.post(f"/api/v1/subjects/{subject}/outcomes?purpose={TS}", headers=auth(HOUSING),
                    json={"code": "apa_in_place", "achieved_on": clock.now.date().isoformat()})
    assert r.status_code == 201, r.json
    shares = _shares(rt, uuid.UUID(r.json["id"]))
    assert shares == {"derby-housing": ("recorded", Decimal("0.3334")),
                      "ca-derby": ("entry_owner", Decimal("0.3333")),
                      "jcp-derby": ("referral", Decimal("0.3333"))}
    assert sum(share for _, share in shares.values()) == 1


def test_attribute_is_callable_for_a_computed_outcome(
        client: FlaskClient, auth: Any, rt: Runtime, clock: Clock) -> None:
    """The computed six-month outcome has no staff member: attribute() takes the row alone."""
    coach = auth(COACH)
    subject = register(client, coach)
    with rt.session_factory() as s:
        outcome = Outcome(subject_id=uuid.UUID(subject), code="paying_own_rent_6m",
                          category="housing_tenancy", achieved_on=clock.now.date(),
                          computed=True, recorded_org="derby-housing", recorded_at=clock.now,
                          purpose=TS)
        s.add(outcome)
        s.flush()
        rows = attribute(s, outcome)
        s.commit()
    assert [(r.org, r.basis) for r in rows] == [("derby-housing", "recorded")]
