"""The assessment pages through the Flask test client: the questions in Welsh (the form's words
and the catalogue's furniture), errors named in the summary and linked to the field with what
was typed kept, check your answers with change links, the explained result with proposals
(allowed with Accept, refused with the reasons and next step), accepting one, and the history.

Page logic does not depend on the engine (the use cases are tested on both engines in
tests/integration/ and tests/api/), so these run on SQLite only: the suite is near its time
budget."""

from __future__ import annotations

import html
import re
import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient

from caseshare.runtime import Runtime
from tests.audit_helpers import events
from tests.conftest import COACH, HOUSING, Clock, Demo
from tests.web.test_pages import sign_in, token

# Answers that raise every need of the Derby triage: money (budgeting referral to Citizens
# Advice, which Lee's consent does not name), getting online (an action), housing (a referral to
# Derby Housing, which it does) and health (an action under explicit consent).
HIGH_NEEDS: dict[str, Any] = {
    "manage_money": "struggle", "bank_account": "no", "priority_debts": ["rent", "energy"],
    "get_online": "never", "online_forms": "no", "housing_situation": "private_rent",
    "rent_arrears_weeks": "6", "work": "not_ready", "health_affects": ["mental_health"],
}
LOW_NEEDS: dict[str, Any] = {
    "manage_money": "sometimes", "bank_account": "yes", "priority_debts": [],
    "get_online": "phone_only", "online_forms": "with_help",
    "housing_situation": "private_rent", "rent_arrears_weeks": "0", "work": "looking",
    "health_affects": [],
}


@pytest.fixture
def engine() -> str:
    return "sqlite"


def text(resp: Any) -> str:
    return html.unescape(resp.get_data(as_text=True))


def start(client: FlaskClient, subject: uuid.UUID, lang: str = "cy") -> Any:
    base = f"/claimants/{subject}/assessments/new"
    return client.post(base, data={"form": "derby-budgeting-digital-triage", "lang": lang,
                                   "csrf_token": token(client, base)})


def answer(client: FlaskClient, subject: uuid.UUID, question: str, value: Any,
           **extra: str) -> Any:
    path = f"/claimants/{subject}/assessments/new/{question}"
    return client.post(path, data={question: value, "csrf_token": token(client, path),
                                   **extra})


def answer_all(client: FlaskClient, subject: uuid.UUID, answers: dict[str, Any],
               lang: str = "cy") -> None:
    assert start(client, subject, lang).status_code == 302
    for question, value in answers.items():
        resp = answer(client, subject, question, value)
        assert resp.status_code == 302, (question, text(resp))
    assert resp.headers["Location"].endswith("/assessments/new/check")


def record(client: FlaskClient, subject: uuid.UUID, answers: dict[str, Any]) -> str:
    """Answer and record an assessment; the result page's path."""
    answer_all(client, subject, answers)
    check = f"/claimants/{subject}/assessments/new/check"
    resp = client.post(check, data={"csrf_token": token(client, check)})
    assert resp.status_code == 302, text(resp)
    return str(resp.headers["Location"])


def test_the_questions_are_in_welsh_and_errors_keep_what_was_typed(
        client: FlaskClient, demo: Demo) -> None:
    sign_in(client, COACH, "triage")
    new = client.get(f"/claimants/{demo.lee}/assessments/new")
    assert new.status_code == 200
    assert "Budgeting and digital support triage" in text(new) and "Cymraeg" in text(new)
    started = start(client, demo.lee)
    assert started.headers["Location"].endswith("/assessments/new/manage_money")

    page = text(client.get(started.headers["Location"]))
    assert 'lang="cy"' in page
    assert "Pa mor dda ydych chi'n rheoli eich arian o un mis i'r llall?" in page
    assert "Rwy'n cael trafferth bron bob mis" in page  # the options in Welsh
    assert ">Parhau<" in page.replace("\n", "").replace("  ", "")
    assert "Yn ôl" in page and "cwestiwn 1 o 9" in page

    missing = answer(client, demo.lee, "manage_money", "")
    assert missing.status_code == 422
    page = text(missing)
    assert "Mae problem" in page and "Gwall: " in page
    assert re.search(r'href="#manage_money"[^>]*>Dewiswch ateb<', page)

    # A number that is not one: named in Welsh, linked to the input, the typed value kept.
    weeks = answer(client, demo.lee, "rent_arrears_weeks", "tua chwech")
    assert weeks.status_code == 422
    page = text(weeks)
    assert re.search(r'href="#rent_arrears_weeks"[^>]*>Rhowch rif, fel 3<', page)
    assert 'value="tua chwech"' in page
    assert "Faint o wythnosau o rent sydd arnoch chi?" in page

    # An option the question does not have is refused; a real one is kept in the draft.
    assert answer(client, demo.lee, "get_online", "carrier_pigeon").status_code == 422
    assert answer(client, demo.lee, "get_online", "never").status_code == 302
    again = text(client.get(f"/claimants/{demo.lee}/assessments/new/get_online"))
    assert re.search(r'value="never"\s+checked', again)


