"""The plan pages through the Flask client: they offer only what the decision allows, explain the
rest, say who will see an entry before it is saved, keep what was typed on a refusal, flag
overdue and due-soon actions, and start a plan; emergency access is offered only when a route
exists."""

from __future__ import annotations

import html
import re
import uuid
from datetime import date
from typing import Any

from flask.testing import FlaskClient

from caseshare.runtime import Runtime
from tests.audit_helpers import events
from tests.builders import register
from tests.conftest import COACH, HOUSING, KEY_WORKER, Demo
from tests.web.test_pages import sign_in, token

ENTRIES = "/api/v1/subjects/{}/case-plan/entries?purpose={}"


def _text(resp: Any) -> str:
    return html.unescape(resp.get_data(as_text=True))


def _options(page: str, name: str) -> list[str]:
    select = re.search(rf'<select[^>]*name="{name}".*?</select>', page, flags=re.S)
    assert select is not None, name
    return [v for v in re.findall(r'value="([^"]*)"', select.group(0)) if v]


def test_add_form_offers_the_decision_and_explains_the_rest(client: FlaskClient, demo: Demo,
                                                             rt: Runtime) -> None:
    sign_in(client, KEY_WORKER, "recovery_support")
    page = _text(client.get(f"/claimants/{demo.lee}/plan/entries/new"))
    # The key worker's grant writes identity, contact and treatment, nothing else.
    assert _options(page, "category") == ["contact", "identity", "substance_misuse"]
    assert 'data-testid="not-offered"' in page
    assert "Your role at Derby Recovery Partnership is not given access to work" in page
    # Treatment under recovery support is the provider's own record: only it will see it.
    audience = re.search(r'data-testid="audience-substance_misuse">(.*?)</li>', page, re.S)
    assert audience is not None
    assert "Only your organisation will see this" in audience.group(1)
    assert "shares drug and alcohol treatment onward" in audience.group(1)
    assert events(rt, type="access:decision:explain", subject_id=demo.lee)


def test_who_will_see_it_follows_the_flows_and_the_consent(client: FlaskClient,
                                                           demo: Demo) -> None:
    sign_in(client, KEY_WORKER, "case_management")
    page = _text(client.get(f"/claimants/{demo.lee}/plan/entries/new"))
    audience = re.search(r'data-testid="audience-substance_misuse">(.*?)</li>', page, re.S)
    assert audience is not None
    # Lee gave explicit consent to share treatment with the Jobcentre.
    assert "Derby Recovery Partnership and Derby Jobcentre Plus." in audience.group(1)
    # Once a category is chosen (here on a re-render with an error), only it is described.
    path = f"/claimants/{demo.lee}/plan/entries/new"
    again = _text(client.post(path, data={"csrf_token": token(client, path), "kind": "action",
                                          "category": "substance_misuse", "title": "",
                                          "owner_org": "recovery-partnership",
                                          "status": "open"}))
    assert again.count('data-testid="audience-') == 1


def test_a_refused_save_keeps_what_was_typed_and_says_why(client: FlaskClient, demo: Demo,
                                                          rt: Runtime) -> None:
    sign_in(client, KEY_WORKER, "recovery_support")
    path = f"/claimants/{demo.lee}/plan/entries/new"
    form = {"csrf_token": token(client, path), "kind": "note", "category": "employment",
            "title": "Talked about a volunteering role", "detail": "At the Bridge Street café",
            "outcome": "Keen to try", "service": "intermediary_support",
            "owner_org": "recovery-partnership", "status": "open", "due_on-day": "3",
            "due_on-month": "12", "due_on-year": "2026"}
    resp = client.post(path, data=form)
    page = _text(resp)
    assert resp.status_code == 403 and 'data-testid="refused"' in page
    assert "Your role at Derby Recovery Partnership is not given access to work" in page
    for typed in ("Talked about a volunteering role", "At the Bridge Street café",
                  "Keen to try"):
        assert typed in page
    assert re.search(r'<option value="intermediary_support" selected', page)
    assert 'value="3"' in page and 'value="2026"' in page
    assert events(rt, type="access:write:deny", subject_id=demo.lee)


