"""The front-line pages added for issue 8 through the Flask client (both engines): find by name
and date of birth, referrals with accept and decline, emergency access, the consent receipt and
the "who has seen my information" report. Validation keeps what was typed; permission edges are
refused and audited."""

from __future__ import annotations

import html
import uuid
from typing import Any

from flask.testing import FlaskClient

from caseshare.runtime import Runtime
from tests.audit_helpers import events
from tests.conftest import ADVISER, COACH, HOUSING, KEY_WORKER, Demo
from tests.web.test_pages import sign_in, token

LONG_ENOUGH = ("Tenant rang the housing office at 9am saying the claimant has not been seen for "
               "four days, the flat is locked and neighbours heard a fall; he cannot be reached "
               "to ask for consent and we need his contact details and tenancy notes now.")


def text(resp: Any) -> str:
    return html.unescape(resp.get_data(as_text=True))


def post(client: FlaskClient, path: str, data: dict[str, Any], form: str | None = None) -> Any:
    """POST as the browser would, with the CSRF token of the page holding the form."""
    return client.post(path, data={"csrf_token": token(client, form or path), **data})


# Find a claimant by name and date of birth

def test_find_by_name_and_date_of_birth_among_own_claimants(client: FlaskClient, rt: Runtime,
                                                           demo: Demo) -> None:
    sign_in(client, COACH)
    found = client.get("/find?family_name=%20marsh%20&given_name=&born-day=14&born-month=3"
                       "&born-year=1987")
    assert found.status_code == 200
    page = text(found)
    assert f'href="/claimants/{demo.lee}"' in page and "born 14 March 1987" in page
    assert "Lee Marsh" in page
    [search] = events(rt, type="subject:search:name_dob")
    assert search.details == {"matches": 1, "given_name": False}
    assert "Marsh" not in str(search.details) and "1987" not in str(search.details)
    # A different given name, or a different date, is not a match.
    assert 'data-testid="no-results"' in text(client.get(
        "/find?family_name=Marsh&given_name=Leo&born-day=14&born-month=3&born-year=1987"))
    assert 'data-testid="no-results"' in text(client.get(
        "/find?family_name=Marsh&given_name=Lee&born-day=15&born-month=3&born-year=1987"))


def test_claimants_registered_before_the_name_index_are_still_found(client: FlaskClient,
                                                                    rt: Runtime,
                                                                    demo: Demo) -> None:
    from caseshare.subjects.models import Subject

    with rt.session_factory() as s:
        lee = s.get(Subject, demo.lee)
        assert lee is not None and lee.name_dob_index is not None
        assert "marsh" not in lee.name_dob_index.lower() and len(lee.name_dob_index) == 64
        lee.name_dob_index = None  # as for a claimant registered before migration 0011
        s.commit()
    sign_in(client, COACH)
    page = text(client.get("/find?family_name=MARSH&given_name=lee&born-day=14&born-month=03"
                           "&born-year=1987"))
    assert f'href="/claimants/{demo.lee}"' in page
    assert 'data-testid="no-results"' in text(client.get(
        "/find?family_name=Marsh&born-day=14&born-month=3&born-year=1988"))


def test_name_search_is_no_existence_oracle_for_other_organisations(client: FlaskClient,
                                                                   rt: Runtime,
                                                                   demo: Demo) -> None:
    sign_in(client, ADVISER, "budgeting_support")  # Citizens Advice does not work with Lee
    known = client.get("/find?family_name=Marsh&born-day=14&born-month=3&born-year=1987")
    unknown = client.get("/find?family_name=Nobody&born-day=1&born-month=1&born-year=1980")
    for resp in (known, unknown):
        assert resp.status_code == 200
        assert "No claimant your organisation works with has this name" in text(resp)
        assert str(demo.lee) not in text(resp)
    assert [e.details["matches"] for e in events(rt, type="subject:search:name_dob")] == [0, 0]
    # Kerry, whom Citizens Advice does work with, is found.
    kerry = text(client.get("/find?family_name=Dunn&given_name=kerry&born-day=2&born-month=11"
                            "&born-year=1992"))
    assert f'href="/claimants/{demo.kerry}"' in kerry


def test_name_search_validation_keeps_what_was_typed(client: FlaskClient, rt: Runtime,
                                                    demo: Demo) -> None:
    sign_in(client, COACH)
    empty = client.get("/find?family_name=&given_name=Lee&born-day=&born-month=&born-year=")
    assert empty.status_code == 422
    page = text(empty)
    assert 'href="#family_name"' in page and 'href="#born-day"' in page
    assert "Enter the claimant's last name" in page and 'value="Lee"' in page
    unreal = text(client.get("/find?family_name=Marsh&born-day=31&born-month=2&born-year=1990"))
    assert "Date of birth must be a real date" in unreal and 'value="31"' in unreal
    future = text(client.get("/find?family_name=Marsh&born-day=1&born-month=1&born-year=2030"))
    assert "Date of birth must be in the past" in future
    assert events(rt, type="subject:search:name_dob") == []  # nothing searched


