"""The Carmarthenshire WASPI partnership records consent on its own bilingual form: a
Carmarthenshire housing officer records consent in Welsh for a claimant registered as `wales`
(before this form existed such a consent was refused 422, no form naming its parties). The
misapplied WASPI template form is retired: no new consent is recorded on it."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient

from caseshare.identity import service as identity
from caseshare.runtime import Runtime
from tests.audit_helpers import events
from tests.builders import CONSENTS, assert_problem, consent_body, consent_state, register
from tests.conftest import COACH, Clock, Demo

WALES_HOUSING = "eleri.morgan@carmarthenshire-housing.example"
FORM = "/api/v1/consent-forms/carmarthenshire-support/1?lang=cy"
PARTIES = ["carmarthenshire-housing", "jcp-south-west-wales", "tywi-recovery"]


def _housing_officer(rt: Runtime) -> None:
    with rt.session_factory() as s:
        identity.add_or_update_staff(s, protocols=rt.protocols, email=WALES_HOUSING,
                                     name="Housing officer", org="carmarthenshire-housing",
                                     roles=["housing_officer"], now=rt.now())
        s.commit()


def _welsh_consent(statement: str, clock: Clock) -> dict[str, Any]:
    return consent_body(
        form_id="carmarthenshire-support", form_version=1, language="cy",
        recipients=PARTIES, purposes=["case_management", "tenancy_sustainment"],
        categories=["identity", "contact", "housing_tenancy", "substance_misuse"],
        explicit_statement=statement, method="wet_signature", evidence_ref="SCAN-2026-0311",
        expires_at=(clock() + timedelta(days=180)).isoformat())


def test_a_carmarthenshire_housing_officer_records_consent_in_welsh(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime, clock: Clock
) -> None:
    _housing_officer(rt)
    headers = auth(WALES_HOUSING)
    subject = register(client, headers, given_name="Rhys", family_name="Thomas",
                       nino="AB 65 43 21 D", postcode="SA31 1LE", jurisdiction="wales")
    form = client.get(FORM, headers=headers)
    assert form.status_code == 200, form.json
    assert form.json["options"]["recipients"] == PARTIES
    assert "Gwasanaeth Adferiad Tywi" in form.json["text"]  # names its parties, in Welsh

    r = client.post(CONSENTS.format(subject), headers=headers,
                    json=_welsh_consent(form.json["explicit_statement"], clock))
    assert r.status_code == 201, r.json
    assert (r.json["form_id"], r.json["form_version"], r.json["language"]) == (
        "carmarthenshire-support", 1, "cy")
    assert r.json["text_hash"] == hashlib.sha256(form.json["text"].encode()).hexdigest()
    assert r.json["explicit"] is True and sorted(r.json["recipients"]) == PARTIES
    recorded = [e for e in events(rt, type="consent:record:create")
                if e.request_id == r.headers["X-Request-ID"]]
    assert len(recorded) == 1 and recorded[0].decision == "allow"


def test_the_retired_waspi_form_takes_no_new_consent(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    before = consent_state(rt)
    r = client.post(CONSENTS.format(demo.kerry), headers=auth(COACH), json=consent_body(
        form_id="waspi-personal-information", recipients=["ca-derby"],
        purposes=["budgeting_support"], categories=["finances"]))
    assert_problem(r, 422, "form_id")
    assert "carmarthenshire-support" in str(r.json)  # says which form to use instead
    assert consent_state(rt) == before
    # Its text stays served: consents recorded on it pin that text's hash.
    served = client.get("/api/v1/consent-forms/waspi-personal-information/1?lang=cy",
                        headers=auth(COACH))
    assert served.status_code == 200


def test_a_derby_worker_cannot_record_on_the_carmarthenshire_form(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime, clock: Clock
) -> None:
    """Review of issue 25: the API took a Derby coach's consent on the Carmarthenshire form for
    a Derby claimant, naming a Welsh Jobcentre, which could then look the claimant up."""
    before = consent_state(rt)
    form = client.get(FORM, headers=auth(COACH))
    body = _welsh_consent(form.json["explicit_statement"], clock)
    r = client.post(CONSENTS.format(demo.kerry), headers=auth(COACH), json=body)
    assert_problem(r, 422, "form_id")
    assert "derby-multi-agency" in str(r.json)  # names the coach's own form
    assert consent_state(rt) == before
