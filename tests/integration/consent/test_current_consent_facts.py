"""The read path's one-statement consent query gives the decision exactly what the full
history gives it: current granted versions with their withdrawals, nothing superseded or
refused (both engines)."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from caseshare.consent.service import current_consent_facts, decision_facts
from caseshare.runtime import Runtime
from caseshare.subjects.service import subject_consents
from tests.builders import CONSENTS, consent_body
from tests.conftest import COACH, Clock, Demo


def _both(rt: Runtime, subject: Any) -> tuple[list[Any], list[Any], int]:
    with rt.session_factory() as s:
        history = subject_consents(s, subject)
        return decision_facts(history), current_consent_facts(s, subject), len(history)


def test_current_consents_match_the_full_history(client: FlaskClient, auth: Any, demo: Demo,
                                                 rt: Runtime, clock: Clock) -> None:
    old = client.get(CONSENTS.format(demo.kerry), headers=auth(COACH)).json["items"][0]["id"]
    clock.advance(minutes=1)
    new = client.post(CONSENTS.format(demo.kerry), headers=auth(COACH), json=consent_body(
        supersedes=old, recipients=["jcp-derby", "ca-derby"],
        categories=["identity", "contact", "employment"]))
    assert new.status_code == 201, new.json
    clock.advance(minutes=1)
    refused = client.post(CONSENTS.format(demo.kerry), headers=auth(COACH), json=consent_body(
        decision="refused", recipients=["ca-derby"], categories=["employment"]))
    assert refused.status_code == 201, refused.json
    for scope in ({"categories": ["employment"]}, {"recipients": ["ca-derby"]}):
        clock.advance(minutes=1)
        w = client.post(f"/api/v1/consents/{new.json['id']}/withdrawal?purpose=case_management",
                        json={"channel": "phone", "scope": scope}, headers=auth(COACH))
        assert w.status_code in (200, 201), w.json

    expected, current, versions = _both(rt, demo.kerry)
    assert versions >= 3  # the superseded and the refused versions are in the history
    assert current == expected
    assert [str(c.id) for c in current] == [new.json["id"]]
    assert len(current[0].withdrawals) == 2


def test_every_demo_claimant_gets_the_same_facts(client: FlaskClient, demo: Demo,
                                                 rt: Runtime) -> None:
    for subject in (demo.lee, demo.kerry):
        expected, current, _versions = _both(rt, subject)
        assert expected and current == expected
