"""Registering a claimant from the pages (Flask client, both engines): the duplicate check by
NINO and by name and date of birth, errors that keep what was typed, check your answers with
"Change" links that keep it too, and exactly one claimant (and its audit event) on confirming.
A claimant another organisation registered is never disclosed to the caller."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from caseshare.runtime import Runtime
from caseshare.subjects.models import Subject
from tests.audit_helpers import count, events
from tests.conftest import COACH, HOUSING, Demo
from tests.web.test_pages import sign_in, token

NEW = "/claimants/new"
CHECK = "/claimants/new/check"


def details(**changes: str) -> dict[str, str]:
    values = {"nino": "QQ 11 22 33 A", "given_name": "Jo", "family_name": "Brennan",
              "born-day": "2", "born-month": "9", "born-year": "1990", "postcode": "de1 3ab",
              "jurisdiction": "england"}
    return {k: v for k, v in (values | changes).items() if v}


def submit(client: FlaskClient, **changes: str) -> Any:
    return client.post(NEW, data={"csrf_token": token(client, NEW), **details(**changes)})


def text(resp: Any) -> str:
    return str(resp.get_data(as_text=True))


def test_check_your_answers_then_confirm_registers_exactly_one_claimant(
        client: FlaskClient, rt: Runtime, demo: Demo) -> None:
    sign_in(client, COACH)
    before, seeded = count(rt, Subject), len(events(rt, type="subject:record:create"))
    sent = submit(client)
    assert sent.status_code == 302 and sent.headers["Location"] == CHECK
    assert count(rt, Subject) == before  # nothing saved before the answers are checked
    check = text(client.get(CHECK))
    for shown in ("QQ112233A", "Jo Brennan", "2 September 1990", "DE1 3AB", "England",
                  "ask that organisation to refer them to you"):
        assert shown in check
    assert f'href="{NEW}?change=1#nino"' in check
    done = client.post(CHECK, data={"csrf_token": token(client, CHECK)})
    assert done.status_code == 302 and done.headers["Location"].endswith("/registered")
    assert count(rt, Subject) == before + 1
    created = events(rt, type="subject:record:create")[seeded:]
    assert len(created) == 1 and created[0].org == "jcp-derby"
    assert "Brennan" not in str(created[0].details) and "QQ112233A" not in str(created[0].details)
    subject_id = created[0].subject_id
    confirmation = text(client.get(done.headers["Location"]))
    assert "Claimant registered" in confirmation and "Jo Brennan" in confirmation
    assert f"/claimants/{subject_id}/consents/new" in confirmation
    assert f"/claimants/{subject_id}/plan/start" in confirmation
    # The draft is gone: a second confirm cannot register the claimant twice.
    again = client.post(CHECK, data={"csrf_token": token(client, NEW)})
    assert again.status_code == 302 and again.headers["Location"] == NEW
    assert count(rt, Subject) == before + 1
    found = text(client.get("/find?nino=QQ112233A"))
    assert f"/claimants/{subject_id}" in found


def test_errors_keep_what_was_typed_and_change_links_bring_it_back(
        client: FlaskClient, rt: Runtime, demo: Demo) -> None:
    sign_in(client, COACH)
    before, seeded = count(rt, Subject), len(events(rt, type="subject:record:create"))
    bad = submit(client, nino="QQ12", given_name="", **{"born-month": "13"}, jurisdiction="")
    page = text(bad)
    assert bad.status_code == 422
    for field in ("#nino", "#given_name", "#born-day", "#jurisdiction"):
        assert f'href="{field}"' in page
    assert 'value="QQ12"' in page and 'value="Brennan"' in page and 'value="13"' in page
    neither = text(submit(client, nino=""))
    assert "or select that they do not know it" in neither
    assert submit(client, nino="", nino_unknown="yes").headers["Location"] == CHECK
    assert "Not known" in text(client.get(CHECK))
    change = text(client.get(f"{NEW}?change=1"))
    assert 'value="Brennan"' in change and 'value="1990"' in change
    assert 'name="nino_unknown" type="checkbox" value="yes" checked' in change
    fresh = text(client.get(NEW))  # a new registration starts empty
    assert 'value="Brennan"' not in fresh
    assert count(rt, Subject) == before  # nothing saved yet
    assert len(events(rt, type="subject:record:create")) == seeded


def test_a_nino_already_on_the_caseload_leads_to_the_existing_record(
        client: FlaskClient, rt: Runtime, demo: Demo) -> None:
    sign_in(client, COACH)
    before, seeded = count(rt, Subject), len(events(rt, type="subject:record:create"))
    dup = submit(client, nino="qq123456c", given_name="Lee", family_name="Marsh")
    page = text(dup)
    assert dup.status_code == 409
    assert "This claimant is already registered" in page
    assert f'href="/claimants/{demo.lee}"' in page
    assert "this is a different person" not in page  # the same NINO is the same person
    # Going straight to the check page and confirming is refused too.
    confirm = client.post(CHECK, data={"csrf_token": token(client, CHECK)})
    assert confirm.status_code == 409 and count(rt, Subject) == before
    assert len(events(rt, type="subject:record:create")) == seeded


def test_a_name_and_birth_date_match_may_be_someone_else(client: FlaskClient, rt: Runtime,
                                                         demo: Demo) -> None:
    sign_in(client, COACH)
    before = count(rt, Subject)
    maybe = submit(client, given_name="Lee", family_name="marsh", **{
        "born-day": "14", "born-month": "3", "born-year": "1987"})
    page = text(maybe)
    assert maybe.status_code == 200
    assert "This claimant may already be registered" in page
    assert f'href="/claimants/{demo.lee}"' in page
    assert f'href="{CHECK}"' in page  # a different person: on to check your answers
    searched = events(rt, type="subject:search:name_dob")
    assert searched and searched[-1].details["matches"] == 1
    client.post(CHECK, data={"csrf_token": token(client, CHECK)})
    assert count(rt, Subject) == before + 1


def test_a_claimant_another_organisation_registered_is_not_disclosed(
        client: FlaskClient, rt: Runtime, demo: Demo) -> None:
    # Kerry Dunn is registered by Jobcentre Plus; the housing team does not work with her.
    sign_in(client, HOUSING, "tenancy_sustainment")
    resp = submit(client, nino="QQ654321A", given_name="Kerry", family_name="Dunn", **{
        "born-day": "2", "born-month": "11", "born-year": "1992"})
    assert resp.status_code == 302 and resp.headers["Location"] == CHECK
    page = text(client.get(CHECK))
    assert str(demo.kerry) not in page and "already registered" not in page
    assert "ask that organisation to refer them to you" in page


def test_a_refused_registration_keeps_the_answers_and_says_why(
        client: FlaskClient, rt: Runtime, demo: Demo, monkeypatch: Any) -> None:
    from caseshare.access import subjects
    from caseshare.errors import ForbiddenError

    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise ForbiddenError("Not permitted.", reasons=["not_party_to_protocol"])

    sign_in(client, COACH)
    before = count(rt, Subject)
    submit(client)
    monkeypatch.setattr(subjects, "register_subject", refuse)
    refused = client.post(CHECK, data={"csrf_token": token(client, CHECK)})
    page = text(refused)
    assert refused.status_code == 403
    assert 'data-testid="refused"' in page and "information sharing agreement" in page
    assert "Jo Brennan" in page and "QQ112233A" in page  # the answers are kept
    assert count(rt, Subject) == before
    monkeypatch.undo()
    assert client.post(CHECK, data={"csrf_token": token(client, CHECK)}).status_code == 302
    assert count(rt, Subject) == before + 1
