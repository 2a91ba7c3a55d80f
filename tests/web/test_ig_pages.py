"""IG officer pages through the Flask test client (both engines): deny by default, the
dashboard's figures, the audit search filters and downloads (content type, header row, nothing
outside the IG officer's reach), the subject access report, and override review."""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from typing import Any

import pyotp
import pytest
from flask.testing import FlaskClient

from caseshare.overrides.models import OverrideRecord
from caseshare.runtime import Runtime
from tests.audit_helpers import events
from tests.conftest import ADVISER, COACH, HOUSING, IG, KEY_WORKER, Clock, Demo
from tests.web.ig_helpers import JUSTIFICATION, break_glass, enrol_second_factor
from tests.web.test_pages import sign_in, token

IG_PAGES = ["/ig", "/ig/audit", "/ig/audit?searched=1", "/ig/audit.csv?searched=1",
            "/ig/audit.json?searched=1", "/ig/overrides", "/ig/access-report?claimant={lee}",
            "/ig/claimants/{lee}/access-report", "/ig/claimants/{lee}/access-report.csv",
            "/ig/claimants/{lee}/access-report.json", "/ig/unusual-access",
            "/ig/subject-access-request", "/ig/subject-access-request?claimant={lee}",
            "/ig/claimants/{lee}/subject-access-request.zip"]
CSV_HEADER = ("index,occurred_at,type,decision,org,role,actor,actor_name,purpose,subject_id,"
              "categories,reasons,consent_id,protocol,override_id,request_id,id")


def sign_in_ig(client: FlaskClient, rt: Runtime, clock: Clock, purpose: str = "audit") -> None:
    secret = enrol_second_factor(rt)
    resp = sign_in(client, IG, purpose, code=pyotp.TOTP(secret).at(clock.now))
    assert resp.headers["Location"] == "/purpose"


@pytest.mark.parametrize("who,purpose", [(COACH, "case_management"),
                                         (HOUSING, "tenancy_sustainment"),
                                         (KEY_WORKER, "recovery_support"),
                                         (ADVISER, "budgeting_support")])
def test_front_line_staff_get_403_on_every_ig_page(client: FlaskClient, rt: Runtime,
                                                   demo: Demo, who: str, purpose: str) -> None:
    sign_in(client, who, purpose)
    for path in IG_PAGES:
        resp = client.get(path.format(lee=demo.lee))
        assert resp.status_code == 403, path
        assert "You cannot do this" in resp.get_data(as_text=True)
        assert resp.content_type.startswith("text/html")  # never a download
    override = f"/ig/overrides/{demo.lee}"  # any id: refused before it is looked up
    assert client.get(override).status_code == 403
    review = client.post(override, data={"outcome": "justified", "note": "Looks fine to me.",
                                         "csrf_token": token(client, "/")})
    assert review.status_code == 403
    denied = events(rt, type="access:scope:deny")
    assert len(denied) == len(IG_PAGES) + 2
    assert all(e.decision == "deny" and e.reasons == ["insufficient_scope"] for e in denied)
    assert events(rt, type="audit:events:query") == []


def test_ig_pages_need_sign_in(client: FlaskClient, demo: Demo) -> None:
    for path in IG_PAGES:
        resp = client.get(path.format(lee=demo.lee))
        assert resp.status_code == 302 and resp.headers["Location"].startswith("/sign-in")


def test_ig_officer_under_another_purpose_is_refused_the_log(client: FlaskClient, rt: Runtime,
                                                             clock: Clock, demo: Demo) -> None:
    sign_in_ig(client, rt, clock, purpose="subject_access")
    resp = client.get("/ig/audit?searched=1")
    assert resp.status_code == 403
    [denied] = events(rt, type="access:audit:deny")
    assert denied.reasons == ["role_not_granted"] and denied.purpose == "subject_access"


