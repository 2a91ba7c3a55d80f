"""Case conference pages through the Flask client: record from the form, read under each
organisation's decision, errors keep what was typed."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from caseshare.runtime import Runtime
from tests.audit_helpers import events
from tests.conftest import COACH, HOUSING, KEY_WORKER, Demo
from tests.web.test_pages import sign_in, token

TREATMENT = "Six weeks sober; wants the group moved to evenings."


def _form(client: FlaskClient, path: str, **changes: str) -> dict[str, str]:
    data = {"csrf_token": token(client, path), "held_on-day": "20", "held_on-month": "11",
            "held_on-year": "2026", "attendee": ["recovery-partnership", "jcp-derby"],
            "minutes-substance_misuse": TREATMENT, "minutes-contact": "",
            "decision-1-title": "Book the prescribing review",
            "decision-1-owner_org": "recovery-partnership",
            "decision-1-category": "substance_misuse", "decision-1-due_on-day": "15",
            "decision-1-due_on-month": "12", "decision-1-due_on-year": "2026"}
    data.update(changes)
    return data  # type: ignore[return-value]


def _record(client: FlaskClient, demo: Demo, **changes: Any) -> Any:
    path = f"/claimants/{demo.lee}/conferences/new"
    return client.post(path, data=_form(client, path, **changes))


def test_record_then_read_under_each_decision(client: FlaskClient, demo: Demo,
                                              rt: Runtime) -> None:
    sign_in(client, KEY_WORKER)
    form = client.get(f"/claimants/{demo.lee}/conferences/new").get_data(as_text=True)
    assert 'name="minutes-substance_misuse"' in form
    assert 'name="minutes-employment"' not in form  # the key worker may not write it
    r = _record(client, demo)
    assert r.status_code == 302, r.get_data(as_text=True)[:3000]
    page_path = r.headers["Location"]
    mine = client.get(page_path).get_data(as_text=True)
    assert TREATMENT in mine and "Book the prescribing review" in mine
    assert events(rt, type="conferences:conference:create", subject_id=demo.lee)

    coach = FlaskClient(client.application)
    sign_in(coach, COACH)
    overview = coach.get(f"/claimants/{demo.lee}").get_data(as_text=True)
    assert "Case conferences</a> (2)" in overview  # the demo's own and this one
    assert TREATMENT in coach.get(page_path).get_data(as_text=True)

    housing = FlaskClient(client.application)
    sign_in(housing, HOUSING, purpose="tenancy_sustainment")
    seen = housing.get(page_path)
    text = seen.get_data(as_text=True)
    assert seen.status_code == 200 and TREATMENT not in text
    assert 'data-testid="withheld-substance_misuse"' in text
    assert 'data-testid="no-minutes"' in text
    listing = housing.get(f"/claimants/{demo.lee}/conferences").get_data(as_text=True)
    assert 'data-label="Held on"' in listing


def test_errors_keep_what_was_typed(client: FlaskClient, demo: Demo, rt: Runtime) -> None:
    sign_in(client, KEY_WORKER)
    before = len(events(rt, type="conferences:conference:create"))  # the demo's own
    r = _record(client, demo, **{"held_on-year": "2027", "decision-1-owner_org": "ca-derby"})
    text = r.get_data(as_text=True)
    assert r.status_code == 422
    assert TREATMENT in text and "Book the prescribing review" in text
    assert 'href="#held_on-day"' in text
    r = _record(client, demo, **{"decision-1-owner_org": "ca-derby"})
    assert r.status_code == 422
    assert 'href="#decision-1-owner_org"' in r.get_data(as_text=True)
    r = _record(client, demo, attendee=[])
    assert r.status_code == 422 and 'href="#attendee"' in r.get_data(as_text=True)
    assert len(events(rt, type="conferences:conference:create")) == before
