"""IG officers and claimant data (issue 18, Severe 3) and the protocol-scoped audit view
(Medium 4): the reserved purposes `audit` and `subject_access` give audit metadata, not claimant
data; an IG officer follows the same relationship rule as everyone on the claimant data
endpoints; and sees an audit event only under a protocol their organisation is party to, or by
their own staff, with categories outside their reach redacted. Both engines.

Grace Hughes is the IG officer of Derby Housing: in Lee's case, not in Kerry's (Kerry's case is
Jobcentre Plus and Citizens Advice, and her consent names only those two). Derby Housing is party
to derby-local-support only, not to recovery-jcp (the treatment protocol)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from caseshare.case_plan.models import PlanEntry
from caseshare.consent.models import Consent
from caseshare.identity import service as identity
from caseshare.runtime import Runtime
from tests.audit_helpers import events
from tests.builders import assert_problem
from tests.conftest import COACH, HOUSING, IG, KEY_WORKER, Demo

JCP_IG = "morgan.ellis@jcp-derby.example"
TREATMENT = "recovery-jcp@1"


def jcp_ig(rt: Runtime) -> str:
    """Jobcentre Plus's IG officer: party to both protocols."""
    with rt.session_factory() as s:
        identity.add_or_update_staff(s, protocols=rt.protocols, email=JCP_IG,
                                     name="Morgan Ellis", org="jcp-derby", roles=["ig_officer"],
                                     now=rt.now())
        s.commit()
    return JCP_IG


def kerry_ids(rt: Runtime, demo: Demo) -> tuple[uuid.UUID, uuid.UUID]:
    with rt.session_factory() as s:
        consent = s.scalars(select(Consent.id).where(Consent.subject_id == demo.kerry)).first()
        entry = s.scalars(select(PlanEntry.id).where(PlanEntry.subject_id == demo.kerry)).first()
    assert consent is not None and entry is not None
    return consent, entry


ENDPOINTS = {
    "identity": "/api/v1/subjects/{subject}?purpose={purpose}",
    "plan": "/api/v1/subjects/{subject}/case-plan?purpose={purpose}",
    "consents": "/api/v1/subjects/{subject}/consents?purpose={purpose}",
    "receipt": "/api/v1/consents/{consent}/receipt?purpose={purpose}",
    "fhir": "/api/v1/consents/{consent}/fhir?purpose={purpose}",
    "entry_history": "/api/v1/subjects/{subject}/case-plan/entries/{entry}/history"
                     "?purpose={purpose}",
    "access_report": "/api/v1/subjects/{subject}/access-report?purpose={purpose}",
    "sar_export": "/api/v1/subjects/{subject}/sar-export?purpose={purpose}",
}


@pytest.mark.parametrize("purpose", ["audit", "subject_access"])
@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
def test_an_unrelated_ig_officer_gets_404_on_claimant_data_and_the_denial_is_audited(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime, endpoint: str, purpose: str
) -> None:
    if endpoint == "access_report" and purpose != "audit":
        pytest.skip("the access report is under `audit` only (403 otherwise)")
    if endpoint == "sar_export" and purpose != "subject_access":
        pytest.skip("the export is under `subject_access` only (403 otherwise)")
    consent, entry = kerry_ids(rt, demo)
    url = ENDPOINTS[endpoint].format(subject=demo.kerry, consent=consent, entry=entry,
                                     purpose=purpose)
    r = client.get(url, headers=auth(IG))
    assert_problem(r, 404)
    body = r.get_data(as_text=True)
    assert "Kerry" not in body and "Dunn" not in body and "QQ654321A" not in body
    [event] = [e for e in events(rt) if str(e.event_uuid) == r.json["audit_id"]]
    assert event.type == "access:subject:deny" and event.decision == "deny"
    assert event.subject_id == demo.kerry and event.reasons == ["no_case_relationship"]
    assert event.org == "derby-housing" and event.role == "ig_officer"
    assert not [e for e in events(rt, request_id=r.headers["X-Request-ID"])
                if e.decision == "allow"]


