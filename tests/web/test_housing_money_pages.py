"""Housing and money pages through the Flask client: what each role is offered, forms keep
what was typed, the APA steps and the tenancy months."""

from __future__ import annotations

import re
import uuid
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from caseshare.runtime import Runtime
from caseshare.support_records.models import SupportRecord
from caseshare.web.support_records import pence
from tests.audit_helpers import events
from tests.conftest import COACH, HOUSING, KEY_WORKER, Demo
from tests.web.test_pages import sign_in, token

TENANCY = {"landlord_type": "council", "rent": "450.00", "rent_frequency": "monthly",
           "paid_by": "claimant", "start_on-day": "1", "start_on-month": "4",
           "start_on-year": "2025"}


def _post(client: FlaskClient, path: str, form_path: str, **data: str) -> Any:
    return client.post(path, data={"csrf_token": token(client, form_path), **data})


def _add(client: FlaskClient, subject: uuid.UUID, kind: str, **data: str) -> Any:
    path = f"/claimants/{subject}/records/new/{kind}"
    return _post(client, path, path, **data)


def test_overview_links_to_housing_and_money(client: FlaskClient, demo: Demo) -> None:
    sign_in(client, HOUSING, "tenancy_sustainment")
    page = client.get(f"/claimants/{demo.lee}").get_data(as_text=True)
    assert f"/claimants/{demo.lee}/records" in page and "Housing and money" in page


def test_housing_officer_is_offered_tenancy_and_apa_only(client: FlaskClient,
                                                         demo: Demo) -> None:
    sign_in(client, HOUSING, "tenancy_sustainment")
    page = client.get(f"/claimants/{demo.lee}/records").get_data(as_text=True)
    assert "/records/new/tenancy" in page and "/records/new/apa" in page
    assert "/records/new/money_plan" not in page and "/records/new/banking" not in page
    assert 'data-testid="not-offered"' in page  # the money kinds, with the reason


def test_a_reader_without_the_category_sees_it_withheld(client: FlaskClient, demo: Demo,
                                                        rt: Runtime) -> None:
    sign_in(client, HOUSING, "tenancy_sustainment")
    assert _add(client, demo.lee, "tenancy", **TENANCY).status_code == 302
    worker = FlaskClient(client.application)
    sign_in(worker, KEY_WORKER, "recovery_support")
    page = worker.get(f"/claimants/{demo.lee}/records").get_data(as_text=True)
    assert 'data-testid="no-records"' in page and 'data-testid="withheld-housing_tenancy"' in page
    assert "/records/new/" not in page


def test_errors_keep_what_was_typed(client: FlaskClient, demo: Demo, rt: Runtime) -> None:
    sign_in(client, HOUSING, "tenancy_sustainment")
    r = _add(client, demo.lee, "tenancy", **{**TENANCY, "rent": "lots", "start_on-day": "31",
                                             "start_on-month": "2"})
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert "Enter the rent in pounds" in page and "Enter a real date" in page
    assert 'value="lots"' in page and 'value="31"' in page
    assert re.search(r'<option value="council" selected', page)
    with rt.session_factory() as s:
        assert s.scalars(select(SupportRecord)).first() is None


def test_a_work_coach_cannot_add_a_tenancy_and_is_told_why(client: FlaskClient, demo: Demo,
                                                           rt: Runtime) -> None:
    sign_in(client, COACH)
    form = client.get(f"/claimants/{demo.lee}/records/new/tenancy").get_data(as_text=True)
    assert 'data-testid="refused"' in form
    r = _add(client, demo.lee, "tenancy", **TENANCY)
    assert r.status_code == 403 and 'value="450.00"' in r.get_data(as_text=True)
    assert events(rt, type="access:write:deny", subject_id=demo.lee)


def test_apa_steps_move_forward_with_the_button(client: FlaskClient, demo: Demo) -> None:
    sign_in(client, HOUSING, "tenancy_sustainment")
    r = _add(client, demo.lee, "apa", trigger="rent_arrears", type="managed_payment",
             **{"identified_on-day": "5", "identified_on-month": "1",
                "identified_on-year": "2026"})
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    path = r.headers["Location"]
    for step in ("requested", "dwp_decision", "in_place"):
        page = client.get(path).get_data(as_text=True)
        assert f'value="{step}"' in page
        version = re.search(r'name="version" value="([^"]+)"', page)
        assert version is not None
        moved = client.post(path + "/status", data={
            "csrf_token": token(client, path), "status": step,
            "version": version.group(1).replace("&#34;", '"')})
        assert moved.status_code == 302, moved.get_data(as_text=True)[:2000]
    page = client.get(path).get_data(as_text=True)
    assert 'data-testid="next-status"' not in page and "In place: 23 November 2026" in page