def test_dashboard_counts_charts_and_integrity(client: FlaskClient, rt: Runtime, clock: Clock,
                                               demo: Demo, auth: Any) -> None:
    override_id = break_glass(client, auth, demo.lee)
    # Kerry is not in the housing officer's case: a denied read for the chart.
    assert client.get(f"/api/v1/subjects/{demo.kerry}/case-plan?purpose=tenancy_sustainment",
                      headers=auth(HOUSING)).status_code == 404
    sign_in_ig(client, rt, clock)
    page = client.get("/ig").get_data(as_text=True)
    assert "Information governance dashboard" in page
    assert re.search(r'data-testid="pending-count">1<', page)
    assert f"/ig/overrides/{override_id}" in page
    assert 'data-testid="volume-chart"' in page and 'data-testid="denials-chart"' in page
    assert '<svg class="cs-chart"' in page and "<script" not in page.split("</head>")[1]
    denials = re.search(r'data-testid="denials-table">(.*?)</table>', page, re.S)
    assert denials is not None
    housing = re.search(r"Derby City Council Housing Options</th>\s*<td[^>]*>(\d+)<",
                        denials.group(1))
    assert housing is not None and int(housing.group(1)) >= 1
    assert "No checkpoint has been signed yet" in page
    assert "Not run yet" in page  # says plainly that the whole log has not been verified
    [summary] = events(rt, type="audit:summary:read")
    assert summary.org == "derby-housing" and summary.details["days"] == 14
    clock.advance(hours=73)  # past the 72-hour review deadline (and the session's life)
    assert client.get("/ig").headers["Location"].startswith("/sign-in")
    sign_in_ig(client, rt, clock)
    page = client.get("/ig").get_data(as_text=True)
    assert re.search(r'data-testid="overdue-count">1 overdue<', page)
    queue = client.get("/ig/overrides").get_data(as_text=True)
    assert 'data-overdue="true"' in queue and "Overdue</strong>" in queue


def test_dashboard_shows_the_signed_checkpoint(client: FlaskClient, rt: Runtime, clock: Clock,
                                               demo: Demo) -> None:
    from caseshare.audit import checkpoints

    with rt.session_factory() as s:
        checkpoint = checkpoints.seal(s, rt.audit_signer, rt.now())
        assert checkpoint is not None
        size = checkpoint.tree_size
    sign_in_ig(client, rt, clock)
    page = client.get("/ig").get_data(as_text=True)
    assert re.search(rf'data-testid="tree-size">{size}<', page)
    assert f"{size} events, signed 23 November 2026" in page
    assert "Valid</strong> checked now" in page


def search(client: FlaskClient, **args: str) -> Any:
    return client.get("/ig/audit", query_string={"searched": "1", **args})


def test_audit_search_filters(client: FlaskClient, rt: Runtime, clock: Clock, demo: Demo,
                              auth: Any) -> None:
    client.get(f"/api/v1/subjects/{demo.kerry}/case-plan?purpose=tenancy_sustainment",
               headers=auth(HOUSING))  # denied: not in Kerry's case
    sign_in_ig(client, rt, clock)
    by_subject = search(client, subject=str(demo.kerry), decision="deny")
    assert by_subject.status_code == 200
    text = by_subject.get_data(as_text=True)
    expected = events(rt, subject_id=demo.kerry, decision="deny")
    assert expected and text.count('data-testid="event-row"') == len(expected)
    assert "access:subject:deny" in text and "Allowed</strong>" not in text
    by_staff = search(client, actor=HOUSING, type="access:subject:deny")
    assert by_staff.get_data(as_text=True).count('data-testid="event-row"') == 1
    assert "Priya Sharma" in by_staff.get_data(as_text=True)
    by_org = search(client, org="jcp-derby", event_purpose="case_management", limit="200")
    rows = by_org.get_data(as_text=True).count('data-testid="event-row"')
    # JCP's events under the protocol Derby Housing is party to (not the treatment protocol).
    assert rows == len([e for e in events(rt, org="jcp-derby", purpose="case_management")
                        if e.protocol == "derby-local-support@1"])
    future = search(client, **{"from-day": "1", "from-month": "1", "from-year": "2027"})
    assert 'data-testid="no-results"' in future.get_data(as_text=True)
    queries = events(rt, type="audit:events:query")
    assert len(queries) == 4
    assert queries[0].details["filters"] == {"subject_id": str(demo.kerry), "decision": "deny"}
    assert HOUSING not in str(queries[1].details)  # the staff member is recorded by id


def test_audit_search_errors_keep_what_was_typed(client: FlaskClient, rt: Runtime,
                                                 clock: Clock, demo: Demo) -> None:
    sign_in_ig(client, rt, clock)
    resp = search(client, subject="not-a-reference", actor="nobody@example.org",
                  type="DROP TABLE", org="elsewhere",
                  **{"from-day": "31", "from-month": "2", "from-year": "2026",
                     "to-day": "1", "to-month": "1", "to-year": "2026"})
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert "There is a problem" in page
    for field in ("subject", "org", "type", "from-day"):
        assert f'href="#{field}"' in page
    assert 'value="not-a-reference"' in page and 'value="DROP TABLE"' in page
    assert 'value="nobody@example.org"' in page
    assert events(rt, type="audit:events:query") == []  # nothing searched
    unknown = search(client, actor="nobody@example.org")
    assert unknown.status_code == 422 and 'href="#actor"' in unknown.get_data(as_text=True)
    order = search(client, **{"from-day": "2", "from-month": "1", "from-year": "2026",
                              "to-day": "1", "to-month": "1", "to-year": "2026"})
    assert "Date to must be the same as or after date from" in order.get_data(as_text=True)


