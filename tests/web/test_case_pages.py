"""The case pages through the Flask client (both engines): the overview's Case summary, the
lead worker and review date form (values kept on an error), closing with a reason (a note for
"other", what was typed kept), the plan read-only while closed, and reopening."""

from __future__ import annotations

import html
from datetime import timedelta

from flask.testing import FlaskClient

from caseshare.identity import service as identity
from caseshare.runtime import Runtime
from tests.audit_helpers import events
from tests.conftest import COACH, Clock, Demo
from tests.web.test_pages import sign_in, token


def _text(resp: object) -> str:
    return html.unescape(resp.get_data(as_text=True))  # type: ignore[attr-defined]


def test_set_lead_worker_and_review_date_then_close_and_reopen(
    client: FlaskClient, rt: Runtime, demo: Demo, clock: Clock
) -> None:
    sign_in(client, COACH)
    lee = demo.lee
    with rt.session_factory() as s:
        sam = str(identity.get_staff_by_email(s, COACH).id)
    before = len(events(rt, type="cases:lead_worker:change"))  # the demo names Sam already
    cleared = client.post(f"/claimants/{lee}/case", data={
        "csrf_token": token(client, f"/claimants/{lee}/case"), "lead_worker_id": ""})
    assert cleared.status_code == 302
    page = _text(client.get(f"/claimants/{lee}"))
    assert "Not named yet" in page
    assert 'id="case"' in page and "Change the lead worker or review date" in page
    form = _text(client.get(f"/claimants/{lee}/case"))
    assert "Sam Okafor" in form
    # A date that is not real keeps what was typed.
    bad = client.post(f"/claimants/{lee}/case", data={
        "csrf_token": token(client, f"/claimants/{lee}/case"), "lead_worker_id": sam,
        "review_on-day": "31", "review_on-month": "2", "review_on-year": "2027"})
    assert bad.status_code == 422
    assert "Enter a real review date" in _text(bad) and 'value="31"' in _text(bad)
    past = clock.now - timedelta(days=3)
    old = client.post(f"/claimants/{lee}/case", data={
        "csrf_token": token(client, f"/claimants/{lee}/case"), "lead_worker_id": sam,
        "review_on-day": str(past.day), "review_on-month": str(past.month),
        "review_on-year": str(past.year)})
    assert old.status_code == 422 and "today or in the future" in _text(old)
    review = clock.now + timedelta(days=40)
    ok = client.post(f"/claimants/{lee}/case", data={
        "csrf_token": token(client, f"/claimants/{lee}/case"), "lead_worker_id": sam,
        "review_on-day": str(review.day), "review_on-month": str(review.month),
        "review_on-year": str(review.year)})
    assert ok.status_code == 302, _text(ok)[:500]
    summary = _text(client.get(f"/claimants/{lee}"))
    assert "Sam Okafor" in summary and str(review.year) in summary
    assert len(events(rt, type="cases:lead_worker:change")) == before + 2

    # Closing: "other" without words keeps the choice and says what is missing.
    close = _text(client.get(f"/claimants/{lee}/case/close"))
    assert "open referrals are closed" in close and "The claimant moved away" in close
    missing = client.post(f"/claimants/{lee}/case/close", data={
        "csrf_token": token(client, f"/claimants/{lee}/case/close"), "reason": "other"})
    assert missing.status_code == 422 and "Say why the case is closing" in _text(missing)
    assert 'value="other" checked' in _text(missing)
    done = client.post(f"/claimants/{lee}/case/close", data={
        "csrf_token": token(client, f"/claimants/{lee}/case/close"), "reason": "moved_away"})
    assert done.status_code == 302
    overview = _text(client.get(f"/claimants/{lee}"))
    assert "Closed on" in overview and "The claimant moved away" in overview
    assert "Reopen the case" in overview and "Close the case" not in overview
    assert "The case is closed, so nothing can be added to the plan" in overview
    assert "Add an action" not in overview
    details = _text(client.get(f"/claimants/{lee}/case"))
    assert "The case is closed" in details and "Save case details" not in details

    reopen = _text(client.get(f"/claimants/{lee}/case/reopen"))
    assert "Consents that ended when the case closed stay ended" in reopen
    back = client.post(f"/claimants/{lee}/case/reopen",
                       data={"csrf_token": token(client, f"/claimants/{lee}/case/reopen")})
    assert back.status_code == 302
    assert "Close the case" in _text(client.get(f"/claimants/{lee}"))
    assert len(events(rt, type="cases:case:reopen")) == 1

