"""Recording consent from the pages (Flask client, both engines): check your answers before
anything is recorded, "Change" links that keep every choice, exactly one consent and its audit
event on confirming, and renewing a consent: the earlier choices shown read only, nothing
ticked, and the new consent superseding the old one."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient

from caseshare.consent.models import Consent
from caseshare.identity.passwords import set_password
from caseshare.identity.service import add_or_update_staff
from caseshare.runtime import Runtime
from caseshare.web.filters import purpose_name
from tests.audit_helpers import count, events
from tests.builders import register
from tests.conftest import COACH, Demo
from tests.web.browser import PASSWORD
from tests.web.test_pages import sign_in, token

CHOICES = {"recipients": ["jcp-derby", "recovery-partnership"],
           "purposes": ["case_management", "recovery_support"],
           "categories": ["identity", "substance_misuse"], "explicit": "yes",
           "given_by_type": "self", "method": "e_signature", "evidence_ref": "DOC-77",
           "expires_at-day": "1", "expires_at-month": "5", "expires_at-year": "2027"}


def text(resp: Any) -> str:
    return str(resp.get_data(as_text=True))


def checked(page: str) -> list[str]:
    return re.findall(r'value="([^"]+)" checked', page)


def test_check_your_answers_then_confirm_records_exactly_one_consent(
        client: FlaskClient, rt: Runtime, demo: Demo) -> None:
    sign_in(client, COACH)
    path = f"/claimants/{demo.lee}/consents/new"
    before, seeded = count(rt, Consent), len(events(rt, type="consent:record:create"))
    sent = client.post(path, data={"csrf_token": token(client, path), **CHOICES})
    check_path = f"/claimants/{demo.lee}/consents/check"
    assert sent.status_code == 302 and sent.headers["Location"] == check_path
    assert count(rt, Consent) == before  # nothing recorded before the check
    check = text(client.get(check_path))
    for shown in ("Derby Recovery Partnership", purpose_name("recovery_support"), "The claimant",
                  "Signed electronically, evidence DOC-77", "1 May 2027",
                  'data-testid="explicit-statement"', "Confirm and record consent"):
        assert shown in check
    change = re.search(r'href="([^"]*change=1[^"]*)#recipients"', check)
    assert change is not None
    kept = text(client.get(change.group(1).replace("&amp;", "&")))
    assert set(checked(kept)) >= {"jcp-derby", "recovery-partnership", "recovery_support",
                                  "substance_misuse", "yes", "self", "e_signature"}
    assert 'value="DOC-77"' in kept and 'value="2027"' in kept
    done = client.post(check_path, data={"csrf_token": token(client, check_path)})
    assert done.status_code == 302 and "/receipt?lang=en" in done.headers["Location"]
    assert count(rt, Consent) == before + 1
    created = events(rt, type="consent:record:create")[seeded:]
    assert len(created) == 1 and created[0].details["supersedes"] is None
    assert "DOC-77" not in str(created[0].details)
    again = client.post(check_path, data={"csrf_token": token(client, path)})
    assert again.status_code == 302 and again.headers["Location"] == path  # no draft left
    assert count(rt, Consent) == before + 1


def test_form_errors_keep_the_choices_and_nothing_is_recorded(client: FlaskClient, rt: Runtime,
                                                              demo: Demo) -> None:
    sign_in(client, COACH)
    path = f"/claimants/{demo.lee}/consents/new"
    before = count(rt, Consent)
    no_explicit = {k: v for k, v in CHOICES.items() if k != "explicit"}
    resp = client.post(path, data={"csrf_token": token(client, path), **no_explicit})
    page = text(resp)
    assert resp.status_code == 422
    assert "Explicit consent is required" in page and 'href="#explicit"' in page
    assert {"recovery-partnership", "substance_misuse", "e_signature"} <= set(checked(page))
    assert count(rt, Consent) == before
    # Without a draft the check page sends the user back to the form.
    check = client.get(f"/claimants/{demo.lee}/consents/check")
    assert check.status_code == 302 and check.headers["Location"] == path


def test_renewing_shows_the_earlier_choices_with_nothing_ticked_and_supersedes(
        client: FlaskClient, rt: Runtime, demo: Demo, auth: Any) -> None:
    listed = client.get(f"/api/v1/subjects/{demo.lee}/consents?purpose=case_management",
                        headers=auth(COACH)).get_json()["items"]
    old = next(c for c in listed if c["status"] == "active")
    sign_in(client, COACH)
    path = f"/claimants/{demo.lee}/consents/new?renews={old['id']}"
    form = text(client.get(path))
    assert "Last time the claimant agreed to" in form
    assert 'data-testid="renews"' in form and "Derby Recovery Partnership" in form
    assert checked(form) == [] and "checked" not in form.split('data-testid="renews"')[1]
    sent = client.post(path, data={"csrf_token": token(client, path), **CHOICES})
    check_path = f"/claimants/{demo.lee}/consents/check"
    assert sent.headers["Location"] == check_path
    assert "This consent replaces the one recorded on" in text(client.get(check_path))
    done = client.post(check_path, data={"csrf_token": token(client, check_path)})
    assert done.status_code == 302
    created = events(rt, type="consent:record:create")[-1]
    assert created.details["supersedes"] == old["id"]
    after = {c["id"]: c for c in client.get(
        f"/api/v1/subjects/{demo.lee}/consents?purpose=case_management",
        headers=auth(COACH)).get_json()["items"]}
    assert after[old["id"]]["status"] == "superseded"
    assert after[str(created.consent_id)]["supersedes"] == old["id"]
    # Renewing the same (now superseded) consent again is refused with the choices kept.
    again = client.post(path, data={"csrf_token": token(client, path), **CHOICES})
    refused = client.post(check_path, data={"csrf_token": token(client, check_path)})
    assert again.status_code == 302 and refused.status_code == 409
    page = text(refused)
    assert "already been replaced by a newer one" in page
    assert "recovery-partnership" in checked(page)


def test_renewing_a_consent_of_another_claimant_is_not_found(client: FlaskClient,
                                                             demo: Demo, auth: Any) -> None:
    listed = client.get(f"/api/v1/subjects/{demo.kerry}/consents?purpose=case_management",
                        headers=auth(COACH)).get_json()["items"]
    sign_in(client, COACH)
    resp = client.get(f"/claimants/{demo.lee}/consents/new?renews={listed[0]['id']}")
    assert resp.status_code == 404
    assert client.get(f"/claimants/{demo.lee}/consents/new?renews=nonsense").status_code == 404


def test_each_worker_records_consent_on_their_own_partnerships_form(
        client: FlaskClient, rt: Runtime, demo: Demo, auth: Any) -> None:
    """A Carmarthenshire housing officer gets the Carmarthenshire form (its parties to choose
    from, in English or Welsh), never the Derby one (the Derby coach's form is the test above's)."""
    email = "eleri.morgan@carmarthenshire-housing.example"
    with rt.session_factory() as s:
        staff = add_or_update_staff(s, protocols=rt.protocols, email=email, name="Eleri Morgan",
                                    org="carmarthenshire-housing", roles=["housing_officer"],
                                    now=rt.now())
        set_password(staff, PASSWORD)
        s.commit()
    subject = register(client, auth(email), given_name="Rhys", family_name="Thomas",
                       nino="AB 65 43 21 D", postcode="SA31 1LE", jurisdiction="wales")
    sign_in(client, email)
    page = text(client.get(f"/claimants/{subject}/consents/new"))
    offered = set(re.findall(r'name="recipients"[^>]*value="([^"]+)"', page)) | set(
        re.findall(r'value="([^"]+)"[^>]*name="recipients"', page))
    assert offered == {"carmarthenshire-housing", "jcp-south-west-wales", "tywi-recovery"}
    assert "Tywi Recovery Service" in page and "Derby" not in page
    welsh = text(client.get(f"/claimants/{subject}/consents/new?lang=cy"))
    assert "Gytundeb Cymru ar gyfer Rhannu Gwybodaeth Bersonol" in welsh
