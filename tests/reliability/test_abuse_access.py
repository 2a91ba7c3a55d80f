"""Abuse cases on the access path, on both engines through the Flask client (issue 10):

- an organisation's token used with another organisation's entry or consent ids;
- a purpose swapped mid-session (a token bound to one purpose, a web session's chosen purpose);
- a consent forged by a partner (collector or verification claimed by the client, or an
  unverified consent row) never unlocks a special category;
- mass enumeration of subject ids and NINOs: no existence oracle, every probe audited, 429 after
  the limit;
- oversized bodies on every kind of write: 413 problem+json, nothing written.

Every refusal is checked for its audit event (matched by X-Request-ID) and for carrying no case
data.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from caseshare import create_app
from caseshare.audit.models import AuditEvent
from caseshare.case_plan.models import PlanEntry
from caseshare.consent.models import Consent, ConsentWithdrawal
from caseshare.identity import service as identity
from caseshare.identity import tokens
from caseshare.runtime import Runtime
from tests.audit_helpers import count, events
from tests.builders import CONSENTS, PROBLEM, TREATMENT, assert_problem, consent_body
from tests.conftest import ADVISER, COACH, HOUSING, IG, KEY_WORKER, Clock, Demo, _database_url
from tests.web.test_pages import sign_in, token

PLAN = "/api/v1/subjects/{}/case-plan?purpose={}"
SECRET_TITLES = ("Attend weekly alcohol recovery group", "Agree a rent arrears repayment plan",
                 "Update CV with work coach", "Personal budgeting support: monthly budget")


def _refused(r: Any, status: int) -> dict[str, Any]:
    """A refusal: the status, a bare problem document, no case data anywhere in it."""
    body = assert_problem(r, status)
    text = r.get_data(as_text=True)
    assert not any(title in text for title in SECRET_TITLES), text
    assert "entries" not in body
    return body


def _denial_event(rt: Runtime, r: Any) -> AuditEvent:
    """The one deny event of this request, and it is the one the problem names."""
    mine = events(rt, request_id=r.headers["X-Request-ID"])
    assert [e.decision for e in mine] == ["deny"], [(e.type, e.decision) for e in mine]
    assert r.json["audit_id"] == str(mine[0].event_uuid)
    return mine[0]


def _entries(client: FlaskClient, auth: Any, who: str, subject: uuid.UUID,
             purpose: str) -> dict[str, dict[str, Any]]:
    r = client.get(PLAN.format(subject, purpose), headers=auth(who))
    assert r.status_code == 200
    return {e["title"]: e for e in r.json["entries"]}


# --- Organisation A's token with organisation B's ids --------------------------------------


def test_another_organisations_entry_id_is_404_audited_and_unchanged(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    lee = _entries(client, auth, COACH, demo.lee, "case_management")
    treatment = _entries(client, auth, KEY_WORKER, demo.lee, "recovery_support")[SECRET_TITLES[0]]
    target = lee["Update CV with work coach"]
    adviser = auth(ADVISER)  # Citizens Advice: works with Kerry, not with Lee
    housing = auth(HOUSING)  # in Lee's case, but may not read treatment entries
    probes = [
        # Organisation A's own claimant in the path, organisation B's entry id.
        ("PATCH", f"/api/v1/subjects/{demo.kerry}/case-plan/entries/{target['id']}"
                  "?purpose=budgeting_support", adviser, {"title": "hijacked"}),
        ("GET", f"/api/v1/subjects/{demo.kerry}/case-plan/entries/{target['id']}/history"
                "?purpose=budgeting_support", adviser, None),
        # Organisation B's claimant in the path.
        ("PATCH", f"/api/v1/subjects/{demo.lee}/case-plan/entries/{target['id']}"
                  "?purpose=budgeting_support", adviser, {"title": "hijacked"}),
        # A case member, but the entry is one it may not read: it does not exist for it.
        ("PATCH", f"/api/v1/subjects/{demo.lee}/case-plan/entries/{treatment['id']}"
                  "?purpose=tenancy_sustainment", housing, {"title": "hijacked"}),
        ("GET", f"/api/v1/subjects/{demo.lee}/case-plan/entries/{treatment['id']}/history"
                "?purpose=tenancy_sustainment", housing, None),
    ]
    for method, url, headers, body in probes:
        r = client.open(url, method=method, json=body, headers={**headers, "If-Match": "*"})
        _refused(r, 404)
        event = _denial_event(rt, r)
        assert event.type in ("access:subject:deny", "case_plan:entry:history",
                              "case_plan:entry:update"), event.type
    with rt.session_factory() as s:
        for entry_id in (target["id"], treatment["id"]):
            entry = s.get(PlanEntry, uuid.UUID(entry_id))
            assert entry is not None and entry.version == 1
    assert "hijacked" not in str(_entries(client, auth, COACH, demo.lee, "case_management"))


@pytest.mark.parametrize(("method", "path"), [
    ("POST", "/api/v1/consents/{}/withdrawal?purpose=case_management"),
    ("GET", "/api/v1/consents/{}/receipt?purpose=case_management"),
    ("GET", "/api/v1/consents/{}/fhir?purpose=case_management"),
])
def test_another_organisations_consent_id_is_404_audited_and_unchanged(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime, method: str, path: str
) -> None:
    listed = client.get(CONSENTS.format(demo.lee), headers=auth(COACH))
    consent_id = listed.json["items"][0]["id"]
    r = client.open(path.format(consent_id), method=method, headers=auth(ADVISER),
                    json={"channel": "phone"} if method == "POST" else None)
    body = _refused(r, 404)
    assert consent_id not in r.get_data(as_text=True).replace(body.get("audit_id", ""), "")
    event = _denial_event(rt, r)
    assert event.type == "access:subject:deny" and event.subject_id == demo.lee
    assert event.reasons == ["no_case_relationship"] and event.org == "ca-derby"
    assert count(rt, ConsentWithdrawal) == 1  # only the seed's (Rhian's), none on Lee's
    after = client.get(CONSENTS.format(demo.lee), headers=auth(COACH))
    assert after.json["items"][0]["status"] == "active"


# --- Purpose swapped mid-session ---------------------------------------------------------------


def _token_for(rt: Runtime, email: str, purposes: list[str]) -> dict[str, str]:
    with rt.session_factory() as s:
        staff = identity.get_staff_by_email(s, email)
        signed, _ = tokens.issue(
            rt.token_keys, issuer=rt.settings.issuer, audience=rt.settings.audience,
            subject=str(staff.id), client_id="tests", org=staff.org_id, roles=staff.roles,
            scopes=identity.scopes_for(staff.roles), purposes=purposes, actor_type="staff",
            now=rt.now(), ttl_seconds=900)
    return {"Authorization": f"Bearer {signed}"}


def test_a_token_bound_to_one_purpose_is_refused_for_another_and_audited(
    client: FlaskClient, demo: Demo, rt: Runtime
) -> None:
    """The key worker holds recovery_support and case_management; a token bound to
    case_management only cannot be replayed for recovery_support, even though the person
    could have asked for it."""
    bound = _token_for(rt, KEY_WORKER, ["case_management"])
    assert client.get(PLAN.format(demo.lee, "case_management"), headers=bound).status_code == 200
    for url in (PLAN.format(demo.lee, "recovery_support"),
                f"/api/v1/subjects/{demo.lee}?purpose=recovery_support",
                f"/api/v1/subjects/{demo.lee}/consents?purpose=recovery_support"):
        r = client.get(url, headers=bound)
        assert _refused(r, 403)["reasons"] == ["purpose_not_in_token"]
        event = _denial_event(rt, r)
        assert event.type == "access:purpose:deny" and event.purpose == "recovery_support"
    # The same person with a token for both purposes reads under recovery_support.
    both = _token_for(rt, KEY_WORKER, ["case_management", "recovery_support"])
    assert client.get(PLAN.format(demo.lee, "recovery_support"), headers=both).status_code == 200


def test_a_web_session_changes_purpose_only_by_choosing_again(
    client: FlaskClient, demo: Demo, rt: Runtime
) -> None:
    sign_in(client, KEY_WORKER, purpose="case_management")
    # A purpose in the query string does not switch the session's purpose.
    page = client.get(f"/claimants/{demo.lee}?purpose=recovery_support")
    assert page.status_code == 200
    assert {e.purpose for e in events(rt, actor=_staff_id(rt, KEY_WORKER))
            if e.subject_id == demo.lee} == {"case_management"}
    # A purpose the person does not hold cannot be chosen; the session keeps the one it had.
    chosen = client.post("/purpose", data={"purpose": "audit",
                                           "csrf_token": token(client, "/purpose")})
    assert chosen.status_code == 422
    before = len(events(rt))
    assert client.get(f"/claimants/{demo.lee}").status_code == 200
    assert {e.purpose for e in events(rt)[before:]} == {"case_management"}
    # Choosing again, explicitly, switches it; later reads are audited under the new purpose.
    chosen = client.post("/purpose", data={"purpose": "recovery_support",
                                           "csrf_token": token(client, "/purpose")})
    assert chosen.status_code == 302
    before = len(events(rt))
    assert client.get(f"/claimants/{demo.lee}").status_code == 200
    new = events(rt)[before:]
    assert new and {e.purpose for e in new} == {"recovery_support"}


def _staff_id(rt: Runtime, email: str) -> str:
    with rt.session_factory() as s:
        return str(identity.get_staff_by_email(s, email).id)


# --- Consent forged by a partner -----------------------------------------------------------


@pytest.mark.parametrize("forged", [{"verified": True}, {"captured_org": "recovery-partnership"},
                                    {"captured_by": str(uuid.uuid4())},
                                    {"recorded_org": "recovery-partnership"}])
def test_a_partner_cannot_claim_the_collector_or_the_verification(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime, forged: dict[str, Any]
) -> None:
    """Who collected a consent and whether it is verified are set by the server from the
    token and the evidence, never taken from the body."""
    before = count(rt, Consent)
    body = consent_body(categories=["identity", "substance_misuse"],
                        recipients=["jcp-derby", "recovery-partnership"],
                        explicit_statement=TREATMENT, **forged)
    r = client.post(CONSENTS.format(demo.kerry), headers=auth(COACH), json=body)
    assert r.status_code == 422 and r.headers["Content-Type"] == PROBLEM
    assert set(r.json["errors"]) == set(forged)
    assert count(rt, Consent) == before


def test_an_unverified_consent_never_unlocks_a_special_category(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    # Recorded through the API: a verbal consent without evidence cannot cover treatment.
    body = consent_body(categories=["identity", "substance_misuse"], method="verbal_phone",
                        recipients=["jcp-derby", "recovery-partnership"],
                        explicit_statement=TREATMENT)
    del body["evidence_ref"]
    r = client.post(CONSENTS.format(demo.kerry), headers=auth(HOUSING), json=body)
    assert r.status_code in (404, 422)  # housing is not in Kerry's case at all
    r = client.post(CONSENTS.format(demo.kerry), headers=auth(COACH), json=body)
    assert r.status_code == 422 and "evidence_ref" in r.json["errors"]
    # A row that says unverified (a forged or imported record) is refused by the decision too:
    # Lee's broad consent, marked unverified, no longer opens his treatment entries.
    with rt.session_factory() as s:
        s.execute(update(Consent).where(Consent.subject_id == demo.lee).values(verified=False))
        s.commit()
    r = client.get(PLAN.format(demo.lee, "case_management"), headers=auth(COACH))
    assert r.status_code == 200
    assert SECRET_TITLES[0] not in r.get_data(as_text=True)
    withheld = {w["category"]: w["reasons"] for w in r.json["withheld"]}
    assert "consent_unverified" in withheld["substance_misuse"]
    deny = [e for e in events(rt, request_id=r.headers["X-Request-ID"]) if e.decision == "deny"]
    assert len(deny) == 1 and "substance_misuse" in deny[0].categories
    assert "consent_unverified" in deny[0].reasons


# --- Mass enumeration --------------------------------------------------------------------------


def _comparable(r: Any) -> tuple[Any, ...]:
    """Everything a prober sees, minus the values that are random per request (request and
    audit ids) or count requests whatever they ask for (the rate limit's headers)."""
    body = dict(r.json)
    body.pop("audit_id", None)
    headers = sorted((k, v) for k, v in r.headers.items()
                     if k != "X-Request-ID" and k != "Retry-After"
                     and not k.startswith("X-RateLimit"))
    return r.status_code, json.dumps(body, sort_keys=True), tuple(headers)


def _nino(rng: random.Random) -> str:
    return (rng.choice("ABCEGHJKLMNOPRSTWXYZ") + rng.choice("ABCEGHJKLMNPRSTWXYZ")
            + f"{rng.randrange(10**6):06d}" + rng.choice("ABCD"))


def test_enumerating_subject_ids_gives_no_existence_oracle_and_every_probe_is_audited(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    adviser = auth(ADVISER)  # Lee exists but Citizens Advice has no relationship with him
    existing = client.get(PLAN.format(demo.lee, "case_management"), headers=adviser)
    shapes = {_comparable(existing)}
    probes = [existing]
    for _ in range(30):
        r = client.get(PLAN.format(uuid.uuid4(), "case_management"), headers=adviser)
        shapes.add(_comparable(r))
        probes.append(r)
    assert len(shapes) == 1, shapes
    assert existing.status_code == 404
    for r in probes:
        event = _denial_event(rt, r)
        assert event.type == "access:subject:deny" and event.reasons == ["no_case_relationship"]
    # NINO guesses: Lee's real NINO and random ones look the same (no match for this caller),
    # and each search is audited with its match count.
    rng = random.Random(10)  # noqa: S311 (repeatable guesses, not secrets)
    lee_nino = client.get("/api/v1/subjects?nino=QQ123456C&purpose=case_management",
                          headers=adviser)
    guesses = [client.get(f"/api/v1/subjects?nino={_nino(rng)}&purpose=case_management",
                          headers=adviser) for _ in range(10)]
    assert len({_comparable(r)[:2] for r in [lee_nino, *guesses]}) == 1
    assert lee_nino.status_code == 200 and lee_nino.json["items"] == []
    for r in [lee_nino, *guesses]:
        searched = events(rt, request_id=r.headers["X-Request-ID"])
        assert [(e.type, e.details["matches"]) for e in searched] == [("subject:search:nino", 0)]
    # ...and the probing is flagged: the IG officer's unusual access report names the adviser,
    # with the probes behind the finding. Refusals record no protocol, so it is Citizens
    # Advice's own IG officer who sees them (Derby Housing's does not).
    hidden = client.get("/api/v1/audit/unusual-access?purpose=audit&rule=enumeration",
                        headers=auth(IG))
    assert hidden.status_code == 200
    assert not [f for f in hidden.json["findings"] if f["org"] == "ca-derby"]
    with rt.session_factory() as s:
        identity.add_or_update_staff(s, protocols=rt.protocols, email="jo.patel@ca-derby.example",
                                     name="Jo Patel", org="ca-derby", roles=["ig_officer"],
                                     now=rt.now())
        s.commit()
    report = client.get("/api/v1/audit/unusual-access?purpose=audit&rule=enumeration",
                        headers=auth("jo.patel@ca-derby.example"))
    assert report.status_code == 200, report.json
    [finding] = [f for f in report.json["findings"] if f["org"] == "ca-derby"]
    assert finding["rule"] == "enumeration" and finding["count"] >= 31
    probe_ids = {r.headers["X-Request-ID"] for r in probes}
    assert probe_ids <= {e["request_id"] for e in finding["events"]}


@pytest.fixture
def limited(engine: str, templates: dict[str, Any], tmp_path: Path,
            clock: Clock) -> Iterator[Flask]:
    app = create_app({"instance_path": tmp_path / "instance",
                      "database_url": _database_url(engine, templates, tmp_path),
                      "clock": clock, "ratelimit_default": "20 per minute"})
    from caseshare.demo import seed

    rt = app.extensions["caseshare"]
    with rt.session_factory() as s:
        list(seed(s, rt))
    yield app
    rt.engine.dispose()


def test_enumeration_is_rate_limited_and_every_probe_that_ran_is_audited(limited: Flask) -> None:
    from tests.conftest import issue_token

    rt: Runtime = limited.extensions["caseshare"]
    client = limited.test_client()
    headers = {"Authorization": f"Bearer {issue_token(rt, ADVISER)}"}
    responses = [client.get(PLAN.format(uuid.uuid4(), "case_management"), headers=headers)
                 for _ in range(25)]
    statuses = [r.status_code for r in responses]
    assert statuses == [404] * 20 + [429] * 5, statuses
    for r in responses[20:]:
        _refused(r, 429)
        assert int(r.headers["Retry-After"]) > 0
    # Each probe that reached the service is a deny event the unusual-access report can count
    # (refused-by-limit requests never reach it, so there is nothing to record but the 429).
    denied = events(rt, type="access:subject:deny", org="ca-derby")
    assert len(denied) == 20
    assert {e.request_id for e in denied} == {r.headers["X-Request-ID"] for r in responses[:20]}


# --- Oversized bodies --------------------------------------------------------------------------


def test_oversized_bodies_are_413_problems_on_every_kind_of_write(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    big = "x" * (rt.settings.max_content_length + 1)
    writes = [
        ("POST", "/api/v1/subjects?purpose=case_management", {"given_name": big}),
        ("POST", CONSENTS.format(demo.lee), consent_body(explicit_statement=big)),
        ("POST", f"/api/v1/subjects/{demo.lee}/case-plan/entries?purpose=case_management",
         {"kind": "note", "category": "employment", "title": "t", "detail": big}),
        ("POST", f"/api/v1/subjects/{demo.lee}/referrals?purpose=case_management",
         {"to_org": "derby-housing", "purpose": "tenancy_sustainment", "message": big}),
        ("POST", f"/api/v1/subjects/{demo.lee}/overrides?purpose=case_management",
         {"route": "safeguarding", "justification": big}),
    ]
    before = (count(rt, Consent), count(rt, PlanEntry), count(rt, AuditEvent))
    for method, url, body in writes:
        r = client.open(url, method=method, json=body, headers=auth(COACH))
        assert _refused(r, 413)["title"] == "Request body too large"
    assert (count(rt, Consent), count(rt, PlanEntry), count(rt, AuditEvent)) == before