def test_audit_search_pages_with_a_cursor(client: FlaskClient, rt: Runtime, clock: Clock,
                                          demo: Demo, auth: Any) -> None:
    for _ in range(15):  # enough events for two pages
        client.get(f"/api/v1/subjects/{demo.lee}/case-plan?purpose=tenancy_sustainment",
                   headers=auth(HOUSING))
    sign_in_ig(client, rt, clock)
    first = search(client, limit="20").get_data(as_text=True)
    assert first.count('data-testid="event-row"') == 20
    match = re.search(r'href="(/ig/audit\?[^"]*cursor=[^"]+)" rel="next"', first)
    assert match is not None
    second = client.get(match.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert second.count('data-testid="event-row"') >= 1
    assert "First page" in second
    assert [e.details["page"] for e in events(rt, type="audit:events:query")] == [False, True]


def test_downloads_match_the_search_and_stay_within_reach(client: FlaskClient, rt: Runtime,
                                                          clock: Clock, demo: Demo) -> None:
    from caseshare.audit import service as audit

    with rt.session_factory() as s:  # an organisation in no agreement with Derby Housing
        audit.record(s, type="case_plan:plan:read", now=rt.now(), decision="allow",
                     subject_id=demo.lee, details={"org_hint": "outsider"})
        s.commit()
    sign_in_ig(client, rt, clock)
    args = {"searched": "1", "limit": "200"}
    csv_resp = client.get("/ig/audit.csv", query_string=args)
    assert csv_resp.status_code == 200
    assert csv_resp.content_type == "text/csv; charset=utf-8"
    assert csv_resp.headers["Content-Disposition"] == 'attachment; filename="audit-events.csv"'
    assert csv_resp.headers["Cache-Control"] == "no-store"
    body = csv_resp.get_data(as_text=True)
    assert body.splitlines()[0] == CSV_HEADER
    rows = list(csv.DictReader(io.StringIO(body)))
    # Derby Housing's agreements (derby-local-support) do not include the Recovery
    # Partnership: its events exist, but never reach this IG officer.
    assert events(rt, org="recovery-partnership")
    reach = {"jcp-derby", "derby-housing", "ca-derby"}
    assert rows and {r["org"] for r in rows} <= reach
    assert "outsider" not in body
    json_resp = client.get("/ig/audit.json", query_string=args)
    assert json_resp.content_type == "application/json"
    data = json.loads(json_resp.get_data(as_text=True))
    assert {i["org"] for i in data["items"]} <= reach
    assert [i["id"] for i in data["items"]][:len(rows)] == [r["id"] for r in rows]
    no_search = client.get("/ig/audit.csv")
    assert no_search.status_code == 422 and no_search.content_type.startswith("text/html")
    assert [e.details["returned"] for e in events(rt, type="audit:events:query")][:1] == [
        len(rows)]


def test_subject_access_report_and_downloads(client: FlaskClient, rt: Runtime, clock: Clock,
                                             demo: Demo, auth: Any) -> None:
    client.get(f"/api/v1/subjects/{demo.lee}/case-plan?purpose=tenancy_sustainment",
               headers=auth(HOUSING))
    sign_in_ig(client, rt, clock)
    found = client.get("/ig/access-report", query_string={"claimant": "QQ 12 34 56 C"})
    assert found.headers["Location"] == f"/ig/claimants/{demo.lee}/access-report"
    bad = client.get("/ig/access-report", query_string={"claimant": "someone"})
    assert bad.status_code == 422 and 'href="#claimant"' in bad.get_data(as_text=True)
    page = client.get(f"/ig/claimants/{demo.lee}/access-report").get_data(as_text=True)
    assert "Derby City Council Housing Options" in page and "Priya Sharma" in page
    csv_resp = client.get(f"/ig/claimants/{demo.lee}/access-report.csv")
    assert csv_resp.content_type == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(csv_resp.get_data(as_text=True))))
    assert rows and {r["subject_id"] for r in rows} == {str(demo.lee)}
    assert events(rt, org="recovery-partnership", subject_id=demo.lee)  # outside the reach
    assert {r["org"] for r in rows} <= {"jcp-derby", "derby-housing", "ca-derby"}
    assert {r["decision"] for r in rows} <= {"allow", "deny"}
    json_resp = client.get(f"/ig/claimants/{demo.lee}/access-report.json")
    data = json.loads(json_resp.get_data(as_text=True))
    assert data["subject_id"] == str(demo.lee)
    # Producing the CSV was itself an access to the claimant's record: the next report has it.
    assert len(data["items"]) == len(rows) + 1
    assert data["items"][-1]["type"] == "audit:report:access"
    reports = events(rt, type="audit:report:access")
    assert len(reports) == 3 and all(e.subject_id == demo.lee for e in reports)
    assert client.get(f"/ig/claimants/{demo.lee}/access-report.csv?x=1").status_code == 200


