"""The caseload (home) and notifications pages through the Flask client (both engines): flags,
sort, filter and paging controls, the IG officer's redirect, the header counts, and reading
notifications one at a time or all at once."""

from __future__ import annotations

import html
import re
import uuid
from typing import Any

from flask.testing import FlaskClient

from caseshare.notifications import service as notifications
from caseshare.runtime import Runtime
from tests.audit_helpers import events
from tests.builders import consent, register
from tests.conftest import COACH, HOUSING, Clock, Demo
from tests.web.test_ig_pages import sign_in_ig
from tests.web.test_pages import sign_in, token

ROW = re.compile(r'data-testid="caseload-row" data-subject="([^"]+)"')


def _text(client: FlaskClient, path: str, status: int = 200) -> str:
    resp = client.get(path)
    assert resp.status_code == status, (resp.headers.get("Location")
                                        or resp.get_data(as_text=True)[-3000:])
    return html.unescape(resp.get_data(as_text=True))


def test_home_is_the_caseload_with_flags_and_the_renew_link(
    client: FlaskClient, demo: Demo, clock: Clock, rt: Runtime
) -> None:
    clock.advance(days=13)  # 6 December: Lee has two overdue actions and one due this week
    sign_in(client, COACH)
    page = _text(client, "/")
    assert "<h1 class=\"govuk-heading-l\">My caseload</h1>" in page
    assert 'class="govuk-table cs-table--stack"' in page and 'data-label="Claimant"' in page
    lee = page.split(f'data-subject="{demo.lee}"')[1].split("</tr>")[0]
    assert "Lee Marsh" in lee and "2 overdue" in lee and "govuk-tag--red" in lee
    assert "1 due this week" in lee
    assert "Caseload (" in page and 'data-testid="nav-notifications"' in page
    # Lee's consent ends 180 days after 23 November: not expiring yet, so no renew link.
    assert 'data-testid="renew"' not in lee
    clock.advance(days=160)
    sign_in(client, COACH)  # the earlier sign-in has timed out
    lee = _text(client, "/").split(f'data-subject="{demo.lee}"')[1].split("</tr>")[0]
    assert 'data-testid="flag-expiring"' in lee
    assert f'href="/claimants/{demo.lee}/consents/new"' in lee
    assert events(rt, type="subject:caseload:list", org="jcp-derby")


def test_sort_filter_and_paging_work_without_script(
    client: FlaskClient, demo: Demo, clock: Clock, rt: Runtime, auth: Any
) -> None:
    coach = auth(COACH)
    for n in range(3):
        register(client, coach, given_name=f"Pat{n}", family_name=f"Able{n}",
                 nino=f"QQ 10 20 3{n} A")
    clock.advance(days=13)
    sign_in(client, COACH)
    page = _text(client, "/?sort=name&filter=all")
    names = re.findall(r'href="/claimants/[^"]+">([^<]+)</a>', page)
    assert names[:3] == ["Pat0 Able0", "Pat1 Able1", "Pat2 Able2"]
    assert '<option value="name" selected>' in page
    overdue = _text(client, "/?filter=overdue")
    assert ROW.findall(overdue) == [str(demo.lee)]
    assert "No claimants on your caseload match" in _text(client, "/?filter=withdrawals")
    # Paging: the access layer pages at 200; through the page, a tampered cursor starts again.
    resp = client.get("/?cursor=not-a-cursor")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/?")
    bad = client.get("/?sort=age")
    assert bad.status_code == 422 and "Choose how to sort the list" in bad.get_data(as_text=True)


def test_a_caseload_over_one_page_pages_by_200(
    client: FlaskClient, demo: Demo, rt: Runtime
) -> None:
    from caseshare.facts import Principal
    from caseshare.subjects.service import create_subject

    coach = Principal(actor_id=str(uuid.uuid4()), actor_type="staff", org="jcp-derby",
                      roles=frozenset({"work_coach"}))
    with rt.session_factory() as s:
        for n in range(205):  # registered in bulk (each through the domain's own use case)
            create_subject(s, keyring=rt.keyring, principal=coach, now=rt.now(),
                           identity={"given_name": f"Bulk{n:03d}", "family_name": "Caseload"},
                           jurisdiction="england")
        s.commit()
    sign_in(client, COACH)
    first = _text(client, "/?sort=consent_expiry")
    rows = ROW.findall(first)
    assert len(rows) == 200 and "showing 1 to 200" in first
    cursor = re.search(r'href="/\?[^"]*cursor=([^"&]+)"', first)
    assert cursor is not None
    second = _text(client, f"/?sort=consent_expiry&filter=all&cursor={cursor.group(1)}")
    more = ROW.findall(second)
    assert more and not set(more) & set(rows) and "First page" in second
    assert len(set(rows) | set(more)) == len(rows) + len(more) >= 208