# Referrals

def refer_kerry(client: FlaskClient, demo: Demo, **extra: str) -> Any:
    data = {"to_org": "ca-derby", "purpose": "budgeting_support",
            "message": "Kerry would like help with a budget around her UC payment date.",
            "contact_name": "Aisha Begum", "appointment-day": "3", "appointment-month": "12",
            "appointment-year": "2026", "appointment_time": "10:30", **extra}
    return post(client, f"/claimants/{demo.kerry}/referrals/new", data)


def test_referral_form_errors_keep_the_text(client: FlaskClient, rt: Runtime,
                                           demo: Demo) -> None:
    sign_in(client, COACH)
    resp = post(client, f"/claimants/{demo.kerry}/referrals/new",
                {"message": "Please call her back", "appointment-day": "1",
                 "appointment-month": "1", "appointment-year": "2026"})
    assert resp.status_code == 422
    page = text(resp)
    for field in ("to_org", "purpose", "contact_name", "appointment-day"):
        assert f'href="#{field}"' in page
    assert "The appointment must be in the future" in page
    assert "Please call her back" in page and 'value="2026"' in page
    bad_time = text(refer_kerry(client, demo, appointment_time="25:00"))
    assert "Enter the time like 14:30 or 2:30pm" in bad_time
    assert events(rt, type="referral:referral:create") == []


def test_a_refused_referral_is_explained_on_the_form_and_audited(client: FlaskClient,
                                                               rt: Runtime,
                                                               demo: Demo) -> None:
    sign_in(client, COACH)
    # Kerry's consent does not name the council's housing service.
    resp = refer_kerry(client, demo, to_org="derby-housing", purpose="case_management")
    assert resp.status_code == 403
    page = text(resp)
    assert "consent does not name Derby City Council Housing Options" in page
    assert "Kerry would like help with a budget" in page  # nothing typed is lost
    [denied] = events(rt, type="referral:referral:create", decision="deny")
    assert denied.reasons == ["recipient_not_in_consent"] and denied.subject_id == demo.kerry


def test_referral_sent_then_accepted_by_the_receiving_organisation(app: Any, client: FlaskClient,
                                                                  rt: Runtime,
                                                                  demo: Demo) -> None:
    sign_in(client, COACH)
    sent = refer_kerry(client, demo)
    assert sent.status_code == 302 and sent.headers["Location"] == f"/claimants/{demo.kerry}"
    [created] = events(rt, type="referral:referral:create", decision="allow")
    referral_id = created.details["referral_id"]
    assert "Kerry would like" not in str(created.details)  # the message is sealed, not audited
    overview = text(client.get(f"/claimants/{demo.kerry}"))
    table = overview[overview.index('data-testid="overview-referrals"'):]
    assert "Citizens Advice Derby" in table and "Open" in table
    assert "Kerry would like" not in overview  # the message stays in the referral boxes
    [listed] = events(rt, type="referral:referral:list", subject_id=demo.kerry)
    assert listed.details == {"referrals": [referral_id]}
    outbox = text(client.get("/referrals?box=sent"))
    assert "To Citizens Advice Derby: budgeting support" in outbox

    adviser = app.test_client()
    sign_in(adviser, ADVISER, "budgeting_support")
    inbox = text(adviser.get("/referrals"))
    assert "From Derby Jobcentre Plus: budgeting support" in inbox
    assert "Kerry would like help with a budget" in inbox and "Aisha Begum" in inbox
    assert "3 December 2026 at 10:30am" in inbox  # UK time (GMT in December)
    accepted = post(adviser, f"/referrals/{referral_id}/accept", {}, "/referrals")
    assert accepted.headers["Location"] == f"/claimants/{demo.kerry}"
    assert events(rt, type="referral:referral:accept", decision="allow")[0].org == "ca-derby"
    assert "Accepted" in text(adviser.get("/referrals"))
    # Accepting again is refused plainly, not a crash.
    assert post(adviser, f"/referrals/{referral_id}/accept", {}, "/referrals").status_code == 409


