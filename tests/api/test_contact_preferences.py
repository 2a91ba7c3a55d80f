"""The contact preference API: record, read, withdraw; audited; 404 for a claimant the caller
does not work with, 403 without the grant to write contact data, 422 naming the field, 409 on
withdrawing twice. The address is sealed and never in an audit event."""

from __future__ import annotations

import uuid
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from caseshare.reminders.models import ContactPreference
from caseshare.runtime import Runtime
from tests.audit_helpers import events
from tests.builders import assert_problem, consent, refer, register
from tests.conftest import ADVISER, COACH, HOUSING, IG, Clock

URL = "/api/v1/subjects/{}/contact-preference?purpose={}"
BODY = {"channel": "sms", "address": "07700 900982", "language": "cy",
        "method": "verbal_in_person"}


def _subject(client: FlaskClient, auth: Any, clock: Clock) -> str:
    subject = register(client, auth(COACH))
    consent(client, auth(COACH), subject, clock.now)
    return subject


def test_record_read_and_withdraw_are_audited_and_the_address_sealed(
    client: FlaskClient, auth: Any, rt: Runtime, clock: Clock
) -> None:
    subject = _subject(client, auth, clock)
    url = URL.format(subject, "case_management")
    assert client.get(url, headers=auth(COACH)).json["status"] == "none"
    r = client.put(url, headers=auth(COACH), json=BODY)
    assert r.status_code == 200, r.json
    assert r.json | {"id": None, "agreed_at": None} == {
        "subject_id": subject, "status": "active", "id": None, "channel": "sms",
        "address": "07700 900982", "language": "cy", "method": "verbal_in_person",
        "agreed_at": None, "recorded_org": "jcp-derby", "withdrawn_at": None, "withheld": []}
    assert r.headers["Cache-Control"] == "no-store"
    with rt.session_factory() as s:
        [row] = s.scalars(select(ContactPreference))
        assert b"900982" not in row.address  # sealed under the claimant's data key
    [recorded] = events(rt, type="reminders:contact_preference:record")
    assert recorded.decision == "allow" and recorded.categories == ["contact"]
    assert recorded.details["channel"] == "sms" and "900982" not in str(recorded.details)

    read = client.get(url, headers=auth(COACH))
    assert read.json["address"] == "07700 900982" and read.json["status"] == "active"
    [seen] = [e for e in events(rt, type="reminders:contact_preference:read")
              if e.categories == ["contact"]]
    assert seen.decision == "allow" and seen.details["preference_id"] == r.json["id"]

    # A new preference replaces the current one; the old is kept, ended as replaced.
    email = {**BODY, "channel": "email", "address": "jordan@example.org", "language": "en"}
    assert client.put(url, headers=auth(COACH), json=email).json["channel"] == "email"
    gone = client.delete(url, headers=auth(COACH))
    assert gone.status_code == 200
    assert gone.json["status"] == "withdrawn" and gone.json["withdrawn_at"] is not None
    assert gone.json["address"] is None
    assert len(events(rt, type="reminders:contact_preference:withdraw")) == 1
    assert_problem(client.delete(url, headers=auth(COACH)), 409)
    assert client.get(url, headers=auth(COACH)).json["status"] == "withdrawn"
    with rt.session_factory() as s:
        reasons = sorted(str(p.ended_reason) for p in s.scalars(select(ContactPreference)))
    assert reasons == ["replaced", "withdrawn"]


def test_a_claimant_the_caller_does_not_work_with_is_404_and_audited(
    client: FlaskClient, auth: Any, rt: Runtime, clock: Clock
) -> None:
    subject = _subject(client, auth, clock)  # the consent does not name Citizens Advice
    for method in ("get", "put", "delete"):
        r = getattr(client, method)(URL.format(subject, "case_management"),
                                    headers=auth(ADVISER),
                                    **({"json": BODY} if method == "put" else {}))
        assert_problem(r, 404)
    denials = events(rt, type="access:subject:deny", subject_id=uuid.UUID(subject))
    assert len(denials) == 3 and {e.org for e in denials} == {"ca-derby"}
    assert_problem(client.get(URL.format(uuid.uuid4(), "case_management"),
                              headers=auth(COACH)), 404)