def test_key_worker_records_and_updates_his_own_treatment_work(client: FlaskClient,
                                                               demo: Demo) -> None:
    sign_in(client, KEY_WORKER, "recovery_support")
    path = f"/claimants/{demo.lee}/plan/entries/new"
    added = client.post(path, data={
        "csrf_token": token(client, path), "kind": "action", "category": "substance_misuse",
        "title": "Relapse prevention plan", "owner_org": "recovery-partnership",
        "status": "open", "service": "intermediary_support", "outcome": "Plan agreed"})
    assert added.status_code == 302, _text(added)
    overview = _text(client.get(f"/claimants/{demo.lee}"))
    assert "Relapse prevention plan" in overview and "Outcome: Plan agreed" in overview
    entry = re.search(r'/plan/entries/([0-9a-f-]{36})">Change<span class="govuk-visually-hidden">'
                      r' Attend weekly alcohol recovery group', overview)
    assert entry is not None
    edit = f"/claimants/{demo.lee}/plan/entries/{entry.group(1)}"
    form = client.get(edit).get_data(as_text=True)
    version = re.search(r'name="version" value="([^"]+)"', form)
    assert version is not None and 'data-testid="history"' in form
    saved = client.post(edit, data={
        "csrf_token": token(client, edit), "version": html.unescape(version.group(1)),
        "kind": "action",
        "category": "substance_misuse", "title": "Attend weekly alcohol recovery group",
        "owner_org": "recovery-partnership", "status": "done", "outcome": "Finished the course"})
    assert saved.status_code == 302, _text(saved)
    history = _text(client.get(edit))
    assert re.search(r'data-label="Who">Derby Recovery Partnership \(recovery support', history)
    assert "Finished the course" in history


def test_change_links_only_where_the_user_may_change_the_entry(client: FlaskClient,
                                                               demo: Demo) -> None:
    sign_in(client, HOUSING, "tenancy_sustainment")
    overview = _text(client.get(f"/claimants/{demo.lee}"))
    # The work coach's CV action reaches housing to read, but housing may not write employment.
    assert "Update CV with work coach" in overview
    assert "Change<span class=\"govuk-visually-hidden\"> Update CV with work coach" not in overview
    assert "Change<span class=\"govuk-visually-hidden\"> Agree a rent arrears" in overview
    assert 'data-testid="no-change"' in overview


def test_overdue_and_due_this_week_flags_and_my_organisations_filter(
    client: FlaskClient, demo: Demo, auth: Any
) -> None:
    coach = auth(COACH)
    for title, due, status in (("Overdue job search review", date(2026, 11, 20), "open"),
                               ("Finished long ago", date(2026, 11, 1), "done"),
                               ("Appointment this week", date(2026, 11, 27), "in_progress")):
        r = client.post(ENTRIES.format(demo.lee, "case_management"), headers=coach,
                        json={"kind": "action", "category": "employment", "title": title,
                              "due_on": due.isoformat(), "status": status})
        assert r.status_code == 201, r.json
    sign_in(client, COACH)
    overview = _text(client.get(f"/claimants/{demo.lee}"))
    rows = {m.group(1): m.group(0) for m in re.finditer(
        r'<tr class="govuk-table__row" data-testid="entry">.*?>([^<]+)</span>.*?</tr>',
        overview, re.S)}
    assert 'data-testid="overdue"' in rows["Overdue job search review"]
    assert "govuk-tag" not in rows["Finished long ago"]
    assert 'data-testid="due-soon"' in rows["Appointment this week"]
    assert "1 overdue, 1 due in the next 7 days." in overview
    # The key worker's treatment action also reaches the work coach (explicit consent).
    assert "Attend weekly alcohol recovery group" in overview
    mine = _text(client.get(f"/claimants/{demo.lee}?mine=1"))
    assert "Overdue job search review" in mine
    assert "Attend weekly alcohol recovery group" not in mine
    assert "Show everyone" in mine


