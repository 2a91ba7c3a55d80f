"""The IG retention pages through the Flask client (both engines): due for deletion, on hold
(place, lift, with the typed reason kept on every error), deleted copies (certificates); front-
line staff are refused; every look and action is audited."""

from __future__ import annotations

import re
import uuid
from datetime import date

import pyotp
from flask.testing import FlaskClient

from caseshare.retention.models import DeletedCopy, LegalHold
from caseshare.runtime import Runtime
from tests.api.test_retention import close_case, short_retention
from tests.audit_helpers import events
from tests.conftest import COACH, IG, Clock, Demo
from tests.web.ig_helpers import enrol_second_factor
from tests.web.test_pages import sign_in, token

RETENTION_PAGES = ["/ig/retention", "/ig/retention/holds", "/ig/retention/deleted",
                   "/ig/claimants/{lee}/legal-hold"]
REASON = "Tribunal claim ET-2026-114: keep until the hearing ends"


def sign_in_ig(client: FlaskClient, rt: Runtime, clock: Clock) -> None:
    secret = enrol_second_factor(rt)
    sign_in(client, IG, "audit", code=pyotp.TOTP(secret).at(clock.now))


def test_front_line_staff_are_refused_every_retention_page(client: FlaskClient, rt: Runtime,
                                                           demo: Demo) -> None:
    sign_in(client, COACH, "case_management")
    for path in RETENTION_PAGES:
        resp = client.get(path.format(lee=demo.lee))
        assert resp.status_code == 403, path
    resp = client.post(f"/ig/claimants/{demo.lee}/legal-hold",
                       data={"reason": REASON, "csrf_token": token(client, "/")})
    assert resp.status_code == 403
    assert len(events(rt, type="access:scope:deny")) == len(RETENTION_PAGES) + 1
    assert not events(rt, type="retention:legal_hold:place")


def _hold_page(client: FlaskClient, demo: Demo) -> str:
    resp = client.get(f"/ig/claimants/{demo.lee}/legal-hold")
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def test_place_a_hold_keeping_what_was_typed_then_see_it_on_hold_and_lift_it(
    client: FlaskClient, rt: Runtime, clock: Clock, demo: Demo
) -> None:
    sign_in_ig(client, rt, clock)
    html = _hold_page(client, demo)
    assert "Do not include details about the claimant" in html
    url = f"/ig/claimants/{demo.lee}/legal-hold"
    csrf = token(client, url)

    short = client.post(url, data={"reason": "  too  short ", "csrf_token": csrf})
    assert short.status_code == 422
    body = short.get_data(as_text=True)
    assert "The reason must be 10 characters or more" in body and "too  short" in body
    assert 'href="#reason"' in body  # the error summary links to the field
    assert not events(rt, type="retention:legal_hold:place")

    placed = client.post(url, data={"reason": REASON, "csrf_token": csrf})
    assert placed.status_code == 302 and placed.headers["Location"] == "/ig/retention/holds"
    [event] = events(rt, type="retention:legal_hold:place")
    assert event.decision == "allow" and event.subject_id == demo.lee

    holds = client.get("/ig/retention/holds").get_data(as_text=True)
    assert "Legal hold placed" in holds and REASON in holds
    assert f'data-subject="{demo.lee}"' in holds and 'class="govuk-table cs-table--stack"' in holds
    assert 'data-label="Reason"' in holds and "No hold has been lifted yet" in holds

    # The form now says the claimant is on hold; a second attempt keeps the typed reason.
    assert "already on hold" in _hold_page(client, demo)
    with rt.session_factory() as s:
        hold_id = s.query(LegalHold).one().id
    again = client.post(url, data={"reason": "Second reason REF-2", "csrf_token": csrf})
    assert again.status_code == 409
    text = again.get_data(as_text=True)
    assert "Second reason REF-2" in text and "while you were typing" in text

    lifted = client.post(f"/ig/claimants/{demo.lee}/legal-holds/{hold_id}/lift",
                         data={"csrf_token": csrf})
    assert lifted.status_code == 302
    holds = client.get("/ig/retention/holds").get_data(as_text=True)
    assert "Legal hold lifted" in holds and "No claimant is on hold" in holds
    assert 'data-testid="lifted-row"' in holds
    assert [e.decision for e in events(rt, type="retention:legal_hold:lift")] == ["allow"]
    assert len(events(rt, type="retention:legal_hold:list")) >= 3  # each look is audited


