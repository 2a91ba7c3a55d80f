"""Housing and money records under the decision, through the API (both engines)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from caseshare.facts import Principal
from caseshare.notifications import service as notification_service
from caseshare.notifications.models import Notification
from caseshare.notifications.service import notify
from caseshare.outcomes import service as outcome_service
from caseshare.outcomes.models import Outcome, OutcomeAttribution
from caseshare.runtime import Runtime
from caseshare.subjects import service as subjects
from caseshare.subjects.models import Subject
from caseshare.support_records import service as records
from caseshare.support_records.models import SupportRecord, TenancySnapshot
from tests.audit_helpers import events
from tests.builders import assert_problem
from tests.conftest import ADVISER, COACH, HOUSING, KEY_WORKER, Demo

RECORDS = "/api/v1/subjects/{}/records?purpose={}"
RECORD = "/api/v1/subjects/{}/records/{}?purpose={}"
SNAPSHOTS = "/api/v1/subjects/{}/records/{}/snapshots?purpose={}"
HISTORY = "/api/v1/subjects/{}/records/{}/history?purpose={}"
TS = "tenancy_sustainment"

TENANCY = {"landlord_type": "council", "rent_pence": 45000, "rent_frequency": "monthly",
           "paid_by": "claimant", "start_on": "2025-04-01"}
APA = {"trigger": "rent_arrears", "type": "managed_payment", "status": "identified",
       "status_dates": {"identified": "2026-01-05"}}


def _create(client: FlaskClient, headers: dict[str, str], subject: uuid.UUID, kind: str,
            data: dict[str, Any], purpose: str = TS) -> Any:
    r = client.post(RECORDS.format(subject, purpose), headers=headers,
                    json={"kind": kind, "data": data})
    assert r.status_code == 201, r.json
    return r


def _month(client: FlaskClient, headers: dict[str, str], subject: uuid.UUID,
           record: str, month: str, **figures: Any) -> Any:
    body = {"month": month, "rent_due_pence": 45000, "rent_paid_pence": 45000,
            "arrears_pence": 0, "paid_by": "claimant", **figures}
    return client.post(SNAPSHOTS.format(subject, record, TS), headers=headers, json=body)


def test_housing_officer_records_a_tenancy_sealed_and_audited(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    r = _create(client, auth(HOUSING), demo.lee, "tenancy", TENANCY)
    body = r.json
    assert body["category"] == "housing_tenancy" and body["data"] == TENANCY
    assert body["created_org"] == "derby-housing" and r.headers["ETag"]
    with rt.session_factory() as s:
        stored = s.get(SupportRecord, uuid.UUID(body["id"]))
        assert stored is not None and b"council" not in stored.data
    [event] = events(rt, type="support_records:record:create", subject_id=demo.lee)
    assert event.categories == ["housing_tenancy"] and event.org == "derby-housing"

    listed = client.get(RECORDS.format(demo.lee, TS), headers=auth(HOUSING)).json
    assert [i["id"] for i in listed["items"]] == [body["id"]]
    assert events(rt, type="support_records:record:list", subject_id=demo.lee)


def test_adviser_writes_money_plans_and_banking_under_finances(
    client: FlaskClient, auth: Any, demo: Demo
) -> None:
    plan = {"income": [{"label": "Universal Credit", "pence": 80000}], "outgoings": [],
            "priority_debts": [{"label": "Council tax", "pence": 12000}],
            "agreed_actions": ["Apply for council tax support"], "reviewed_on": "2026-11-20"}
    r = _create(client, auth(ADVISER), demo.kerry, "money_plan", plan, "budgeting_support")
    assert r.json["category"] == "finances" and r.json["review_on"] == "2026-12-20"
    banking = {"account_opened": {"type": "credit_union", "on": "2026-11-01"},
               "claim_managed_online": True}
    r = _create(client, auth(ADVISER), demo.kerry, "banking", banking, "budgeting_support")
    assert r.json["data"]["online_account_set_up"] is None
    only = client.get(RECORDS.format(demo.kerry, "budgeting_support") + "&kind=banking",
                      headers=auth(ADVISER)).json["items"]
    assert [i["kind"] for i in only] == ["banking"]


def test_a_role_without_the_write_grant_is_refused_403_and_audited(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    r = client.post(RECORDS.format(demo.lee, "case_management"), headers=auth(COACH),
                    json={"kind": "tenancy", "data": TENANCY})
    body = assert_problem(r, 403)
    assert body["reasons"] == ["role_not_granted"]
    [event] = events(rt, type="access:write:deny", subject_id=demo.lee)
    assert str(event.event_uuid) == body["audit_id"] and event.categories == ["housing_tenancy"]
    # The housing officer has no grant to write money plans.
    r = client.post(RECORDS.format(demo.lee, TS), headers=auth(HOUSING),
                    json={"kind": "money_plan", "data": {"reviewed_on": "2026-11-20"}})
    assert assert_problem(r, 403)["reasons"]


def test_a_reader_without_the_category_sees_it_withheld(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    record = _create(client, auth(HOUSING), demo.lee, "tenancy", TENANCY).json["id"]
    r = client.get(RECORDS.format(demo.lee, "recovery_support"), headers=auth(KEY_WORKER))
    assert r.status_code == 200, r.json
    assert r.json["items"] == []
    withheld = {w["category"]: w["reasons"] for w in r.json["withheld"]}
    assert withheld["housing_tenancy"]
    denied = events(rt, type="support_records:record:list", subject_id=demo.lee,
                    decision="deny")
    assert denied and "housing_tenancy" in denied[-1].categories
    # The record itself does not exist for them (404, the probe audited).
    r = client.get(RECORD.format(demo.lee, record, "recovery_support"),
                   headers=auth(KEY_WORKER))
    assert_problem(r, 404)


def test_bad_fields_are_422_naming_them_and_nothing_is_written(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    r = client.post(RECORDS.format(demo.lee, TS), headers=auth(HOUSING),
                    json={"kind": "tenancy", "data": {**TENANCY, "rent_pence": "lots"}})
    assert list(assert_problem(r, 422)["errors"]) == ["data.rent_pence"]
    r = client.post(RECORDS.format(demo.lee, TS), headers=auth(HOUSING),
                    json={"kind": "pension", "data": {}})
    assert "kind" in assert_problem(r, 422)["errors"]
    with rt.session_factory() as s:
        assert s.scalars(select(SupportRecord)).first() is None


def test_an_apa_cannot_record_a_health_or_addiction_trigger(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    # Review 24 finding 1: the APA is read under housing_tenancy (the coach reads it under plain
    # support-journey consent), so its trigger must not carry special category words.
    for trigger in ("addiction", "mental_health", "domestic_abuse"):
        r = client.post(RECORDS.format(demo.lee, TS), headers=auth(HOUSING),
                        json={"kind": "apa", "data": {**APA, "trigger": trigger}})
        assert list(assert_problem(r, 422)["errors"]) == ["data.trigger"]
    with rt.session_factory() as s:
        assert s.scalars(select(SupportRecord)).first() is None
    record = _create(client, auth(HOUSING), demo.lee, "apa",
                     {**APA, "trigger": "vulnerability"}).json["id"]
    r = client.get(RECORD.format(demo.lee, record, "case_management"), headers=auth(COACH))
    assert r.status_code == 200 and r.json["data"]["trigger"] == "vulnerability"


def test_apa_moves_forward_with_if_match_and_keeps_each_date(
    client: FlaskClient, auth: Any, demo: Demo, clock: Any
) -> None:
    housing = auth(HOUSING)
    r = _create(client, housing, demo.lee, "apa", APA)
    record, etag = r.json["id"], r.headers["ETag"]
    url = RECORD.format(demo.lee, record, TS)
    assert_problem(client.patch(url, headers=housing, json={"data": {"status": "requested"}}),
                   428)
    for status in ("requested", "dwp_decision", "in_place"):
        r = client.patch(url, headers={**housing, "If-Match": etag},
                         json={"data": {"status": status}})
        assert r.status_code == 200, r.json
        etag = r.headers["ETag"]
    assert list(r.json["data"]["status_dates"]) == ["dwp_decision", "identified", "in_place",
                                                    "requested"]
    back = client.patch(url, headers={**housing, "If-Match": etag},
                        json={"data": {"status": "requested"}})
    assert list(assert_problem(back, 422)["errors"]) == ["data.status"]
    stale = client.patch(url, headers={**housing, "If-Match": '"r-old-1"'},
                         json={"data": {"status": "ended"}})
    assert_problem(stale, 412)
    history = client.get(HISTORY.format(demo.lee, record, TS), headers=housing).json["items"]
    assert [v["data"]["status"] for v in history] == ["in_place", "dwp_decision", "requested",
                                                      "identified"]


def test_an_apa_status_that_is_not_a_status_is_422_naming_it(
    client: FlaskClient, auth: Any, demo: Demo
) -> None:
    # Review 24 finding 7: each of these was a 500 (the move was checked before the value).
    housing = auth(HOUSING)
    r = _create(client, housing, demo.lee, "apa", APA)
    url, etag = RECORD.format(demo.lee, r.json["id"], TS), r.headers["ETag"]
    for bad in ("bogus", 5, ["x"], None, {"a": 1}):
        r = client.patch(url, headers={**housing, "If-Match": etag},
                         json={"data": {"status": bad}})
        assert list(assert_problem(r, 422)["errors"]) == ["data.status"], bad
    r = client.patch(url, headers={**housing, "If-Match": etag},
                     json={"data": {"status": "requested"}})
    assert r.status_code == 200, r.json


def test_six_months_paid_by_the_claimant_record_the_outcome_once(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    housing = auth(HOUSING)
    record = _create(client, housing, demo.lee, "tenancy", TENANCY).json["id"]
    for n in range(1, 6):
        r = _month(client, housing, demo.lee, record, f"2026-0{n}")
        assert r.status_code == 201, r.json
        assert r.json["outcomes"] == []
    r = _month(client, housing, demo.lee, record, "2026-06")
    [outcome] = r.json["outcomes"]
    assert outcome["code"] == "paying_own_rent_6m" and outcome["achieved_on"] == "2026-06-30"
    assert [s["month"] for s in r.json["snapshots"]][-1] == "2026-06"
    assert _month(client, housing, demo.lee, record, "2026-07").json["outcomes"] == [outcome]
    assert_problem(_month(client, housing, demo.lee, record, "2026-07"), 409)
    read = client.get(RECORD.format(demo.lee, record, TS), headers=housing)
    assert read.json["outcomes"] == [outcome] and len(read.json["snapshots"]) == 7
    assert events(rt, type="support_records:record:read", subject_id=demo.lee)
    with rt.session_factory() as s:
        [stored] = s.scalars(select(Outcome)).all()
        assert (stored.computed, stored.service_line, stored.recorded_org) == (
            True, "budgeting_support", "derby-housing")
        assert str(stored.source_record_id) == record
        assert len(s.scalars(select(TenancySnapshot)).all()) == 7
        # Attributed for outcome-based payments: the council recorded the tenancy it came from.
        shares = s.scalars(select(OutcomeAttribution).where(
            OutcomeAttribution.outcome_id == stored.id)).all()
        assert "derby-housing" in {a.org for a in shares}
        assert sum(a.share for a in shares) == 1
    [computed] = events(rt, type="support_records:outcome:compute")
    assert "derby-housing" in computed.details["attributed_to"]


def test_a_month_outside_the_tenancy_is_422_and_nothing_is_recorded(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    # Review 24 finding 9: months before the tenancy began or still to come were accepted (six
    # months of 2030 gave an outcome dated 2030-06-30). The clock is 23 November 2026.
    housing = auth(HOUSING)
    record = _create(client, housing, demo.lee, "tenancy", TENANCY).json["id"]
    for month in ("2025-03", "2026-12", "2030-01", "2100-12"):
        r = _month(client, housing, demo.lee, record, month)
        assert list(assert_problem(r, 422)["errors"]) == ["month"], month
    with rt.session_factory() as s:
        assert s.scalars(select(TenancySnapshot)).first() is None
    for month in ("2025-04", "2026-11"):  # the tenancy's first month and this month
        assert _month(client, housing, demo.lee, record, month).status_code == 201


def test_arrears_after_the_apa_ended_alert_its_housing_officers_once(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    housing = auth(HOUSING)
    tenancy = _create(client, housing, demo.lee, "tenancy", TENANCY).json["id"]
    apa = _create(client, housing, demo.lee, "apa", {
        **APA, "status": "ended",
        "status_dates": {"identified": "2026-01-05", "ended": "2026-03-20"}}).json["id"]
    assert _month(client, housing, demo.lee, tenancy, "2026-03", arrears_pence=900)\
        .status_code == 201  # the APA ended during March: no alert
    for month in ("2026-04", "2026-05"):
        assert _month(client, housing, demo.lee, tenancy, month, arrears_pence=900,
                      rent_paid_pence=0).status_code == 201
    with rt.session_factory() as s:
        [note] = s.scalars(select(Notification).where(
            Notification.type == "arrears_after_apa")).all()
    assert (note.org_id, note.role) == ("derby-housing", "housing_officer")
    assert note.details == {"record_id": apa, "month": "2026-04"}
    assert len(events(rt, type="support_records:apa:arrears_alert")) == 1


def _ended_apa_of(rt: Runtime, subject: uuid.UUID, org: str, role: str) -> str:
    """An ended APA written by `org` (straight through the domain: under the Derby protocol
    only the council writes housing records through the API)."""
    writer = Principal(actor_id=str(uuid.uuid4()), actor_type="staff", org=org,
                       roles=frozenset({role}))
    with rt.session_factory() as s:
        found = s.get(Subject, subject)
        assert found is not None
        apa = records.create_record(
            s, subject_id=subject, kind="apa", data={
                **APA, "status": "ended",
                "status_dates": {"identified": "2026-01-05", "ended": "2026-02-20"}},
            data_key=subjects.data_key(found, rt.keyring), principal=writer,
            purpose="case_management", now=rt.now())
        s.commit()
        return str(apa.id)


def _alerted(rt: Runtime) -> list[str]:
    with rt.session_factory() as s:
        return [n.org_id for n in s.scalars(select(Notification).where(
            Notification.type == "arrears_after_apa"))]


def test_the_arrears_alert_goes_only_to_an_apa_org_that_may_read_the_figures(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    # Review 24 finding 12: the alert told any APA's organisation about the council's figures
    # without deciding whether it may read them. Lee's consent names the Jobcentre: it is told.
    housing = auth(HOUSING)
    tenancy = _create(client, housing, demo.lee, "tenancy", TENANCY).json["id"]
    _ended_apa_of(rt, demo.lee, "jcp-derby", "work_coach")
    assert _month(client, housing, demo.lee, tenancy, "2026-03", arrears_pence=900,
                  rent_paid_pence=0).status_code == 201
    assert _alerted(rt) == ["jcp-derby"]


def test_no_arrears_alert_to_an_apa_org_whose_consent_was_withdrawn(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime, monkeypatch: Any
) -> None:
    housing = auth(HOUSING)
    tenancy = _create(client, housing, demo.lee, "tenancy", TENANCY).json["id"]
    apa = _ended_apa_of(rt, demo.lee, "jcp-derby", "work_coach")
    consents = client.get(f"/api/v1/subjects/{demo.lee}/consents?purpose=case_management",
                          headers=auth(COACH)).json["items"]
    for consent in consents:
        w = client.post(f"/api/v1/consents/{consent['id']}/withdrawal?purpose=case_management",
                        json={"channel": "phone", "scope": {"recipients": ["jcp-derby"]}},
                        headers=auth(COACH))
        assert w.status_code == 200, w.json
    opened: list[str] = []
    ended_on = records.apa_ended_on
    monkeypatch.setattr(records, "apa_ended_on",
                        lambda record, key: opened.append(str(record.id)) or ended_on(record, key))
    assert _month(client, housing, demo.lee, tenancy, "2026-03", arrears_pence=900,
                  rent_paid_pence=0).status_code == 201
    assert _alerted(rt) == [] and apa not in opened  # not told, and its APA not opened
    assert not events(rt, type="support_records:apa:arrears_alert")


def test_a_computed_outcome_counted_meanwhile_is_skipped_not_a_503(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime, monkeypatch: Any
) -> None:
    # Review 24 finding 11: another request records the same outcome after this one checked
    # (find_outcome saw nothing) and before it inserts; the month is still recorded, counted once.
    housing = auth(HOUSING)
    record = _create(client, housing, demo.lee, "tenancy", TENANCY).json["id"]
    for n in range(1, 6):
        assert _month(client, housing, demo.lee, record, f"2026-0{n}").status_code == 201
    with rt.session_factory() as s:
        found = s.get(Subject, demo.lee)
        assert found is not None
        outcome_service.record_outcome(
            s, subjects.data_key(found, rt.keyring), subject_id=demo.lee,
            code="paying_own_rent_6m", category="housing_tenancy",
            achieved_on=date(2026, 6, 30), org="derby-housing", purpose=TS, now=rt.now(),
            staff_id=None, computed=True)
        s.commit()
    monkeypatch.setattr(outcome_service, "find_outcome", lambda *args, **kwargs: None)
    r = _month(client, housing, demo.lee, record, "2026-06")
    assert r.status_code == 201, r.json
    with rt.session_factory() as s:
        assert len(s.scalars(select(Outcome)).all()) == 1
        assert len(s.scalars(select(TenancySnapshot)).all()) == 6
    assert not events(rt, type="support_records:outcome:compute")


def test_an_arrears_alert_raised_meanwhile_is_skipped_not_a_503(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime, monkeypatch: Any
) -> None:
    housing = auth(HOUSING)
    tenancy = _create(client, housing, demo.lee, "tenancy", TENANCY).json["id"]
    apa = _ended_apa_of(rt, demo.lee, "derby-housing", "housing_officer")
    with rt.session_factory() as s:  # the other request's alert, committed after our check
        notify(s, type="arrears_after_apa", org="derby-housing", role="housing_officer",
               now=rt.now(), subject_id=demo.lee, once_key=f"arrears_after_apa:{apa}")
        s.commit()
    monkeypatch.setattr(notification_service, "once_raised", lambda *args: False)
    r = _month(client, housing, demo.lee, tenancy, "2026-03", arrears_pence=900)
    assert r.status_code == 201, r.json
    assert _alerted(rt) == ["derby-housing"]
    assert not events(rt, type="support_records:apa:arrears_alert")


def test_two_tenancies_completing_six_months_together_count_once(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    housing = auth(HOUSING)
    tenancies = [_create(client, housing, demo.lee, "tenancy", TENANCY).json["id"]
                 for _ in range(2)]
    for record in tenancies:
        for n in range(1, 7):
            assert _month(client, housing, demo.lee, record, f"2026-0{n}").status_code == 201
    with rt.session_factory() as s:
        assert len(s.scalars(select(Outcome)).all()) == 1