def test_check_your_answers_shows_welsh_words_and_change_comes_back(
        client: FlaskClient, demo: Demo) -> None:
    sign_in(client, COACH, "triage")
    answer_all(client, demo.lee, HIGH_NEEDS)
    check = text(client.get(f"/claimants/{demo.lee}/assessments/new/check"))
    assert "Gwiriwch yr atebion cyn cofnodi\u2019r asesiad" in check
    assert "Rwy'n cael trafferth bron bob mis" in check  # the answer's words, not its code
    assert "Rhent<br>Nwy neu drydan" in check
    assert re.search(r"summary-list__value\">\s*Na\s*</dd>", check)  # yes/no in Welsh
    assert "Cofnodi\u2019r asesiad" in check
    assert f'href="/claimants/{demo.lee}/assessments/new/work?change=1"' in check
    changed = answer(client, demo.lee, "work", "looking", change="1")
    assert changed.headers["Location"].endswith("/assessments/new/check")
    assert "Rwy'n chwilio am waith" in text(client.get(
        f"/claimants/{demo.lee}/assessments/new/check"))


def test_assessments_are_for_triage(client: FlaskClient, demo: Demo) -> None:
    sign_in(client, COACH, "case_management")
    resp = client.get(f"/claimants/{demo.lee}/assessments/new")
    assert resp.status_code == 403
    assert "Assessments are for triage" in text(resp) and 'href="/purpose"' in text(resp)


def test_starting_checks_the_claimant_is_in_the_case(client: FlaskClient, rt: Runtime,
                                                     demo: Demo) -> None:
    """The start page's POST asks the access layer first: a claimant not in the caller's case
    is the 404 page (audited), and nothing is kept in the cookie."""
    sign_in(client, COACH, "triage")
    stranger = uuid.uuid4()
    got = client.get(f"/claimants/{stranger}/assessments/new")
    assert got.status_code == 404, got.headers.get("Location")
    started = client.post(f"/claimants/{stranger}/assessments/new", data={
        "form": "derby-budgeting-digital-triage", "lang": "en",
        "csrf_token": token(client, "/find")})
    assert started.status_code == 404
    assert client.get(f"/claimants/{stranger}/assessments/new/manage_money").status_code == 302
    assert [e.reasons for e in events(rt, type="access:subject:deny")][-1] == [
        "no_case_relationship"]


def test_the_result_explains_itself_and_offers_only_what_consent_allows(
        client: FlaskClient, rt: Runtime, demo: Demo) -> None:
    sign_in(client, COACH, "triage")
    result = record(client, demo.lee, HIGH_NEEDS)
    page = text(client.get(result))
    assert "Intensive support" in page and "Review by" in page
    assert "Their mental health makes day-to-day life harder" in page
    # Each score with the answers that produced it, in the words the claimant answered.
    assert "Managing money" in page and "Rwy'n cael trafferth bron bob mis" in page
    assert 'lang="cy"' in page
    # Citizens Advice is not in Lee's consent: no Accept, the reason and the next step instead.
    assert "/proposals/budgeting/accept" not in page
    refused = page.split('data-proposal="budgeting"')[1].split('data-testid="proposal"')[0]
    assert "Not offered" in refused and "Next step:" in refused
    assert "Citizens Advice Derby" in refused
    assert "/proposals/digital/accept" in page

    accept = f"{result}/proposals/digital/accept"
    done = client.post(accept, data={"csrf_token": token(client, result)})
    assert done.status_code == 302 and "accepted=digital" in done.headers["Location"]
    page = text(client.get(done.headers["Location"]))
    assert "Action added to the shared plan" in page
    assert f'href="/claimants/{demo.lee}#plan"' in page
    assert "/proposals/digital/accept" not in page  # accepted once
    # Forcing the refused one is refused again, with the reasons, and audited.
    forced = client.post(f"{result}/proposals/budgeting/accept",
                         data={"csrf_token": token(client, result)})
    assert forced.status_code == 403
    assert "The proposal was not accepted" in text(forced)
    denied = [e for e in events(rt, decision="deny") if "proposal" in e.type]
    assert denied and denied[-1].details["proposal_id"] == "budgeting"
    # Accepting the accepted one again (a second tab): audited, and the result says so.
    again = client.post(accept, data={"csrf_token": token(client, result)})
    assert again.status_code == 302 and "already=digital" in again.headers["Location"]
    assert "had already been accepted" in text(client.get(again.headers["Location"]))
    twice = [e for e in events(rt, decision="deny") if "proposal" in e.type][-1]
    assert twice.reasons == ["already_accepted"] and twice.details["proposal_id"] == "digital"