def test_start_the_plan_after_registering_the_claimant(client: FlaskClient, auth: Any,
                                                       demo: Demo, rt: Runtime) -> None:
    subject = register(client, auth(COACH))
    sign_in(client, COACH)
    overview = _text(client.get(f"/claimants/{subject}"))
    assert 'data-testid="start-plan"' in overview
    # Adding an action first leads to starting the plan, not to "does not work with".
    new = client.get(f"/claimants/{subject}/plan/entries/new")
    assert new.status_code == 302 and new.headers["Location"].endswith("/plan/start")
    path = f"/claimants/{subject}/plan/start"
    page = _text(client.get(path))
    assert "Your organisation, Derby Jobcentre Plus, becomes the lead organisation" in page
    bad = client.post(path, data={"csrf_token": token(client, path), "title": "",
                                  "category": "employment"})
    assert bad.status_code == 422 and 'value="employment" selected' in _text(bad)
    started = client.post(path, data={"csrf_token": token(client, path),
                                      "title": "Book a CV workshop", "category": "employment",
                                      "due_on-day": "", "due_on-month": "", "due_on-year": ""})
    assert started.status_code == 302
    assert events(rt, type="case_plan:plan:create", subject_id=uuid.UUID(subject))
    overview = _text(client.get(f"/claimants/{subject}"))
    assert "Book a CV workshop" in overview and 'data-testid="start-plan"' not in overview
    again = client.get(path)
    assert again.status_code == 409
    assert "Derby Jobcentre Plus leads it" in _text(again)


def test_emergency_access_offered_only_where_a_route_exists(client: FlaskClient,
                                                            demo: Demo) -> None:
    sign_in(client, COACH)
    overview = _text(client.get(f"/claimants/{demo.lee}"))
    assert 'data-testid="emergency-offered"' not in overview
    assert "do not allow your role to use emergency access for case management" in overview
    assert "/emergency-access" not in overview
    client.post("/sign-out", data={"csrf_token": token(client, "/")})
    sign_in(client, KEY_WORKER, "recovery_support")
    overview = _text(client.get(f"/claimants/{demo.lee}"))
    assert "do not allow emergency access for recovery support" in overview
    client.post("/sign-out", data={"csrf_token": token(client, "/")})
    sign_in(client, HOUSING, "tenancy_sustainment")
    assert 'data-testid="emergency-offered"' in _text(client.get(f"/claimants/{demo.lee}"))


def test_a_refused_emergency_request_keeps_what_was_typed(client: FlaskClient,
                                                          demo: Demo) -> None:
    sign_in(client, HOUSING, "tenancy_sustainment")
    path = f"/claimants/{demo.lee}/emergency-access"
    why = ("Safeguarding: Lee was found unwell at the property by the tenancy officer and is "
           "not answering; we need the latest work coach contact notes to find him.")
    form = {"csrf_token": token(client, path), "route": "safeguarding", "justification": why,
            "categories": "employment", "hours": "2", "understood": "yes"}
    assert client.post(path, data=form).status_code == 200
    again = client.post(path, data=form)
    page = _text(again)
    assert again.status_code == 409 and 'data-testid="refused"' in page
    assert why in page and 'value="2"' in page


def test_an_own_record_says_so_when_changed(client: FlaskClient, demo: Demo) -> None:
    sign_in(client, KEY_WORKER, "recovery_support")
    path = f"/claimants/{demo.lee}/plan/entries/new"
    client.post(path, data={"csrf_token": token(client, path), "kind": "note",
                            "category": "substance_misuse", "title": "Private note",
                            "owner_org": "recovery-partnership", "status": "open"})
    overview = _text(client.get(f"/claimants/{demo.lee}"))
    found = re.search(r'/plan/entries/([0-9a-f-]{36})">Change<span class="govuk-visually-hidden">'
                      r' Private note', overview)
    assert found is not None
    client.post("/sign-out", data={"csrf_token": token(client, "/")})
    # Under case management (where treatment is shared) it is still his organisation's alone.
    sign_in(client, KEY_WORKER, "case_management")
    form = _text(client.get(f"/claimants/{demo.lee}/plan/entries/{found.group(1)}"))
    audience = re.search(r'data-testid="audience-substance_misuse">(.*?)</li>', form, re.S)
    assert audience is not None and "Only your organisation will see this" in audience.group(1)
