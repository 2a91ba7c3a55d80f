"""Writing the case plan: precise problems for bad input, optimistic concurrency, history."""

from __future__ import annotations

import uuid
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from caseshare.case_plan.models import PlanEntry, PlanEntryVersion
from caseshare.runtime import Runtime
from tests.audit_helpers import events
from tests.builders import assert_problem
from tests.conftest import COACH, HOUSING, KEY_WORKER, Demo

ENTRIES = "/api/v1/subjects/{}/case-plan/entries?purpose={}"
ENTRY = "/api/v1/subjects/{}/case-plan/entries/{}?purpose={}"
HISTORY = "/api/v1/subjects/{}/case-plan/entries/{}/history?purpose={}"


def _entries(rt: Runtime, subject: uuid.UUID) -> list[PlanEntry]:
    with rt.session_factory() as s:
        return list(s.scalars(select(PlanEntry).where(PlanEntry.subject_id == subject)))


def _entry(client: FlaskClient, headers: dict[str, str], subject: uuid.UUID,
           **values: Any) -> Any:
    body = {"kind": "action", "category": "employment", "title": "Book a CV workshop",
            **values}
    r = client.post(ENTRIES.format(subject, "case_management"), headers=headers, json=body)
    assert r.status_code == 201, r.json
    return r