def test_history_says_what_changed_with_a_chart_and_a_table(
        client: FlaskClient, clock: Clock, rt: Runtime, demo: Demo) -> None:
    sign_in(client, COACH, "triage")
    first = record(client, demo.lee, HIGH_NEEDS)
    clock.advance(days=30)
    sign_in(client, COACH, "triage")
    second = record(client, demo.lee, LOW_NEEDS)
    # One result page opens and audits that assessment only (the change is from the first).
    assert "Review by" in text(client.get(second))
    [read] = [e for e in events(rt, type="assessments:assessment:list")][-1:]
    assert read.details["assessments"] == [second.rsplit("/", 1)[1]]
    assert read.details["compared_with"] == first.rsplit("/", 1)[1]
    page = text(client.get(f"/claimants/{demo.lee}/assessments"))
    assert page.count('data-testid="history-row"') == 2
    # Money went from 11 (struggle, no account, rent and energy arrears) to 2.
    assert re.search(r'data-label="Managing money">2<br><span class="govuk-body-s">down 9<', page)
    assert 'class="govuk-table cs-table--stack"' in page
    svg = page[page.index("<svg class=\"cs-chart\""):page.index("</svg>")]
    assert 'aria-hidden="true"' in svg and "<title>" in svg and "<desc>" in svg
    assert svg.count("<polyline") == 5  # one line per domain


def test_a_refused_assessment_keeps_the_answers_and_says_why(
        client: FlaskClient, demo: Demo) -> None:
    """The housing officer may not record work or health answers under triage: the check page
    comes back with the refusal in plain words and every answer still there."""
    sign_in(client, HOUSING, "triage")
    answer_all(client, demo.lee, HIGH_NEEDS, lang="en")
    check = f"/claimants/{demo.lee}/assessments/new/check"
    refused = client.post(check, data={"csrf_token": token(client, check)})
    assert refused.status_code == 403
    page = text(refused)
    assert "The assessment was not recorded" in page and "Next step:" in page
    assert "I struggle most months" in page and "Drugs or alcohol" not in page
    assert "I am not ready to look for work yet" in page


def test_another_partner_sees_only_what_it_may_read_with_the_rest_named(
        client: FlaskClient, app: Any, demo: Demo) -> None:
    """The housing officer opens the coach's triage of Lee, whose consent does not cover
    triage: every answer is withheld, named by category with the reason and the next step (as
    on the plan), and nothing is proposed from scores she cannot see."""
    sign_in(client, COACH, "triage")
    result = record(client, demo.lee, HIGH_NEEDS)
    other = app.test_client()
    sign_in(other, HOUSING, "triage")
    page = text(other.get(result))
    withheld = " ".join(page.split('data-testid="withheld"')[1].split("</div>")[0].split())
    assert "Answers about money and debts are withheld." in withheld
    assert "but not for triage" in withheld and "Next step:" in withheld
    assert ("Your role at Derby City Council Housing Options is not given access to work "
            "search and employment for triage.") in withheld
    assert "Rwy'n cael trafferth" not in page and "Fy iechyd meddwl" not in page
    assert "Their mental health" not in page and "/accept" not in page
    assert "No support can be proposed from the answers you can see." in page


DATED_FORM = {
    "id": "test-dated", "version": 1, "languages": ["en", "cy"],
    "title": {"en": "Dated triage", "cy": "Brysbennu dyddiedig"},
    "domains": [{"code": "employment", "title": {"en": "Work", "cy": "Gwaith"}}],
    "questions": [
        {"id": "last_worked", "type": "date", "category": "employment",
         "text": {"en": "When did you last work?", "cy": "Pryd wnaethoch chi weithio ddiwethaf?"}},
        {"id": "job_wanted", "type": "short_text", "category": "employment",
         "text": {"en": "What work would you like?", "cy": "Pa waith hoffech chi?"}},
    ],
    "levels": [{"code": "self_serve", "title": {"en": "Self-serve", "cy": "Hunanwasanaeth"},
                "min_total": 0, "review_days": 91}],
}