def test_override_review_errors_then_recorded_once(client: FlaskClient, rt: Runtime,
                                                   clock: Clock, demo: Demo,
                                                   auth: Any) -> None:
    override_id = break_glass(client, auth, demo.lee)
    sign_in_ig(client, rt, clock)
    queue = client.get("/ig/overrides").get_data(as_text=True)
    assert f"/ig/overrides/{override_id}" in queue and JUSTIFICATION not in queue
    detail = client.get(f"/ig/overrides/{override_id}").get_data(as_text=True)
    assert "welfare visit" in detail
    [opened] = events(rt, type="access:override:read")
    assert str(opened.override_id) == override_id and "welfare" not in str(opened.details)
    path = f"/ig/overrides/{override_id}"
    bad = client.post(path, data={"note": "Too short", "csrf_token": token(client, path)})
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert 'href="#outcome"' in text and 'href="#note"' in text and "Too short" in text
    assert events(rt, type="access:override:review") == []
    no_csrf = client.post(path, data={"outcome": "justified", "note": "Proportionate visit."})
    assert no_csrf.status_code == 400
    ok = client.post(path, data={"outcome": "not_justified",
                                 "note": "Police welfare check was the right route.",
                                 "csrf_token": token(client, path)})
    assert ok.headers["Location"] == "/ig/overrides"
    assert "Review recorded: not justified." in client.get("/ig/overrides").get_data(
        as_text=True)
    [reviewed] = events(rt, type="access:override:review")
    # Not justified opens an incident in the same unit of work; the event names it.
    assert {k: v for k, v in reviewed.details.items() if k != "incident_id"} == \
        {"outcome": "not_justified", "overdue": False}
    assert reviewed.details["incident_id"]
    again = client.post(path, data={"outcome": "justified", "note": "Changed my mind here.",
                                    "csrf_token": token(client, path)})
    assert again.status_code == 409
    assert 'data-testid="outcome"' in client.get(path).get_data(as_text=True)


def test_ig_officer_sees_emergency_access_on_the_next_page_until_opening_it(
        client: FlaskClient, rt: Runtime, clock: Clock, demo: Demo, auth: Any) -> None:
    """Issue 18: an override notifies the IG officers of the lead and the requesting
    organisation at once; the banner on their pages links to the review."""
    override_id = break_glass(client, auth, demo.lee)
    sign_in_ig(client, rt, clock)
    page = client.get("/ig/audit").get_data(as_text=True)
    banner = page[page.index('data-testid="override-notices"'):]
    banner = banner[:banner.index("</ul>")]
    assert "govuk-notification-banner" in page and "Emergency access was granted" in banner
    assert f'href="/ig/overrides/{override_id}"' in banner
    assert "Break-glass access for Derby City Council Housing Options" in banner
    assert "(work search and employment)" in banner
    assert JUSTIFICATION not in page and "Lee" not in banner  # codes and ids only
    assert "Emergency access was granted" in client.get("/ig").get_data(as_text=True)

    detail = client.get(f"/ig/overrides/{override_id}")
    assert detail.status_code == 200
    [opened] = events(rt, type="access:override:read")
    assert str(opened.override_id) == override_id
    assert len(opened.details["notifications_read"]) == 1
    assert "Emergency access was granted" not in client.get("/ig").get_data(as_text=True)