def test_tenancy_months_table_and_form(client: FlaskClient, demo: Demo) -> None:
    sign_in(client, HOUSING, "tenancy_sustainment")
    path = _add(client, demo.lee, "tenancy", **TENANCY).headers["Location"]
    month = {"month": "2026-06", "rent_due": "450.00", "rent_paid": "450.00",
             "arrears": "0.00", "paid_by": "claimant"}
    assert _post(client, path + "/months", path, **month).status_code == 302
    again = _post(client, path + "/months", path, **month)
    assert again.status_code == 422 and "This month is already recorded" in again.get_data(
        as_text=True)
    bad = _post(client, path + "/months", path, **{**month, "month": "June", "arrears": "x"})
    page = bad.get_data(as_text=True)
    assert bad.status_code == 422 and 'value="June"' in page and 'value="x"' in page
    # Review 24 finding 9: the page shares the domain's rule (0001-01 was a 500, 9999-12 kept).
    for outside in ("0001-01", "9999-12", "2025-03"):
        r = _post(client, path + "/months", path, **{**month, "month": outside})
        page = r.get_data(as_text=True)
        assert r.status_code == 422 and f'value="{outside}"' in page
        assert "the tenancy&#39;s start" in page or "the tenancy's start" in page
    # Review 24 finding 15: the page took up to £9,999,999.99; the limit is the API's £1,000,000.
    over = _post(client, path + "/months", path, **{**month, "month": "2026-07",
                                                     "rent_due": "1000000.01"})
    page = over.get_data(as_text=True)
    assert over.status_code == 422 and 'value="1000000.01"' in page
    assert "up to £1,000,000" in page
    table = client.get(path).get_data(as_text=True)
    assert 'class="govuk-table cs-table--stack" data-testid="months"' in table
    assert 'data-label="Rent paid">£450.00' in table


def test_changing_an_apa_keeps_its_status_and_dates(client: FlaskClient, demo: Demo) -> None:
    sign_in(client, HOUSING, "tenancy_sustainment")
    path = _add(client, demo.lee, "apa", trigger="rent_arrears", type="managed_payment",
                **{"identified_on-day": "5", "identified_on-month": "1",
                   "identified_on-year": "2026"}).headers["Location"]
    form = client.get(path + "/edit").get_data(as_text=True)
    version = re.search(r'name="version" value="([^"]+)"', form)
    assert version is not None and 'name="identified_on-day"' not in form
    r = _post(client, path + "/edit", path + "/edit", trigger="debt", type="split_payment",
              version=version.group(1).replace("&#34;", '"'),
              **{"review_on-day": "5", "review_on-month": "7", "review_on-year": "2026"})
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    page = client.get(path).get_data(as_text=True)
    assert "Split payment" in page and "5 July 2026" in page and "5 January 2026" in page


def test_the_arrears_alert_links_to_the_apa(client: FlaskClient, demo: Demo, rt: Runtime,
                                            auth: Any) -> None:
    housing = auth(HOUSING)
    base = f"/api/v1/subjects/{demo.lee}/records"
    tenancy = client.post(base + "?purpose=tenancy_sustainment", headers=housing, json={
        "kind": "tenancy", "data": {"landlord_type": "council", "rent_pence": 45000,
                                    "rent_frequency": "monthly", "paid_by": "claimant",
                                    "start_on": "2025-04-01"}}).json["id"]
    apa = client.post(base + "?purpose=tenancy_sustainment", headers=housing, json={
        "kind": "apa", "data": {"trigger": "debt", "type": "split_payment", "status": "ended",
                                "status_dates": {"identified": "2026-01-05",
                                                 "ended": "2026-02-01"}}}).json["id"]
    r = client.post(f"{base}/{tenancy}/snapshots?purpose=tenancy_sustainment", headers=housing,
                    json={"month": "2026-04", "rent_due_pence": 45000, "rent_paid_pence": 0,
                          "arrears_pence": 45000, "paid_by": "claimant"})
    assert r.status_code == 201, r.json
    sign_in(client, HOUSING, "tenancy_sustainment")
    page = client.get("/notifications").get_data(as_text=True)
    assert "Arrears after an APA ended" in page
    assert f"/claimants/{demo.lee}/records/{apa}" in page


def test_pounds_are_read_up_to_the_domains_limit() -> None:
    assert pence("£1,000,000.00") == 100_000_000 and pence("450") == 45000
    assert pence("1000000.01") is None and pence("9999999.99") is None