def draft(client: FlaskClient, app: Any, subject: uuid.UUID) -> dict[str, Any]:
    """The assessment draft in the session cookie, as the server reads it: the signed cookie
    holds only ciphertext (no answer code, no question id is readable in it), which opens for
    the signed-in staff member and this claimant only."""
    from caseshare.web.sealed_drafts import unseal

    cookie = client.get_cookie("caseshare_session")
    assert cookie is not None
    serializer = app.session_interface.get_signing_serializer(app)
    session = serializer.loads(cookie.value)
    sealed = session["assessment_draft"]
    assert isinstance(sealed, str)
    readable = str(session)
    for word in ("answers", "last_worked", "2026-02-03", "mental_health", "drug_alcohol",
                 "manage_money", "struggle"):
        assert word not in readable
    assert unseal(sealed, secret=app.secret_key, staff_id=session["staff_id"],
                  subject_id=str(uuid.uuid4())) is None  # bound to the claimant
    assert unseal(sealed, secret=app.secret_key, staff_id=str(uuid.uuid4()),
                  subject_id=str(subject)) is None  # ...and to the staff member
    stored = unseal(sealed, secret=app.secret_key, staff_id=session["staff_id"],
                    subject_id=str(subject))
    assert stored is not None
    return stored


def test_dates_on_their_page_and_short_text_only_on_the_check_page(
        client: FlaskClient, app: Any, rt: Runtime, demo: Demo,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A date question takes day, month and year (a date that is not real is named in Welsh,
    the boxes keep what was typed); a short-text question is asked on the check page, so free
    text never waits in the session cookie, and a missing answer there keeps the rest."""
    from caseshare.assessments.forms import FormSet, build_form

    monkeypatch.setattr(rt, "assessment_forms", FormSet((build_form("t.yaml", DATED_FORM),)))
    sign_in(client, COACH, "triage")
    new = f"/claimants/{demo.lee}/assessments/new"
    started = client.post(new, data={"form": "test-dated", "lang": "cy",
                                      "csrf_token": token(client, new)})
    assert started.headers["Location"].endswith("/new/last_worked")  # short text has no page
    path = f"/claimants/{demo.lee}/assessments/new/last_worked"
    wrong = client.post(path, data={"last_worked-day": "31", "last_worked-month": "2",
                                    "last_worked-year": "2026", "csrf_token": token(client, path)})
    assert wrong.status_code == 422
    page = text(wrong)
    assert re.search(r'href="#last_worked-day"[^>]*>Rhowch ddyddiad go iawn', page)
    assert 'value="31"' in page and 'value="2026"' in page
    done = client.post(path, data={"last_worked-day": "3", "last_worked-month": "2",
                                   "last_worked-year": "2026", "csrf_token": token(client, path)})
    assert done.headers["Location"].endswith("/new/check")
    assert draft(client, app, demo.lee)["answers"] == {"last_worked": "2026-02-03"}
    check = f"/claimants/{demo.lee}/assessments/new/check"
    page = text(client.get(check))
    assert "3 Chwefror 2026" in page  # a date in the claimant's language
    assert 'name="job_wanted"' in page and "Pa waith hoffech chi?" in page
    missing = client.post(check, data={"csrf_token": token(client, check)})
    assert missing.status_code == 422
    assert re.search(r'href="#job_wanted"[^>]*>Rhowch ateb<', text(missing))
    typed = "Gyrrwr fforch godi"
    long = client.post(check, data={"job_wanted": typed + " " + "x" * 500,
                                    "csrf_token": token(client, check)})
    assert long.status_code == 422 and typed in text(long)  # what was typed is kept
    assert typed not in str(draft(client, app, demo.lee))  # ...in the page, never in the cookie
    # "Change" is a button that takes what was typed along, and brings it back.
    change = f"{path}?change=1&show=1"
    assert f'formaction="{change.replace("&", "&amp;")}"' in long.get_data(as_text=True)
    shown = client.post(change, data={"job_wanted": typed, "csrf_token": token(client, check)})
    assert shown.status_code == 200 and 'name="last_worked-day"' in text(shown)
    assert f'type="hidden" name="job_wanted" value="{typed}"' in text(shown)
    back = client.post(path, data={"last_worked-day": "4", "last_worked-month": "2",
                                   "last_worked-year": "2026", "change": "1",
                                   "job_wanted": typed, "csrf_token": token(client, check)})
    assert back.status_code == 200 and "4 Chwefror 2026" in text(back)
    assert f'value="{typed}"' in text(back)
    assert typed not in str(draft(client, app, demo.lee))
    recorded = client.post(check, data={"job_wanted": typed, "csrf_token": token(client, check)})
    assert recorded.status_code == 302, text(recorded)
