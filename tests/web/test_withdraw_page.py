"""The withdrawal page for a named recipient (Flask client, no browser): it offers only the
recipient's own part, says in plain words to ask the lead organisation (named) to record a
withdrawal for the others, and records only the recipient's part."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from caseshare.consent.models import Consent, ConsentWithdrawal
from caseshare.runtime import Runtime
from tests.audit_helpers import events
from tests.conftest import HOUSING, Demo
from tests.web.test_pages import sign_in, token

LEAD = "Derby Jobcentre Plus"
OTHERS = ("recovery-partnership", "Recovery Partnership", "ca-derby", "Citizens Advice")


def _withdrawals(rt: Runtime, consent_id: Any) -> list[dict[str, Any]]:
    with rt.session_factory() as s:
        return [dict(w.scope) for w in s.scalars(
            select(ConsentWithdrawal).where(ConsentWithdrawal.consent_id == consent_id))]


def test_a_recipients_withdrawal_page_offers_only_its_own_part(
    client: FlaskClient, demo: Demo, rt: Runtime
) -> None:
    with rt.session_factory() as s:
        consent_id = s.scalars(select(Consent.id).where(Consent.subject_id == demo.lee)).one()
    path = f"/claimants/{demo.lee}/consents/{consent_id}/withdraw"
    sign_in(client, HOUSING)
    shown = client.get(path)
    assert shown.status_code == 200
    page = shown.get_data(as_text=True)
    assert 'value="derby-housing"' in page
    assert not any(other in page for other in OTHERS)
    assert "Everything shared with Derby City Council Housing Options" in page
    assert "All of this consent" not in page
    assert f"ask {LEAD} (the lead organisation) to record it for everyone" in page

    # A tampered form naming another recipient records nothing.
    tampered = client.post(path, data={"csrf_token": token(client, path), "extent": "part",
                                       "recipients": "recovery-partnership", "channel": "phone"})
    assert tampered.status_code == 422
    assert _withdrawals(rt, consent_id) == []

    done = client.post(path, data={"csrf_token": token(client, path), "extent": "all",
                                   "channel": "phone"})
    assert done.status_code == 200
    text = done.get_data(as_text=True)
    assert "Consent withdrawn for Derby City Council Housing Options" in text
    assert "for every organisation" not in text
    assert f"ask {LEAD} (the lead organisation) to record it for everyone" in text
    assert _withdrawals(rt, consent_id) == [{"recipients": ["derby-housing"]}]
    [event] = [e for e in events(rt, type="consent:record:withdraw", consent_id=consent_id)]
    assert event.decision == "allow" and event.org == "derby-housing"
    assert event.details["scope"] == {"recipients": ["derby-housing"]}