def test_another_organisations_hold_offers_no_lift_button(client: FlaskClient, rt: Runtime,
                                                          clock: Clock, demo: Demo) -> None:
    with rt.session_factory() as s:
        s.add(LegalHold(id=uuid.uuid4(), subject_id=demo.lee, reason="JCP inquiry INQ-9",
                        placed_at=clock.now, placed_by=uuid.uuid4(), placed_org="jcp-derby"))
        s.commit()
    sign_in_ig(client, rt, clock)
    holds = client.get("/ig/retention/holds").get_data(as_text=True)
    assert "JCP inquiry INQ-9" in holds and "Lift hold" not in holds
    assert re.search(r"Only .+ can lift it", holds)
    assert "Lift hold" not in _hold_page(client, demo)


def test_deleted_copies_are_listed_as_certificates_paged(client: FlaskClient, rt: Runtime,
                                                         clock: Clock, demo: Demo) -> None:
    with rt.session_factory() as s:
        for i in range(26):
            s.add(DeletedCopy(id=uuid.uuid4(), subject_id=demo.kerry, org_id="derby-housing",
                              category=f"category_{i:02d}", due_on=date(2026, 11, 1),
                              rule="derby-local-support/housing_to_jcp",
                              deleted_at=clock.now.replace(minute=i)))
        s.add(DeletedCopy(id=uuid.uuid4(), subject_id=demo.lee, org_id="carmarthenshire-housing",
                          category="housing", due_on=date(2026, 11, 1), rule="lead_controller",
                          deleted_at=clock.now))
        s.commit()
    sign_in_ig(client, rt, clock)
    first = client.get("/ig/retention/deleted").get_data(as_text=True)
    assert first.count('data-testid="deleted-row"') == 25
    assert "derby-local-support/housing_to_jcp" in first and 'data-label="Whose copy"' in first
    assert "carmarthenshire-housing" not in first  # outside the partnership
    assert 'href="/ig/retention/deleted?offset=25"' in first
    second = client.get("/ig/retention/deleted?offset=25").get_data(as_text=True)
    assert second.count('data-testid="deleted-row"') == 1
    assert len(events(rt, type="retention:deleted_copy:list")) == 2


def test_due_page_with_nothing_due_says_so_and_is_audited(client: FlaskClient, rt: Runtime,
                                                          clock: Clock, demo: Demo) -> None:
    sign_in_ig(client, rt, clock)
    resp = client.get("/ig/retention")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "Nothing is due for deletion today" in html and "next 90 days" in html
    assert len(events(rt, type="retention:due:list")) == 2  # due now, and upcoming
    dashboard = client.get("/ig").get_data(as_text=True)
    assert 'href="/ig/retention"' in dashboard
    report = client.get(f"/ig/claimants/{demo.lee}/access-report").get_data(as_text=True)
    assert f'href="/ig/claimants/{demo.lee}/legal-hold"' in report


def test_due_and_upcoming_rows_offer_a_hold_until_the_claimant_is_held(
    client: FlaskClient, rt: Runtime, clock: Clock, demo: Demo
) -> None:
    short_retention(rt)
    close_case(rt, demo.lee, clock.now)
    clock.advance(days=31)
    close_case(rt, demo.kerry, clock.now)  # due in 30 days: upcoming
    sign_in_ig(client, rt, clock)
    html = client.get("/ig/retention").get_data(as_text=True)
    due = html[html.index('data-testid="due-items"'):html.index("</table>")]
    assert f'data-subject="{demo.lee}"' in due and 'data-label="Whose copy"' in due
    assert f'href="/ig/claimants/{demo.lee}/legal-hold"' in due
    upcoming = html[html.index('data-testid="upcoming-items"'):]
    assert f'data-subject="{demo.kerry}"' in upcoming

    csrf = token(client, f"/ig/claimants/{demo.lee}/legal-hold")
    client.post(f"/ig/claimants/{demo.lee}/legal-hold", data={"reason": REASON,
                                                              "csrf_token": csrf})
    html = client.get("/ig/retention").get_data(as_text=True)
    due = html[html.index('data-testid="due-items"'):html.index("</table>")]
    rows = re.findall(r'<tr class="govuk-table__row" data-testid="due-row" '
                      r'data-subject="([^"]+)"( data-hold="true")?', due)
    assert {hold for subject, hold in rows if subject == str(demo.lee)} == {' data-hold="true"'}
    assert f'href="/ig/claimants/{demo.lee}/legal-hold"' not in due