def test_decline_needs_a_reason_and_only_the_recipient_may_decline(app: Any,
                                                                   client: FlaskClient,
                                                                   rt: Runtime,
                                                                   demo: Demo) -> None:
    sign_in(client, COACH)
    refer_kerry(client, demo)
    referral_id = events(rt, type="referral:referral:create")[0].details["referral_id"]
    path = f"/referrals/{referral_id}/decline"
    # The sender is not the recipient: to them the referral does not exist (audited).
    assert post(client, path, {"reason": "Not ours"}).status_code == 404
    [probe] = events(rt, type="referral:referral:decline", decision="deny")
    assert probe.reasons == ["not_recipient"] and probe.org == "jcp-derby"

    adviser = app.test_client()
    sign_in(adviser, ADVISER, "budgeting_support")
    empty = post(adviser, path, {"reason": "  "})
    assert empty.status_code == 422 and 'href="#reason"' in text(empty)
    done = post(adviser, path, {"reason": "Outside our area: she lives in South Derbyshire."})
    assert done.status_code == 302 and done.headers["Location"] == "/referrals"
    [declined] = events(rt, type="referral:referral:decline", decision="allow")
    assert "Derbyshire" not in str(declined.details)  # the reason is sealed
    assert "Outside our area" in text(client.get("/referrals?box=sent"))


def test_an_organisation_outside_the_case_cannot_refer(client: FlaskClient, rt: Runtime,
                                                       demo: Demo) -> None:
    sign_in(client, KEY_WORKER, "recovery_support")
    refused = refer_kerry(client, demo, to_org="jcp-derby", purpose="case_management")
    assert refused.status_code == 404  # the treatment provider does not work with Kerry
    assert events(rt, type="access:subject:deny", subject_id=demo.kerry)
    assert events(rt, type="referral:referral:create") == []


# Emergency access (break glass)

def test_emergency_access_form_errors_then_granted_and_audited(client: FlaskClient,
                                                               rt: Runtime,
                                                               demo: Demo) -> None:
    sign_in(client, HOUSING, "tenancy_sustainment")
    path = f"/claimants/{demo.lee}/emergency-access"
    form = text(client.get(path))
    assert "reviewed by an information governance officer" in form
    assert 'type="checkbox"' in form and "checked" not in form
    empty = post(client, path, {"justification": "Neighbour called"})
    assert empty.status_code == 422
    page = text(empty)
    for field in ("route", "categories", "hours", "understood"):
        assert f'href="#{field}"' in page
    assert "Neighbour called" in page
    short = post(client, path, {"route": "safeguarding", "justification": "Neighbour called",
                                "categories": "contact", "hours": "4", "understood": "yes"})
    assert short.status_code == 422
    assert "at least 100 characters" in text(short) and 'href="#justification"' in text(short)
    too_long = post(client, path, {"route": "safeguarding", "justification": LONG_ENOUGH,
                                   "categories": "contact", "hours": "48", "understood": "yes"})
    assert "from 1 to 24" in text(too_long)
    assert events(rt, type="access:override:grant") == []
    granted = post(client, path, {"route": "safeguarding", "justification": LONG_ENOUGH,
                                  "categories": ["contact", "housing_tenancy"], "hours": "4",
                                  "understood": "yes"})
    assert granted.status_code == 200
    done = text(granted)
    assert "Emergency access given" in done and "23 November 2026 at 1:30pm" in done
    [grant] = events(rt, type="access:override:grant")
    assert grant.categories == ["contact", "housing_tenancy"] and grant.details["hours"] == 4
    assert "neighbours" not in str(grant.details)  # the justification is sealed


def test_emergency_access_is_not_offered_where_the_agreement_forbids_it(client: FlaskClient,
                                                                        rt: Runtime,
                                                                        demo: Demo) -> None:
    sign_in(client, COACH)
    path = f"/claimants/{demo.lee}/emergency-access"
    page = text(client.get(path))
    assert 'data-testid="not-permitted"' in page and "<form method=\"post\" action=\"/claim" \
        not in page
    refused = post(client, path, {"route": "safeguarding", "justification": LONG_ENOUGH,
                                  "categories": "contact", "hours": "4", "understood": "yes"})
    assert refused.status_code == 422  # no lawful route offered to this role
    assert events(rt, type="access:override:grant") == []


# Consent receipt

