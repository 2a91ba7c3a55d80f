"""The MI page (/mi) through the Flask client: an analyst under `evaluation` sees the chart
with its table, suppressed cells shown as "Not shown", CSV and JSON downloads of the same
cells; a bad date keeps what was typed; anyone else gets the audited refusal in plain words and
no link in the navigation."""

from __future__ import annotations

import html
import json
import uuid
from datetime import timedelta

from flask.testing import FlaskClient

from caseshare.identity import passwords
from caseshare.identity import service as identity
from caseshare.runtime import Runtime
from tests.audit_helpers import events
from tests.conftest import HOUSING, Clock, Demo
from tests.web.test_pages import PASSWORD, sign_in, token

ANALYST = "robin.analyst@derby-housing.example"


def _text(resp: object) -> str:
    return html.unescape(resp.get_data(as_text=True))  # type: ignore[attr-defined]


def _analyst(rt: Runtime, clock: Clock) -> None:
    with rt.session_factory() as s:
        staff = identity.add_or_update_staff(s, protocols=rt.protocols, email=ANALYST,
                                             name="Robin Analyst", org="derby-housing",
                                             roles=["analyst"], now=clock.now)
        passwords.set_password(staff, PASSWORD)
        s.commit()


def _an_outcome(rt: Runtime, demo: Demo, clock: Clock) -> None:
    from caseshare.outcomes.attribution import attribute
    from caseshare.outcomes.service import record_outcome

    with rt.session_factory() as s:
        outcome = record_outcome(s, b"\x00" * 32, subject_id=demo.lee, code="apa_in_place",
                                 category="housing_tenancy",
                                 achieved_on=(clock.now - timedelta(days=5)).date(),
                                 org="derby-housing", purpose="tenancy_sustainment",
                                 now=clock.now, staff_id=uuid.uuid4(),
                                 service_line="apa_identification")
        attribute(s, outcome)
        s.commit()


def test_analyst_sees_chart_table_and_downloads_with_small_counts_hidden(
        client: FlaskClient, rt: Runtime, demo: Demo, clock: Clock) -> None:
    _analyst(rt, clock)
    _an_outcome(rt, demo, clock)
    sign_in(client, ANALYST, purpose="evaluation")
    home = _text(client.get("/mi"))
    assert 'data-testid="nav-mi"' in home
    assert 'data-testid="mi-chart"' in home and 'data-testid="mi-table"' in home
    assert "Alternative Payment Arrangement in place" in home
    assert 'data-testid="suppressed"' in home
    assert ">1<" not in home.replace(" ", "")  # the one claimant is never shown as a count
    csv = client.get("/mi/outcomes.csv?by=partner")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    rows = csv.get_data(as_text=True).splitlines()
    assert rows[0] == "period,group,code,count,suppressed"
    assert "trial,derby-housing,apa_in_place,,True" in rows
    body = json.loads(client.get("/mi/outcomes.json?by=month").get_data(as_text=True))
    assert body["by"] == "month" and body["cells"]
    assert all(c["count"] is None or (c["count"] % 5 == 0 and not 0 < c["count"] <= 7)
               for c in body["cells"])
    assert len(events(rt, type="mi:outcomes:query", decision="allow")) == 3


def test_a_bad_date_keeps_what_was_typed(client: FlaskClient, rt: Runtime, demo: Demo,
                                         clock: Clock) -> None:
    _analyst(rt, clock)
    sign_in(client, ANALYST, purpose="evaluation")
    resp = client.get("/mi?from=2026-02-31&to=2026-06-30&by=month")
    assert resp.status_code == 422
    page = _text(resp)
    assert "Enter a date like 2026-04-01" in page and 'value="2026-02-31"' in page
    backwards = client.get("/mi?from=2026-06-30&to=2026-01-01&by=month")
    assert backwards.status_code == 422
    assert "The end of the period is before its start" in _text(backwards)
    assert not events(rt, type="mi:outcomes:query")


def test_a_housing_officer_is_refused_in_plain_words(client: FlaskClient, rt: Runtime,
                                                     demo: Demo) -> None:
    sign_in(client, HOUSING)
    home = _text(client.get("/"))
    assert 'data-testid="nav-mi"' not in home
    resp = client.get("/mi")
    assert resp.status_code == 403
    # MI's own scope, which only the analyst role carries (review of issue 24, finding 2);
    # before, subjects:read let the page reach the use case, refused for the purpose.
    assert "Your role cannot do this" in _text(resp)
    assert events(rt, type="access:scope:deny")


def test_under_evaluation_the_pages_open_mi_only(client: FlaskClient, rt: Runtime,
                                                 demo: Demo) -> None:
    """Review of issue 24, finding 2: choosing `evaluation` lands on /mi, home goes there too
    (no caseload), the navigation offers no claimant pages, and a claimant's page is refused
    in plain words, even for someone whose other role works with claimants."""
    email = "jo.both@derby-housing.example"
    with rt.session_factory() as s:
        staff = identity.add_or_update_staff(s, protocols=rt.protocols, email=email,
                                             name="Jo Both", org="derby-housing",
                                             roles=["housing_officer", "analyst"], now=rt.now())
        passwords.set_password(staff, PASSWORD)
        s.commit()
    sign_in(client, email, purpose=None)
    chosen = client.post("/purpose", data={"purpose": "evaluation",
                                           "csrf_token": token(client, "/purpose")})
    assert chosen.status_code == 302 and chosen.headers["Location"] == "/mi"
    home = client.get("/")
    assert home.status_code == 302 and home.headers["Location"] == "/mi"
    mi_page = _text(client.get("/mi"))
    assert 'data-testid="nav-mi"' in mi_page
    assert 'data-testid="nav-caseload"' not in mi_page and "Find a claimant" not in mi_page
    lee = client.get(f"/claimants/{demo.lee}")
    assert lee.status_code == 403
    assert "which gives outcome figures only" in _text(lee)
    assert "Lee" not in _text(lee)
    refused = events(rt, type="access:purpose:deny", purpose="evaluation")
    assert refused and refused[-1].reasons == ["evaluation_not_claimant_data"]


def test_dates_outside_2000_to_2100_are_a_422_not_a_500(client: FlaskClient, rt: Runtime,
                                                        demo: Demo, clock: Clock) -> None:
    _analyst(rt, clock)
    sign_in(client, ANALYST, purpose="evaluation")
    for query in ("from=0001-01-01&to=2026-06-30", "from=9999-12-01&to=9999-12-31",
                  "from=2026-01-01&to=2026-06-30&compare_from=0001-01-01&compare_to=0001-02-01"):
        resp = client.get(f"/mi?{query}&by=month")
        assert resp.status_code == 422, query
        page = _text(resp)
        assert "Enter a date between 2000-01-01 and 2100-12-31" in page
        assert 'value="' + query.split("=")[1].split("&")[0] + '"' in page
    assert not events(rt, type="mi:outcomes:query")