def test_the_related_ig_officer_still_gets_the_sar_export_and_it_is_audited(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    r = client.get(f"/api/v1/subjects/{demo.lee}/sar-export?purpose=subject_access",
                   headers={**auth(IG), "Accept": "application/json"})
    assert r.status_code == 200, r.json
    doc = r.json
    assert doc["record"]["identity"]["given_name"] == "Lee"
    # The treatment provider is not a party to Derby Housing's protocol: its note stays closed.
    assert "recovery-partnership" in doc["other_controllers"]
    assert "substance_misuse" not in {e["category"] for e in doc["case_plan"]["entries"]}
    assert all(d["protocol"] != TREATMENT for d in doc["disclosures"])
    [event] = events(rt, type="subject:sar:export")
    assert event.subject_id == demo.lee and event.decision == "allow"
    assert str(event.event_uuid) == doc["audit_event_id"] and "identity" in event.categories


@pytest.mark.parametrize("purpose", ["audit", "subject_access"])
def test_reserved_purposes_open_no_claimant_data_even_for_a_related_ig_officer(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime, purpose: str
) -> None:
    who = client.get(f"/api/v1/subjects/{demo.lee}?purpose={purpose}", headers=auth(IG))
    assert who.status_code == 200
    assert not {"given_name", "family_name", "date_of_birth", "nino", "postcode"} & set(who.json)
    assert {w["category"] for w in who.json["withheld"]} == {"identity", "contact"}
    assert {r for w in who.json["withheld"] for r in w["reasons"]} == {"purpose_reserved"}
    plan = client.get(f"/api/v1/subjects/{demo.lee}/case-plan?purpose={purpose}",
                      headers=auth(IG))
    assert plan.status_code == 200 and plan.json["entries"] == []
    assert {r for w in plan.json["withheld"] for r in w["reasons"]} == {"purpose_reserved"}
    opened = [e for e in events(rt) if e.decision == "allow" and e.request_id in
              (who.headers["X-Request-ID"], plan.headers["X-Request-ID"])]
    assert opened == []
    refused = [e for e in events(rt) if e.request_id == plan.headers["X-Request-ID"]]
    assert [(e.type, e.decision) for e in refused] == [("case_plan:plan:read", "deny")]


def all_events(client: FlaskClient, headers: dict[str, str], query: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        url = f"/api/v1/audit/events?purpose=audit&limit=200&{query}"
        r = client.get(url + (f"&cursor={cursor}" if cursor else ""), headers=headers)
        assert r.status_code == 200, r.json
        items += r.json["items"]
        cursor = r.json["next_cursor"]
        if cursor is None:
            return items


def test_audit_search_leaves_out_events_under_a_protocol_the_org_is_not_party_to(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    treatment = client.get(f"/api/v1/subjects/{demo.lee}/case-plan?purpose=recovery_support",
                           headers=auth(KEY_WORKER))
    assert treatment.status_code == 200
    [read] = [e for e in events(rt, request_id=treatment.headers["X-Request-ID"])
              if e.decision == "allow"]
    assert read.protocol == TREATMENT and "substance_misuse" in read.categories

    mine = all_events(client, auth(IG), f"subject_id={demo.lee}")
    assert mine and str(read.event_uuid) not in {i["id"] for i in mine}
    assert all(i["protocol"] != TREATMENT for i in mine)
    assert all(i["org"] == "derby-housing"
               or i["protocol"] in ("derby-local-support@1", "derby-triage@1") for i in mine)
    # Neither an event without a protocol by another organisation's staff.
    assert not [i for i in mine if i["protocol"] is None and i["org"] != "derby-housing"]
    [query] = [e for e in events(rt, type="audit:events:query") if e.org == "derby-housing"][:1]
    assert query.decision == "allow" and query.details["protocols"] == ["derby-local-support@1",
                                                                        "derby-triage@1"]

    # Jobcentre Plus is party to the treatment protocol: its IG officer sees the read whole.
    theirs = all_events(client, auth(jcp_ig(rt)), f"subject_id={demo.lee}")
    [seen] = [i for i in theirs if i["id"] == str(read.event_uuid)]
    assert "substance_misuse" in seen["categories"] and seen["redacted"] is False


def test_special_categories_outside_reach_are_redacted_everywhere_the_officer_looks(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    # The work coach reads Lee's whole plan under case_management: one event, recorded under
    # derby-local-support (which Derby Housing is party to), naming the treatment category.
    coach = client.get(f"/api/v1/subjects/{demo.lee}/case-plan?purpose=case_management",
                       headers=auth(COACH))
    assert coach.status_code == 200
    [read] = [e for e in events(rt, request_id=coach.headers["X-Request-ID"])
              if e.decision == "allow"]
    assert read.protocol == "derby-local-support@1" and "substance_misuse" in read.categories

    headers = auth(IG)
    mine = all_events(client, headers, f"subject_id={demo.lee}")
    [seen] = [i for i in mine if i["id"] == str(read.event_uuid)]
    assert seen["redacted"] is True and "redacted" in seen["categories"]
    assert "substance_misuse" not in seen["categories"]
    assert "employment" in seen["categories"]  # carried to Derby Housing under its protocol
    assert seen["leaf_hash"] == read.leaf_hash.hex()
    for body in (json.dumps(mine),
                 client.get(f"/api/v1/subjects/{demo.lee}/access-report?purpose=audit",
                            headers=headers).get_data(as_text=True),
                 client.get(f"/api/v1/subjects/{demo.lee}/access-report?purpose=audit",
                            headers={**headers, "Accept": "text/csv"}).get_data(as_text=True),
                 client.get("/api/v1/audit/unusual-access?purpose=audit",
                            headers=headers).get_data(as_text=True)):
        assert "substance_misuse" not in body
    # The access report is audit metadata about a related claimant: allowed and audited.
    report = [e for e in events(rt, type="audit:report:access") if e.subject_id == demo.lee]
    assert len(report) == 2 and all(e.decision == "allow" for e in report)


def test_an_inclusion_proof_of_an_event_out_of_view_carries_hashes_only(
    app: Any, client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    client.get(f"/api/v1/subjects/{demo.lee}/case-plan?purpose=recovery_support",
               headers=auth(KEY_WORKER))
    result = app.test_cli_runner().invoke(args=["caseshare", "audit", "seal"])
    assert result.exit_code == 0, result.output
    hidden = next(e for e in events(rt) if e.protocol == TREATMENT and e.seq is not None)
    r = client.get(f"/api/v1/audit/events/{hidden.seq}/inclusion?purpose=audit",
                   headers=auth(IG))
    assert r.status_code == 200
    assert set(r.json) == {"leaf_index", "tree_size", "leaf_hash", "audit_path", "root_hash"}
    assert r.json["leaf_hash"] == hidden.leaf_hash.hex()
    assert "substance_misuse" not in r.get_data(as_text=True)
    [proof] = events(rt, type="audit:proof:inclusion")
    assert proof.decision == "allow" and proof.details["leaf_index"] == hidden.seq


def dashboard_total(rt: Runtime, email: str) -> int:
    from caseshare.access import audit_overview
    from caseshare.demo import _ctx

    with rt.session_factory() as s:
        staff = identity.get_staff_by_email(s, email)
        with _ctx(s, rt, staff, "audit") as ctx:
            board = audit_overview.dashboard(ctx, days=1, public_key=rt.audit_signer.public_key())
    return sum(day.total for day in board.per_day)


def test_dashboard_counts_leave_out_events_under_a_protocol_the_org_is_not_party_to(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    before = {email: dashboard_total(rt, email) for email in (IG, jcp_ig(rt))}
    # The work coach (JCP, a party to Derby Housing's protocol too) reads the treatment note:
    # recorded under the treatment protocol, so not Derby Housing's to count.
    treatment = client.get(f"/api/v1/subjects/{demo.lee}/case-plan?purpose=case_management"
                           "&categories=substance_misuse", headers=auth(COACH))
    assert treatment.status_code == 200
    written = [e for e in events(rt, request_id=treatment.headers["X-Request-ID"])
               if e.decision in ("allow", "deny")]
    assert [(e.decision, e.protocol) for e in written] == [("allow", TREATMENT)]
    after = {email: dashboard_total(rt, email) for email in (IG, JCP_IG)}
    assert after[IG] == before[IG]
    assert after[JCP_IG] - before[JCP_IG] == len([e for e in written if e.protocol == TREATMENT])
    looks = [e for e in events(rt, type="audit:summary:read")]
    assert len(looks) == 4 and all(e.decision == "allow" for e in looks)


def test_who_has_seen_lists_only_accesses_under_the_callers_protocols_or_by_its_staff(
    app: Any, client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    from tests.web.test_frontline_pages import text
    from tests.web.test_pages import sign_in

    read = client.get(f"/api/v1/subjects/{demo.lee}/case-plan?purpose=recovery_support",
                      headers=auth(KEY_WORKER))
    assert read.status_code == 200
    housing = app.test_client()
    sign_in(housing, HOUSING, "tenancy_sustainment")
    theirs = text(housing.get(f"/claimants/{demo.lee}/who-has-seen"))
    assert "Who has seen your information" in theirs
    assert "Derby Recovery Partnership" not in theirs  # only under the treatment protocol
    coach = app.test_client()
    sign_in(coach, COACH)
    assert "Derby Recovery Partnership" in text(coach.get(f"/claimants/{demo.lee}/who-has-seen"))
    reports = events(rt, type="access:report:who_has_seen")
    assert [e.org for e in reports] == ["derby-housing", "jcp-derby"]
    assert all(e.decision == "allow" and e.subject_id == demo.lee for e in reports)