def test_recording_consent_leads_to_its_receipt_in_the_claimants_language(
        client: FlaskClient, rt: Runtime, demo: Demo) -> None:
    sign_in(client, COACH)
    path = f"/claimants/{demo.lee}/consents/new?lang=cy"
    resp = client.post(path, data={
        "csrf_token": token(client, path), "recipients": ["jcp-derby", "derby-housing"],
        "purposes": "case_management", "categories": ["identity", "finances"],
        "given_by_type": "self", "method": "e_signature", "evidence_ref": "DOC-CY-1",
        "expires_at-day": "1", "expires_at-month": "5", "expires_at-year": "2027"})
    check = resp.headers["Location"]  # check your answers, then confirm
    resp = client.post(check, data={"csrf_token": token(client, check)})
    assert resp.status_code == 302
    receipt_path = resp.headers["Location"]
    assert receipt_path.startswith(f"/claimants/{demo.lee}/consents/") and "lang=cy" in receipt_path
    welsh = text(client.get(receipt_path))
    assert "Eich derbynneb caniatâd" in welsh and 'lang="cy"' in welsh
    assert "1 Mai 2027" in welsh and "Eich arian a\u2019ch dyledion" in welsh
    assert "Yn cael ei ddefnyddio" in welsh and "Derby City Council Housing Options" in welsh
    assert "Consent recorded" in welsh  # the staff notice stays in English
    english = text(client.get(receipt_path.replace("lang=cy", "lang=en")))
    assert "Your consent receipt" in english and "1 May 2027" in english
    assert "Your money and debts" in english
    exports = events(rt, type="consent:receipt:export", subject_id=demo.lee)
    assert len(exports) == 2


def test_receipt_of_another_claimants_consent_is_not_found(client: FlaskClient, rt: Runtime,
                                                            demo: Demo) -> None:
    sign_in(client, COACH)
    overview = text(client.get(f"/claimants/{demo.lee}"))
    start = overview.index(f"/claimants/{demo.lee}/consents/") + len(f"/claimants/{demo.lee}/")
    consent_path = overview[start:overview.index("/receipt", start)]
    assert client.get(f"/claimants/{demo.lee}/{consent_path}/receipt").status_code == 200
    assert client.get(f"/claimants/{demo.kerry}/{consent_path}/receipt").status_code == 404
    assert client.get(f"/claimants/{demo.lee}/consents/{uuid.uuid4()}/receipt").status_code \
        == 404
    assert events(rt, type="access:consent:deny")


# Who has seen my information

def test_who_has_seen_lists_organisations_and_roles_never_staff_names(app: Any,
                                                                      client: FlaskClient,
                                                                      rt: Runtime,
                                                                      demo: Demo) -> None:
    housing = app.test_client()
    sign_in(housing, HOUSING, "tenancy_sustainment")
    assert housing.get(f"/claimants/{demo.lee}").status_code == 200
    sign_in(client, COACH)
    report = text(client.get(f"/claimants/{demo.lee}/who-has-seen"))
    assert "Who has seen your information" in report
    assert "Derby City Council Housing Options" in report and "by a housing officer" in report
    assert "To help you keep your home" in report
    assert "Priya Sharma" not in report  # organisations and roles, not staff names
    assert "subject access request" in report
    [event] = events(rt, type="access:report:who_has_seen")
    assert event.decision == "allow" and event.subject_id == demo.lee
    assert event.details["language"] == "en" and event.details["accesses"] >= 1

    welsh = text(client.get(f"/claimants/{demo.lee}/who-has-seen?lang=cy"))
    assert "Pwy sydd wedi gweld eich gwybodaeth" in welsh and "Rôl: swyddog tai" in welsh
    assert "I\u2019ch helpu i gadw eich cartref" in welsh and "23 Tachwedd 2026" in welsh
    assert events(rt, type="access:report:who_has_seen")[-1].details["language"] == "cy"


def test_who_has_seen_shows_only_what_the_caller_may_see(app: Any, client: FlaskClient,
                                                         rt: Runtime, demo: Demo) -> None:
    coach = app.test_client()
    sign_in(coach, COACH)
    assert "alcohol recovery group" in text(coach.get(f"/claimants/{demo.lee}"))
    sign_in(client, HOUSING, "tenancy_sustainment")
    report = text(client.get(f"/claimants/{demo.lee}/who-has-seen"))
    assert "Derby Jobcentre Plus" in report  # the coach's reads of shared information
    assert "drug and alcohol" not in report.lower()  # housing may not see treatment
    coach_report = text(coach.get(f"/claimants/{demo.lee}/who-has-seen"))
    assert "Your drug and alcohol treatment" in coach_report


def test_who_has_seen_needs_a_case_relationship(client: FlaskClient, rt: Runtime,
                                                demo: Demo) -> None:
    sign_in(client, ADVISER, "budgeting_support")
    assert client.get(f"/claimants/{demo.lee}/who-has-seen").status_code == 404
    [denied] = events(rt, type="access:subject:deny", subject_id=demo.lee)
    assert denied.reasons == ["no_case_relationship"]
    assert events(rt, type="access:report:who_has_seen") == []