def test_recording_needs_the_grant_to_write_contact_data(
    client: FlaskClient, auth: Any, rt: Runtime, clock: Clock
) -> None:
    subject = _subject(client, auth, clock)
    # Housing is named in the consent (so the claimant is not hidden from it) but is not a
    # case member: it may not write the claimant's contact data. Refused with reasons, audited.
    r = client.put(URL.format(subject, "tenancy_sustainment"), headers=auth(HOUSING), json=BODY)
    body = assert_problem(r, 403, reason="no_case_relationship")
    [denied] = events(rt, type="access:write:deny", subject_id=uuid.UUID(subject))
    assert body["audit_id"] == str(denied.event_uuid)
    assert "900982" not in str(denied.details)
    # The IG officer's token has no scope to record it at all.
    assert_problem(client.put(URL.format(subject, "audit"), headers=auth(IG), json=BODY), 403,
                   reason="insufficient_scope")
    with rt.session_factory() as s:
        assert s.scalar(select(ContactPreference)) is None


def test_another_partner_sees_the_address_only_through_a_flow(
    client: FlaskClient, auth: Any, rt: Runtime, clock: Clock
) -> None:
    subject = _subject(client, auth, clock)
    client.put(URL.format(subject, "case_management"), headers=auth(COACH), json=BODY)
    url = URL.format(subject, "tenancy_sustainment")
    r = client.get(url, headers=auth(HOUSING))  # named in the consent, not yet a case member
    assert r.status_code == 200, r.json
    assert (r.json["status"], r.json["channel"], r.json["address"]) == ("active", "sms", None)
    assert r.json["withheld"] == [{"category": "contact", "reasons": ["no_case_relationship"]}]
    [seen] = [e for e in events(rt, type="reminders:contact_preference:read")
              if e.org == "derby-housing"]
    assert seen.decision == "deny" and seen.reasons == ["no_case_relationship"]

    referral = refer(client, auth(COACH), subject, "derby-housing", "tenancy_sustainment",
                     clock.now).json["id"]
    accepted = client.post(f"/api/v1/referrals/{referral}/accept?purpose=tenancy_sustainment",
                           headers=auth(HOUSING))
    assert accepted.status_code == 200, accepted.json
    r = client.get(url, headers=auth(HOUSING))  # a case member now, with a flow from JCP
    assert (r.json["address"], r.json["withheld"]) == ("07700 900982", [])


def test_bad_input_is_422_naming_the_field(
    client: FlaskClient, auth: Any, clock: Clock
) -> None:
    subject = _subject(client, auth, clock)
    url = URL.format(subject, "case_management")
    cases = [({**BODY, "address": "not a number"}, "address"),
             ({**BODY, "channel": "email", "address": "nobody"}, "address"),
             ({**BODY, "channel": "pigeon"}, "channel"),
             ({**BODY, "language": "fr"}, "language"),
             ({**BODY, "method": "telepathy"}, "method"),
             ({k: v for k, v in BODY.items() if k != "address"}, "address"),
             ({**BODY, "extra": 1}, "extra")]
    for body, field in cases:
        assert_problem(client.put(url, headers=auth(COACH), json=body), 422, field)
    assert_problem(client.get(f"/api/v1/subjects/{subject}/contact-preference",
                              headers=auth(COACH)), 422, "purpose")


def test_withdrawing_under_a_reserved_purpose_is_refused_and_audited(
    client: FlaskClient, auth: Any, rt: Runtime, clock: Clock
) -> None:
    from caseshare.identity import service as identity
    from tests.conftest import issue_token

    subject = _subject(client, auth, clock)
    assert client.put(URL.format(subject, "case_management"), headers=auth(COACH),
                      json=BODY).status_code == 200
    email = "jo.dual@jcp-derby.example"
    with rt.session_factory() as s:
        identity.add_or_update_staff(s, protocols=rt.protocols, email=email, name="Jo Dual",
                                     org="jcp-derby", roles=["work_coach", "ig_officer"],
                                     now=rt.now())
        s.commit()
    dual = {"Authorization": f"Bearer {issue_token(rt, email)}"}
    body = assert_problem(client.delete(URL.format(subject, "audit"), headers=dual), 403,
                          reason="purpose_reserved")
    assert body["audit_id"]
    r = client.get(URL.format(subject, "case_management"), headers=auth(COACH))
    assert r.json["status"] == "active"
    # Under a service purpose the same person may record the claimant's withdrawal.
    assert client.delete(URL.format(subject, "case_management"), headers=dual).status_code == 200
