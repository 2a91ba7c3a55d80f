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

from tests.conftest import COACH, Demo
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
