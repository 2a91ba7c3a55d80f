"""Provenance of a case plan entry's words (issue 18): every piece of text is shared under the
flows of the organisation that wrote it. Only the entry's author organisation changes its words;
another case organisation changes only its codes, and the history never shows a reader a
version, or a field of a version, from an organisation with no flow to them.

The shipped protocols let the council write no category the Jobcentre shares with the treatment
provider, so these tests add one to the Derby protocol: the council may record `employment`
(a flow from the council to the Jobcentre), which the Jobcentre shares with the treatment
provider under recovery-jcp, and the Jobcentre reads it from the council. The council has no
flow at all to the treatment provider.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from caseshare import create_app
from caseshare.case_plan import service as plans
from caseshare.case_plan.models import PlanEntry, PlanEntryVersion
from caseshare.facts import Principal
from caseshare.identity import service as identity
from caseshare.runtime import Runtime
from caseshare.subjects.models import Subject
from caseshare.subjects.service import data_key
from tests.audit_helpers import events
from tests.builders import assert_problem
from tests.conftest import COACH, HOUSING, KEY_WORKER, ROOT, Clock, Demo, _database_url

ENTRIES = "/api/v1/subjects/{}/case-plan/entries?purpose={}"
ENTRY = "/api/v1/subjects/{}/case-plan/entries/{}?purpose={}"
HISTORY = "/api/v1/subjects/{}/case-plan/entries/{}/history?purpose={}"
PLAN = "/api/v1/subjects/{}/case-plan?purpose={}"

JCP_WORDS = "Attends the Monday CV class; wants warehouse work"
COUNCIL_WORDS = "Council: possession hearing on 3 December, arrears 2,140 pounds"

GRANT = "write: [identity, contact, housing_tenancy]}"
COACH_GRANT = "read: [identity, contact, housing_tenancy, finances], write: [identity, contact]}"
FLOW = "grants:\n"
HOUSING_TO_WORK = (
    "  - {id: housing-to-work, from: [derby-housing], to: [jcp-derby],\n"
    "     purposes: [case_management, tenancy_sustainment], categories: [employment],\n"
    "     consent: consent, max_consent_days: 365, direction: one_way}\n"
)


@pytest.fixture
def app(engine: str, templates: dict[str, Any], tmp_path: Path,
        clock: Clock) -> Iterator[Flask]:
    app = council_writes_employment(engine, templates, tmp_path, clock)
    yield app
    app.extensions["caseshare"].engine.dispose()


def council_writes_employment(engine: str, templates: dict[str, Any], tmp_path: Path,
                              clock: Clock) -> Flask:
    """The app on the shipped protocols, with the council also writing `employment` to the
    Jobcentre (which may read it)."""
    policies = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", policies)
    derby = policies / "derby-local-support.v1.yaml"
    text = derby.read_text()
    assert text.count(GRANT) == 1 and text.count(COACH_GRANT) == 1 and text.count(FLOW) == 1
    text = text.replace(GRANT, "write: [identity, contact, housing_tenancy, employment]}")
    text = text.replace(COACH_GRANT, COACH_GRANT.replace("finances]", "finances, employment]"))
    derby.write_text(text.replace(FLOW, HOUSING_TO_WORK + FLOW))
    app = create_app({"instance_path": tmp_path / "instance", "policies_dir": policies,
                      "database_url": _database_url(engine, templates, tmp_path),
                      "clock": clock, "ratelimit_default": "100000 per minute"})
    app.config["TESTING"] = True
    return app


def _jcp_entry(client: FlaskClient, auth: Any, demo: Demo) -> tuple[str, str]:
    r = client.post(ENTRIES.format(demo.lee, "case_management"), headers=auth(COACH),
                    json={"kind": "action", "category": "employment",
                          "title": "Apply for warehouse jobs", "detail": JCP_WORDS})
    assert r.status_code == 201, r.json
    return r.json["id"], r.headers["ETag"]


def _council_etag(client: FlaskClient, auth: Any, demo: Demo, entry_id: str) -> str:
    """The council reads the plan (it may: the Jobcentre shares employment with it)."""
    r = client.get(PLAN.format(demo.lee, "tenancy_sustainment"), headers=auth(HOUSING))
    assert r.status_code == 200
    [item] = [e for e in r.json["entries"] if e["id"] == entry_id]
    assert item["detail"] == JCP_WORDS
    return str(r.headers["ETag"])


def _versions(rt: Runtime, entry_id: str) -> list[PlanEntryVersion]:
    with rt.session_factory() as s:
        return list(s.scalars(select(PlanEntryVersion)
                              .where(PlanEntryVersion.entry_id == uuid.UUID(entry_id))
                              .order_by(PlanEntryVersion.version)))


def test_the_council_cannot_put_its_words_in_a_jobcentre_entry(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    entry_id, _etag = _jcp_entry(client, auth, demo)
    etag = _council_etag(client, auth, demo, entry_id)

    r = client.patch(ENTRY.format(demo.lee, entry_id, "tenancy_sustainment"),
                     headers={**auth(HOUSING), "If-Match": etag},
                     json={"detail": COUNCIL_WORDS, "status": "in_progress"})
    assert_problem(r, 403)
    body = r.json
    assert body["reasons"] == ["not_author_of_entry"]
    assert COUNCIL_WORDS not in r.get_data(as_text=True)
    [denied] = [e for e in events(rt, type="case_plan:entry:update", subject_id=demo.lee)
                if e.decision == "deny"]
    assert body["audit_id"] == str(denied.event_uuid)
    assert denied.org == "derby-housing" and denied.reasons == ["not_author_of_entry"]
    assert denied.categories == ["employment"]
    assert denied.details == {"entry_id": entry_id, "fields": ["detail"]}
    # Nothing was changed, not even the status sent with the words.
    assert [v.version for v in _versions(rt, entry_id)] == [1]
    with rt.session_factory() as s:
        row = s.get(PlanEntry, uuid.UUID(entry_id))
        assert row is not None and row.version == 1 and row.status == "open"

    # The treatment provider reads the Jobcentre's entry, in the plan and in its history, and
    # never the council's words.
    key_worker = auth(KEY_WORKER)
    plan = client.get(PLAN.format(demo.lee, "case_management"), headers=key_worker)
    assert plan.status_code == 200
    [item] = [e for e in plan.json["entries"] if e["id"] == entry_id]
    assert item["detail"] == JCP_WORDS
    assert "Council" not in plan.get_data(as_text=True)
    read = [e for e in events(rt, type="case_plan:plan:read", subject_id=demo.lee)
            if e.org == "recovery-partnership" and e.decision == "allow"]
    assert entry_id in read[-1].details["entries"]
    history = client.get(HISTORY.format(demo.lee, entry_id, "case_management"),
                         headers=key_worker)
    assert history.status_code == 200
    assert [v["detail"] for v in history.json["items"]] == [JCP_WORDS]
    assert "Council" not in history.get_data(as_text=True)


def test_another_organisation_changes_the_status_and_its_versions_stay_with_its_readers(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    entry_id, _etag = _jcp_entry(client, auth, demo)
    housing = auth(HOUSING)
    url = ENTRY.format(demo.lee, entry_id, "tenancy_sustainment")
    first = client.patch(url, headers={**housing, "If-Match": _council_etag(client, auth, demo,
                                                                            entry_id)},
                         json={"status": "in_progress", "due_on": "2026-12-18"})
    assert first.status_code == 200, first.json
    assert first.json["status"] == "in_progress" and first.json["detail"] == JCP_WORDS
    # Sending the words back unchanged (as a form does) is not a change to them.
    second = client.patch(url, headers={**housing, "If-Match": first.headers["ETag"]},
                          json={"status": "done", "title": "Apply for warehouse jobs",
                                "detail": JCP_WORDS})
    assert second.status_code == 200, second.json
    allowed = [e for e in events(rt, type="case_plan:entry:update", subject_id=demo.lee)
               if e.decision == "allow"]
    assert [(e.org, e.details["fields"]) for e in allowed] == [
        ("derby-housing", ["due_on", "status"]),
        ("derby-housing", ["status"])]
    versions = _versions(rt, entry_id)
    assert [(v.changed_org, v.changed_fields) for v in versions] == [
        ("jcp-derby", ["category", "detail", "kind", "title"]),
        ("derby-housing", ["due_on", "status"]),
        ("derby-housing", ["status"])]
    # The text stays the Jobcentre's ciphertext, byte for byte.
    assert len({v.detail for v in versions}) == 1 and len({v.title for v in versions}) == 1

    # The treatment provider sees the status (a code on the Jobcentre's entry) but none of the
    # council's versions: who changed it, when and why is the council's information.
    key_worker = auth(KEY_WORKER)
    plan = client.get(PLAN.format(demo.lee, "case_management"), headers=key_worker)
    [item] = [e for e in plan.json["entries"] if e["id"] == entry_id]
    assert (item["status"], item["detail"]) == ("done", JCP_WORDS)
    history = client.get(HISTORY.format(demo.lee, entry_id, "case_management"),
                         headers=key_worker)
    assert history.status_code == 200
    assert [(v["version"], v["changed_org"]) for v in history.json["items"]] == [
        (1, "jcp-derby")]
    assert "derby-housing" not in history.get_data(as_text=True)
    [seen] = [e for e in events(rt, type="case_plan:entry:history", subject_id=demo.lee)
              if e.org == "recovery-partnership"]
    assert seen.decision == "allow"
    assert seen.details["versions"] == [1] and seen.details["versions_withheld"] == [3, 2]

    # The Jobcentre has a flow from the council and sees every version.
    mine = client.get(HISTORY.format(demo.lee, entry_id, "case_management"),
                      headers=auth(COACH))
    assert [(v["version"], v["changed_org"], v["withheld_fields"])
            for v in mine.json["items"]] == [(3, "derby-housing", []),
                                             (2, "derby-housing", []), (1, "jcp-derby", [])]


def test_history_withholds_words_another_organisation_wrote_before_the_rule(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    """A database from before the rule can hold a council edit of a Jobcentre entry's detail;
    a later version by the Jobcentre copies those words. The treatment provider gets neither the
    council's version nor the council's words inside the Jobcentre's later version."""
    entry_id, _etag = _jcp_entry(client, auth, demo)
    with rt.session_factory() as s:
        entry = s.get(PlanEntry, uuid.UUID(entry_id))
        subject = s.get(Subject, demo.lee)
        assert entry is not None and subject is not None
        staff = identity.get_staff_by_email(s, HOUSING)
        council = Principal(str(staff.id), "staff", "derby-housing", frozenset(staff.roles))
        plans.update_entry(s, entry=entry, data_key=data_key(subject, rt.keyring),
                           principal=council, purpose="tenancy_sustainment",
                           changes={"detail": COUNCIL_WORDS}, now=rt.now())
        s.commit()
        etag = plans.entry_etag(entry)
    coach = auth(COACH)
    r = client.patch(ENTRY.format(demo.lee, entry_id, "case_management"),
                     headers={**coach, "If-Match": etag}, json={"status": "in_progress"})
    assert r.status_code == 200, r.json

    history = client.get(HISTORY.format(demo.lee, entry_id, "case_management"),
                         headers=auth(KEY_WORKER))
    assert history.status_code == 200
    assert [(v["version"], v["detail"], v["withheld_fields"])
            for v in history.json["items"]] == [(3, None, ["detail"]), (1, JCP_WORDS, [])]
    assert "Council" not in history.get_data(as_text=True)
    [seen] = [e for e in events(rt, type="case_plan:entry:history", subject_id=demo.lee)
              if e.org == "recovery-partnership"]
    assert seen.details["versions"] == [3, 1] and seen.details["versions_withheld"] == [2]
    # The Jobcentre (a flow from the council) reads every version whole.
    mine = client.get(HISTORY.format(demo.lee, entry_id, "case_management"), headers=coach)
    assert [v["detail"] for v in mine.json["items"]] == [COUNCIL_WORDS, COUNCIL_WORDS,
                                                         JCP_WORDS]


def test_the_author_still_changes_its_own_words(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    entry_id, etag = _jcp_entry(client, auth, demo)
    r = client.patch(ENTRY.format(demo.lee, entry_id, "case_management"),
                     headers={**auth(COACH), "If-Match": etag},
                     json={"detail": "Moved to the Thursday CV class"})
    assert r.status_code == 200, r.json
    assert r.json["detail"] == "Moved to the Thursday CV class"
    [event] = [e for e in events(rt, type="case_plan:entry:update", subject_id=demo.lee)]
    assert event.decision == "allow" and event.org == "jcp-derby"
    assert event.details["fields"] == ["detail"]
