"""The funding view page (/mi/funding) and its CSV and JSON downloads, through the Flask
client."""

from __future__ import annotations

import csv
import io
import json

from flask.testing import FlaskClient

from caseshare.runtime import Runtime
from tests.audit_helpers import events
from tests.conftest import COACH, Demo
from tests.mi_builders import add_analyst, add_claimants, add_each, add_outcomes
from tests.web.test_pages import sign_in


def test_the_analyst_sees_payments_thresholds_and_a_csv(client: FlaskClient, rt: Runtime,
                                                          demo: Demo) -> None:
    claimants = add_claimants(rt, 12)  # twelve claimants each with an APA (one each counts)
    add_each(rt, claimants, "apa_in_place")
    add_each(rt, claimants[:8], "bank_account_opened")  # the rent count's hidden partner
    add_outcomes(rt, demo.kerry, "paying_own_rent_6m", 3)
    sign_in(client, add_analyst(rt), purpose="evaluation")
    r = client.get("/mi/funding")
    html = r.get_data(as_text=True)
    assert r.status_code == 200, html[:2000]
    assert "Derby Universal Credit local support services protocol" in html
    assert "£45,000 per 6-month funding period" in html
    # 12 APAs published as 10: at the threshold of 10, 10 x £150.
    assert 'data-code="apa_in_place"' in html and "£1,500" in html
    assert "fewer than 8 (hidden)" in html  # the three rent outcomes are not published
    assert "below the threshold, nothing paid yet" in html
    assert "cs-table--stack" in html and 'data-label="Earned"' in html
    assert 'data-testid="nav-funding"' in html
    download = client.get("/mi/funding.csv")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(download.get_data(as_text=True))))
    apa = next(row for row in rows if row["code"] == "apa_in_place")
    assert (apa["count"], apa["amount_pence"]) == ("10", "150000")
    rent = next(row for row in rows if row["code"] == "paying_own_rent_6m")
    assert (rent["count"], rent["amount_pence"]) == ("", "0")


def test_the_json_download_is_the_api_body_with_small_counts_null(
        client: FlaskClient, rt: Runtime, demo: Demo) -> None:
    claimants = add_claimants(rt, 12)  # twelve claimants each with an APA (one each counts)
    add_each(rt, claimants, "apa_in_place")
    add_each(rt, claimants[:8], "bank_account_opened")  # the rent count's hidden partner
    add_outcomes(rt, demo.kerry, "paying_own_rent_6m", 3)
    sign_in(client, add_analyst(rt), purpose="evaluation")
    html = client.get("/mi/funding?from=2026-06-01&to=2026-11-23").get_data(as_text=True)
    assert 'href="/mi/funding.json?from=2026-06-01&amp;to=2026-11-23"' in html
    r = client.get("/mi/funding.json?from=2026-06-01&to=2026-11-23")
    assert r.status_code == 200 and r.mimetype == "application/json"
    assert 'filename="funding-2026-06-01-to-2026-11-23.json"' in r.headers["Content-Disposition"]
    body = json.loads(r.get_data(as_text=True))
    assert (body["from"], body["to"]) == ("2026-06-01", "2026-11-23") and body["generated_at"]
    [derby] = body["partnerships"]
    outcomes = {line["code"]: line for line in derby["outcomes"]}
    assert (outcomes["apa_in_place"]["count"], outcomes["apa_in_place"]["amount_pence"]) == (
        10, 150000)
    assert outcomes["paying_own_rent_6m"]["count"] is None  # three: never published
    assert len(events(rt, type="mi:funding:query", decision="allow")) == 2  # page, download


def test_a_bad_date_keeps_what_was_typed(client: FlaskClient, rt: Runtime, demo: Demo) -> None:
    sign_in(client, add_analyst(rt), purpose="evaluation")
    r = client.get("/mi/funding?from=1st+June&to=")
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "Enter a date like 2026-06-01" in html and 'value="1st June"' in html


def test_other_purposes_are_refused(client: FlaskClient, demo: Demo) -> None:
    sign_in(client, COACH)
    assert client.get("/mi/funding").status_code == 403


def test_dates_outside_2000_to_2100_are_a_422_not_a_500(client: FlaskClient, rt: Runtime,
                                                        demo: Demo) -> None:
    sign_in(client, add_analyst(rt), purpose="evaluation")
    for query in ("to=0001-01-01", "from=9999-12-01&to=9999-12-31"):
        r = client.get(f"/mi/funding?{query}")
        html = r.get_data(as_text=True)
        assert r.status_code == 422, query
        assert "Enter a date between 2000-01-01 and 2100-12-31" in html