def test_unknown_category_is_422_naming_category(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    before = len(_entries(rt, demo.lee))
    r = client.post(ENTRIES.format(demo.lee, "case_management"), headers=auth(COACH),
                    json={"kind": "action", "category": "astrology", "title": "Read stars"})
    body = assert_problem(r, 422)
    assert list(body["errors"]) == ["category"]
    assert "astrology" in body["errors"]["category"][0]
    assert len(_entries(rt, demo.lee)) == before


def test_category_the_partner_may_not_write_is_403_with_reasons_and_audited(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    r = client.post(ENTRIES.format(demo.lee, "tenancy_sustainment"), headers=auth(HOUSING),
                    json={"kind": "note", "category": "substance_misuse", "title": "Relapse"})
    body = assert_problem(r, 403)
    assert body["reasons"] == ["category_not_in_protocol"]
    [event] = [e for e in events(rt, type="access:write:deny", subject_id=demo.lee)]
    assert str(event.event_uuid) == body["audit_id"]
    assert event.categories == ["substance_misuse"] and event.org == "derby-housing"

    # A work coach holds a grant to read tenancy data, not to write it.
    r = client.post(ENTRIES.format(demo.lee, "case_management"), headers=auth(COACH),
                    json={"kind": "note", "category": "housing_tenancy", "title": "Arrears"})
    assert assert_problem(r, 403)["reasons"] == ["role_not_granted"]


def test_oversized_text_invalid_dates_and_unknown_fields_are_422_naming_the_field(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    coach = auth(COACH)
    url = ENTRIES.format(demo.lee, "case_management")
    good = {"kind": "action", "category": "employment", "title": "Book a CV workshop"}
    cases = [
        ({"title": "x" * 201}, "title"),
        ({"title": ""}, "title"),
        ({"detail": "x" * 4001}, "detail"),
        ({"owner_name": "x" * 201}, "owner_name"),
        ({"due_on": "2026-02-30"}, "due_on"),
        ({"due_on": "30/11/2026"}, "due_on"),
        ({"due_on": "1899-12-31"}, "due_on"),
        ({"kind": "wish"}, "kind"),
        ({"status": "maybe"}, "status"),
        ({"owner_org": "ca-derby"}, "owner_org"),  # not involved in this case
        ({"service": "crystal_healing"}, "service"),
        ({"outcome": "x" * 2001}, "outcome"),
        ({"secret": "1"}, "secret"),
    ]
    before = len(_entries(rt, demo.lee))
    for change, field in cases:
        body = assert_problem(client.post(url, headers=coach, json={**good, **change}), 422)
        assert field in body["errors"], (change, body)
    assert len(_entries(rt, demo.lee)) == before  # no partial state

    # Bad input inside a new plan names the entry it is in.
    r = client.post(f"/api/v1/subjects/{demo.kerry}/case-plan?purpose=case_management",
                    headers=coach, json={"entries": [{**good, "due_on": "2026-13-01"}]})
    assert "entries.0.due_on" in assert_problem(r, 422)["errors"]


def test_if_match_missing_is_428_and_stale_is_412(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    coach = auth(COACH)
    created = _entry(client, coach, demo.lee)
    url = ENTRY.format(demo.lee, created.json["id"], "case_management")
    assert_problem(client.patch(url, headers=coach, json={"status": "done"}), 428)

    etag = created.headers["ETag"]
    first = client.patch(url, headers={**coach, "If-Match": etag}, json={"status": "done"})
    assert first.status_code == 200, first.json
    assert first.headers["ETag"] != etag
    # A second agency that read the same version does not overwrite silently.
    stale = client.patch(url, headers={**auth(COACH), "If-Match": etag},
                         json={"title": "Something else"})
    assert_problem(stale, 412)
    [row] = [e for e in _entries(rt, demo.lee) if str(e.id) == created.json["id"]]
    assert row.version == 2 and row.status == "done"

    empty = client.patch(url, headers={**coach, "If-Match": first.headers["ETag"]}, json={})
    assert "body" in assert_problem(empty, 422)["errors"]
    bad_date = client.patch(url, headers={**coach, "If-Match": first.headers["ETag"]},
                            json={"due_on": "2026-11-31"})
    assert "due_on" in assert_problem(bad_date, 422)["errors"]


def test_history_keeps_who_when_why_and_the_previous_values(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    coach = auth(COACH)
    created = _entry(client, coach, demo.lee, detail="Tuesday session")
    entry_id = created.json["id"]
    url = ENTRY.format(demo.lee, entry_id, "case_management")
    r = client.patch(url, headers={**coach, "If-Match": created.headers["ETag"]},
                     json={"title": "Book a CV and interview workshop", "status": "in_progress"})
    assert r.status_code == 200

    h = client.get(HISTORY.format(demo.lee, entry_id, "case_management"), headers=coach)
    assert h.status_code == 200, h.json
    latest, first = h.json["items"]
    assert (latest["version"], first["version"]) == (2, 1)
    assert first["title"] == "Book a CV workshop" and first["action"] == "create"
    assert latest["title"] == "Book a CV and interview workshop"
    assert latest["changed_fields"] == ["status", "title"]
    assert latest["changed_org"] == "jcp-derby" and latest["purpose"] == "case_management"
    assert latest["changed_by"] and latest["changed_at"] == "2026-11-23T09:30:00Z"
    assert latest["detail"] == "Tuesday session"
    [event] = events(rt, type="case_plan:entry:history", subject_id=demo.lee)
    assert event.decision == "allow" and event.details["versions"] == [2, 1]

    # At rest the previous values stay sealed.
    with rt.session_factory() as s:
        rows = s.scalars(select(PlanEntryVersion)
                         .where(PlanEntryVersion.entry_id == uuid.UUID(entry_id))).all()
        assert len(rows) == 2 and all(b"workshop" not in v.title for v in rows)


def test_history_of_an_entry_the_caller_may_not_read_does_not_exist_for_them(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    [treatment] = [e for e in _entries(rt, demo.lee) if e.category == "substance_misuse"]
    r = client.get(HISTORY.format(demo.lee, treatment.id, "tenancy_sustainment"),
                   headers=auth(HOUSING))
    body = assert_problem(r, 404)
    [event] = events(rt, type="case_plan:entry:history", subject_id=demo.lee)
    assert event.decision == "deny" and body["audit_id"] == str(event.event_uuid)
    assert "recovery" not in r.get_data(as_text=True)
    # The treatment provider wrote it and reads its history.
    mine = client.get(HISTORY.format(demo.lee, treatment.id, "case_management"),
                      headers=auth(KEY_WORKER))
    assert mine.status_code == 200
    assert mine.json["items"][0]["title"] == "Attend weekly alcohol recovery group"


def test_an_action_records_its_lssf_service_and_a_sealed_outcome(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    coach = auth(COACH)
    created = _entry(client, coach, demo.lee, title="Help to make the claim online",
                     service="assisted_digital")
    assert created.json["service"] == "assisted_digital" and created.json["outcome"] is None
    url = ENTRY.format(demo.lee, created.json["id"], "case_management")
    done = client.patch(url, headers={**coach, "If-Match": created.headers["ETag"]},
                        json={"status": "done", "outcome": "Claim made online with help"})
    assert done.status_code == 200, done.json
    assert done.json["outcome"] == "Claim made online with help"
    history = client.get(HISTORY.format(demo.lee, created.json["id"], "case_management"),
                         headers=coach).json["items"]
    assert [(v["status"], v["outcome"]) for v in history] == [
        ("done", "Claim made online with help"), ("open", None)]
    with rt.session_factory() as s:
        row = s.get(PlanEntry, uuid.UUID(created.json["id"]))
        assert row is not None and row.outcome is not None
        assert row.outcome.startswith(b"cs1:dk1:") and b"online" not in row.outcome
