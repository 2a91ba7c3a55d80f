"""The demo seed shows the consent lifecycle: a proxy consent, a partial withdrawal and a
consent due for renewal, all made through the audited access path."""

from __future__ import annotations

import uuid
from typing import Any

from flask.testing import FlaskClient

from caseshare.runtime import Runtime
from tests.audit_helpers import events
from tests.builders import CONSENTS
from tests.conftest import ADVISER, COACH, Demo


def test_demo_has_a_proxy_consent_a_partial_withdrawal_and_an_expiring_consent(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    [line] = [line for line in demo.lines if line.startswith("claimant: Rhian Price")]
    rhian = uuid.UUID(line.split()[3])
    [consent] = client.get(CONSENTS.format(rhian), headers=auth(COACH)).json["items"]
    assert consent["given_by"]["type"] == "dwp_appointee"
    assert consent["status"] == "partially_withdrawn"
    assert consent["withdrawals"][0]["scope"] == {"recipients": ["ca-derby"]}
    assert consent["expiry_rule"] == "assessment_period_end"

    expiring = client.get("/api/v1/consents/expiring?purpose=case_management",
                          headers=auth(COACH)).json["items"]
    assert {consent["id"]} <= {i["id"] for i in expiring}
    notices = client.get("/api/v1/notifications?purpose=budgeting_support",
                         headers=auth(ADVISER)).json["items"]
    assert [n["consent_id"] for n in notices] == [consent["id"]]
    assert events(rt, type="consent:record:withdraw", subject_id=rhian)