def test_nobody_reviews_their_own_override(client: FlaskClient, rt: Runtime, clock: Clock,
                                           demo: Demo, auth: Any) -> None:
    """A housing officer who is also an IG officer breaks glass: no review form for them, and
    the use case refuses a review posted anyway."""
    from caseshare.identity import service as identity

    with rt.session_factory() as s:
        identity.add_or_update_staff(s, protocols=rt.protocols, email=IG, name="Grace Hughes",
                                     org="derby-housing",
                                     roles=["ig_officer", "housing_officer"], now=rt.now())
        s.commit()
    r = client.get(f"/api/v1/subjects/{demo.lee}/consents?purpose=case_management",
                   headers=auth(COACH))
    client.post(f"/api/v1/consents/{r.json['items'][0]['id']}/withdrawal"
                "?purpose=case_management", json={"channel": "phone"}, headers=auth(COACH))
    own = client.post(f"/api/v1/subjects/{demo.lee}/overrides?purpose=tenancy_sustainment",
                      json={"route": "safeguarding", "justification": JUSTIFICATION,
                            "categories": ["employment"], "hours": 4}, headers=auth(IG))
    assert own.status_code == 201, own.json
    sign_in_ig(client, rt, clock)
    path = f"/ig/overrides/{own.json['id']}"
    page = client.get(path).get_data(as_text=True)
    assert 'data-testid="own-override"' in page and 'name="outcome"' not in page
    resp = client.post(path, data={"outcome": "justified", "note": "I was right to do it.",
                                   "csrf_token": token(client, path)})
    assert resp.status_code == 403
    assert "Nobody reviews their own override." in resp.get_data(as_text=True)
    [refused] = events(rt, type="access:override:review")
    assert refused.decision == "deny" and refused.details == {"refused": "own_override"}
    assert str(refused.override_id) == own.json["id"]
    with rt.session_factory() as s:
        assert s.get(OverrideRecord, uuid.UUID(own.json["id"])).status == "pending_review"


def test_csv_cells_never_start_a_formula(client: FlaskClient, rt: Runtime, clock: Clock,
                                         demo: Demo, auth: Any) -> None:
    from caseshare.identity import service as identity

    with rt.session_factory() as s:  # a staff name a spreadsheet would run as a formula
        identity.add_or_update_staff(s, protocols=rt.protocols, email=HOUSING,
                                     name="=HYPERLINK(\"http://x.example\")",
                                     org="derby-housing", roles=["housing_officer"],
                                     now=rt.now())
        s.commit()
    client.get(f"/api/v1/subjects/{demo.lee}/case-plan?purpose=tenancy_sustainment",
               headers=auth(HOUSING))
    sign_in_ig(client, rt, clock)
    body = client.get("/ig/audit.csv", query_string={"searched": "1", "actor": HOUSING,
                                                     "type": "case_plan:plan:read"})
    rows = list(csv.DictReader(io.StringIO(body.get_data(as_text=True))))
    assert rows and all(r["actor_name"] == "'=HYPERLINK(\"http://x.example\")" for r in rows)


def test_dashboard_shows_the_last_full_verification(app: Any, client: FlaskClient, rt: Runtime,
                                                    clock: Clock, demo: Demo) -> None:
    runner = app.test_cli_runner()
    assert runner.invoke(args=["caseshare", "audit", "seal"]).exit_code == 0
    verified = runner.invoke(args=["caseshare", "audit", "verify"])
    assert verified.exit_code == 0, verified.output
    [outcome] = events(rt, type="audit:log:verify")
    assert outcome.decision == "allow" and outcome.details["ok"] is True
    sign_in_ig(client, rt, clock)
    integrity = client.get("/ig").get_data(as_text=True).split('data-testid="integrity"')[1]
    assert "Passed" in integrity and "Failed" not in integrity
    assert f"{outcome.details['events']} events" in integrity


def test_dashboard_shows_a_failed_verification_with_its_problem(client: FlaskClient,
                                                                rt: Runtime, clock: Clock,
                                                                demo: Demo) -> None:
    from caseshare.audit import service as audit

    with rt.session_factory() as s:  # what `audit verify` records when it finds an edit
        audit.record(s, type="audit:log:verify", now=clock.now, decision="deny",
                     details={"ok": False, "events": 12, "checkpoints": 1, "witnessed": 0,
                              "problem": "event 7: <leaf hash differs>"})
        s.commit()
    sign_in_ig(client, rt, clock)
    integrity = client.get("/ig").get_data(as_text=True).split('data-testid="integrity"')[1]
    assert "Failed" in integrity and "Passed" not in integrity
    assert "event 7: &lt;leaf hash differs&gt;" in integrity  # shown, and escaped