def test_ig_officers_land_on_their_dashboard(
    client: FlaskClient, demo: Demo, rt: Runtime, clock: Clock
) -> None:
    sign_in_ig(client, rt, clock)
    resp = client.get("/")
    assert resp.status_code == 302 and resp.headers["Location"] == "/ig"
    assert "nav-caseload" not in _text(client, "/ig")


def _raise_every_kind(rt: Runtime, subject: uuid.UUID, other: uuid.UUID, now: Any) -> None:
    kinds: list[tuple[str, dict[str, Any], uuid.UUID]] = [
        ("consent_withdrawn", {"scope": {"recipients": ["derby-housing"]}, "full": False,
                               "channel": "in_person"}, subject),
        ("consent_expiring", {"expires_on": "2026-12-20"}, subject),
        ("consent_regranted_after_withdrawal", {"recipients": ["derby-housing"]}, subject),
        ("referral_received", {"from_org": "jcp-derby"}, other),
        ("referral_updated", {"status": "declined", "to_org": "recovery-partnership"}, subject),
    ]
    with rt.session_factory() as s:
        for type_, details, sid in kinds:
            notifications.notify(s, type=type_, org="derby-housing", now=now, subject_id=sid,
                                 details=details)
        s.commit()


def test_notifications_in_plain_words_read_one_then_all(
    client: FlaskClient, demo: Demo, rt: Runtime, clock: Clock, auth: Any
) -> None:
    coach = auth(COACH)
    hidden = uuid.UUID(register(client, coach, given_name="Noor", family_name="Hidden",
                                nino="QQ 99 88 77 A"))
    consent(client, coach, str(hidden), clock.now, recipients=["jcp-derby"])
    _raise_every_kind(rt, demo.lee, hidden, clock.now)
    sign_in(client, HOUSING)
    page = _text(client, "/notifications")
    assert "Notifications (5)" in page or "Notifications (" in page
    for words in ("Consent partly withdrawn", "from Derby City Council Housing Options",
                  "Consent ending soon", "on 2026-12-20", "Consent given again after a withdrawal",
                  "New referral", "Derby Jobcentre Plus referred a claimant to you",
                  "Referral declined", "declined your referral"):
        assert words in page, words
    assert "Lee Marsh" in page and "Noor" not in page and ">A claimant<" in page
    assert f'href="/claimants/{hidden}"' in page
    api = client.get("/api/v1/notifications?purpose=case_management", headers=auth(HOUSING))
    api_ids = [i["id"] for i in api.json["items"]]
    assert api_ids == re.findall(r'<li id="n-([^"]+)"', page)
    assert set(api.json) == {"items", "next_cursor"}

    first = api_ids[0]
    resp = client.post(f"/notifications/{first}/read",
                       data={"csrf_token": token(client, "/notifications")})
    assert resp.status_code == 302
    page = _text(client, "/notifications")
    assert f'id="n-{first}" data-testid="notification" data-type' in page
    assert page.count('data-read="no"') == len(api_ids) - 1
    assert "You have 4 unread notifications" in page
    resp = client.post("/notifications/read-all",
                       data={"csrf_token": token(client, "/notifications")})
    page = _text(client, "/notifications")
    assert 'data-read="no"' not in page and "You have no unread notifications" in page
    assert ">Notifications<" in page or "Notifications</a>" in page
    assert len(events(rt, type="consent:notification:read")) == len(api_ids)
    assert events(rt, type="subject:identity:read", subject_id=demo.lee)


def test_the_caseload_flags_a_withdrawal_notice_for_the_other_agencies(
    client: FlaskClient, demo: Demo, rt: Runtime, clock: Clock
) -> None:
    _raise_every_kind(rt, demo.lee, demo.kerry, clock.now)
    sign_in(client, HOUSING)
    lee = _text(client, "/").split(f'data-subject="{demo.lee}"')[1].split("</tr>")[0]
    assert 'data-testid="flag-withdrawn"' in lee and 'data-testid="flag-referral-update"' in lee
    assert ROW.findall(_text(client, "/?filter=withdrawals")) == [str(demo.lee)]
