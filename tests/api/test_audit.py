"""The IG officer's audit API: queries, the access report, checkpoints and proofs that a client
checks with the standalone verifier, and refusals for everyone else. Both engines."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from flask import Flask
from flask.testing import FlaskClient

from caseshare.audit import proofs
from caseshare.audit.signed_note import verify_note
from caseshare.runtime import Runtime
from tests.audit_helpers import events
from tests.builders import assert_problem
from tests.conftest import ADVISER, COACH, HOUSING, IG, KEY_WORKER, Clock, Demo

AUDIT = "purpose=audit"


def seal(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["caseshare", "audit", "seal"])
    assert result.exit_code == 0, result.output


def public_key(rt: Runtime) -> bytes:
    return rt.audit_signer.public_key().public_bytes(serialization.Encoding.Raw,
                                                     serialization.PublicFormat.Raw)


def audited(rt: Runtime, response: Any, type: str) -> Any:
    found = [e for e in events(rt, type=type)
             if e.request_id == response.headers["X-Request-ID"]]
    assert len(found) == 1, [e.type for e in events(rt)]
    return found[0]


# What Grace (IG officer of derby-housing) sees: events recorded under the one protocol her
# organisation is party to, or by her own organisation's staff (API.md, Audit).
IG_PROTOCOLS = {"derby-local-support@1"}


def visible_to_ig(event: Any) -> bool:
    return bool(event.org == "derby-housing" or event.protocol in IG_PROTOCOLS)


def all_pages(client: FlaskClient, headers: dict[str, str], query: str) -> list[dict[str, Any]]:
    items, cursor = [], None
    while True:
        # Two a page: the seed leaves Grace three events about Lee (one per plan creation,
        # not a second read event), so every query here spans several pages.
        url = f"/api/v1/audit/events?{AUDIT}&limit=2&{query}"
        r = client.get(url + (f"&cursor={cursor}" if cursor else ""), headers=headers)
        assert r.status_code == 200, r.json
        items += r.json["items"]
        cursor = r.json["next_cursor"]
        if cursor is None:
            return items


def test_ig_officer_queries_a_subjects_events_page_by_page_and_the_query_is_audited(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    # A denied read by the housing officer, so the log holds an allow and a deny about Lee.
    denied = client.get(f"/api/v1/subjects/{demo.lee}/case-plan?purpose=case_management"
                        "&categories=substance_misuse", headers=auth(HOUSING))
    assert denied.status_code == 200

    headers = auth(IG)
    items = all_pages(client, headers, f"subject_id={demo.lee}")
    # Derby Housing is party to derby-local-support only; events under recovery-jcp (the
    # treatment provider's, and the work coach's reads of treatment notes) stay out of view.
    expected = [e for e in events(rt, subject_id=demo.lee)
                if e.type != "audit:events:query" and visible_to_ig(e)]
    assert any(e.org == "recovery-partnership" for e in events(rt, subject_id=demo.lee))
    assert "recovery-partnership" not in {i["org"] for i in items}
    # Later pages also show the audit events of the earlier pages' own queries.
    assert [i["id"] for i in items if i["type"] != "audit:events:query"] == [
        str(e.event_uuid) for e in expected]
    assert {i["decision"] for i in items} >= {"allow", "deny"}
    deny = next(i for i in items if i["request_id"] == denied.headers["X-Request-ID"])
    assert deny["org"] == "derby-housing" and deny["reasons"] == ["category_not_in_protocol"]
    assert deny["occurred_at"].endswith("Z") and deny["index"] is None  # not sealed yet
    assert set(deny) >= {"index", "occurred_at", "type", "actor", "org", "role", "purpose",
                         "subject_id", "categories", "decision", "reasons", "consent_id",
                         "protocol", "override_id", "request_id"}
    # Each page view is itself an audit event naming the IG officer and the filter.
    queries = [e for e in events(rt, type="audit:events:query") if e.subject_id == demo.lee]
    pages = len(queries)
    assert pages > 1 and sum(i["type"] == "audit:events:query" for i in items) == pages - 1
    assert queries[0].org == "derby-housing" and queries[0].role == "ig_officer"
    assert queries[0].purpose == "audit" and queries[0].decision == "allow"
    assert queries[0].details["filters"] == {"subject_id": str(demo.lee)}


def test_filters_narrow_the_events(client: FlaskClient, auth: Any, demo: Demo,
                                   rt: Runtime, clock: Clock) -> None:
    clock.advance(hours=2)
    client.get(f"/api/v1/subjects/{demo.kerry}/case-plan?purpose=budgeting_support",
               headers=auth(ADVISER))
    headers = auth(IG)
    base = f"/api/v1/audit/events?{AUDIT}&limit=200"
    by_org = client.get(f"{base}&org=ca-derby&type=case_plan:plan:read", headers=headers).json
    assert by_org["items"] and all(i["org"] == "ca-derby" and i["type"] == "case_plan:plan:read"
                                   for i in by_org["items"])
    later = client.get(f"{base}&from=2026-11-23T10:00:00Z&decision=allow", headers=headers).json
    assert later["items"] and all(i["occurred_at"] >= "2026-11-23T11" for i in later["items"])
    assert all(i["decision"] == "allow" for i in later["items"])
    earlier = client.get(f"{base}&to=2026-11-23T10:00:00Z&subject_id={demo.kerry}",
                         headers=headers).json
    assert earlier["items"] and all(i["occurred_at"] < "2026-11-23T10" for i in earlier["items"])
    actor = later["items"][0]["actor"]
    mine = client.get(f"{base}&actor={actor}&event_purpose=budgeting_support",
                      headers=headers).json
    assert mine["items"] and all(i["actor"] == actor and i["purpose"] == "budgeting_support"
                                 for i in mine["items"])


def test_a_cursor_the_api_did_not_return_is_a_400_naming_cursor(
    client: FlaskClient, auth: Any
) -> None:
    r = client.get(f"/api/v1/audit/events?{AUDIT}&cursor=bm9wZQ", headers=auth(IG))
    assert_problem(r, 400)
    assert "cursor" in r.json["errors"]


@pytest.mark.parametrize("query,field", [
    ("limit=201", "limit"), ("limit=0", "limit"), ("decision=maybe", "decision"),
    ("from=2026-11-23T10:00:00", "from"), ("from=yesterday", "from"),
    ("subject_id=not-a-uuid", "subject_id"),
    ("from=2026-11-23T10:00:00Z&to=2026-11-23T09:00:00Z", "to"),
])
def test_bad_query_parameters_are_422_naming_the_field(
    client: FlaskClient, auth: Any, query: str, field: str
) -> None:
    r = client.get(f"/api/v1/audit/events?{AUDIT}&{query}", headers=auth(IG))
    assert_problem(r, 422)
    assert field in r.json["errors"]


@pytest.mark.parametrize("email", [COACH, HOUSING, KEY_WORKER, ADVISER])
def test_front_line_staff_are_refused_the_audit_log_with_reasons_and_audited(
    client: FlaskClient, auth: Any, rt: Runtime, email: str
) -> None:
    for path in ("/audit/events", "/audit/checkpoints/latest", "/audit/consistency?first=1"
                 "&second=2"):
        sep = "&" if "?" in path else "?"
        r = client.get(f"/api/v1{path}{sep}{AUDIT}", headers=auth(email))
        assert r.status_code == 403, r.json
        assert r.json["reasons"]
        event = next(e for e in events(rt) if str(e.event_uuid) == r.json["audit_id"])
        assert event.decision == "deny" and event.reasons == r.json["reasons"]


def test_ig_officer_under_another_purpose_is_refused(
    client: FlaskClient, auth: Any, rt: Runtime
) -> None:
    r = client.get("/api/v1/audit/events?purpose=subject_access", headers=auth(IG))
    assert r.status_code == 403 and r.json["reasons"] == ["role_not_granted"]
    event = audited(rt, r, "access:audit:deny")
    assert event.decision == "deny" and event.role == "ig_officer"


def test_ig_officer_sees_only_the_parties_to_their_protocols(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    from caseshare.audit import service as audit

    with rt.session_factory() as s:  # an event of an organisation outside the partnership
        audit.record(s, type="case_plan:plan:read", now=rt.now(), subject_id=demo.lee,
                     decision="allow")
        stranger = audit.record(s, type="case_plan:plan:read", now=rt.now(),
                                subject_id=demo.lee, decision="allow")
        stranger.org = "leeds-housing"
        s.commit()
    items = all_pages(client, auth(IG), f"subject_id={demo.lee}")
    assert items and "leeds-housing" not in {i["org"] for i in items}
    assert None not in {i["org"] for i in items}


def test_access_report_lists_every_allowed_and_denied_access_as_json_and_csv(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    denied = client.get(f"/api/v1/subjects/{demo.lee}/case-plan?purpose=case_management"
                        "&categories=substance_misuse", headers=auth(HOUSING))
    read = client.get(f"/api/v1/subjects/{demo.lee}/case-plan?purpose=case_management",
                      headers=auth(COACH))
    url = f"/api/v1/subjects/{demo.lee}/access-report?{AUDIT}"

    r = client.get(url, headers=auth(IG))
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    assert r.json["subject_id"] == str(demo.lee)
    by_request: dict[str, list[dict[str, Any]]] = {}
    for item in r.json["items"]:
        by_request.setdefault(item["request_id"], []).append(item)
    assert [i["decision"] for i in by_request[denied.headers["X-Request-ID"]]] == ["deny"]
    coach_read = by_request[read.headers["X-Request-ID"]][0]
    assert coach_read["decision"] == "allow" and coach_read["actor_name"] == "Sam Okafor"
    expected = [e for e in events(rt, subject_id=demo.lee) if e.decision in ("allow", "deny")
                and e.type != "audit:report:access" and visible_to_ig(e)]
    assert [i["id"] for i in r.json["items"]] == [str(e.event_uuid) for e in expected]
    report = audited(rt, r, "audit:report:access")
    assert report.subject_id == demo.lee and report.details["events"] == len(expected)

    c = client.get(url, headers={**auth(IG), "Accept": "text/csv"})
    assert c.status_code == 200 and c.mimetype == "text/csv"
    assert "attachment" in c.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(c.get_data(as_text=True))))
    assert rows[0].keys() >= {"index", "occurred_at", "type", "decision", "org", "actor_name"}
    assert [row["id"] for row in rows][: len(expected)] == [i["id"] for i in r.json["items"]]
    assert any(row["decision"] == "deny" and row["org"] == "derby-housing" for row in rows)
    assert audited(rt, c, "audit:report:access").subject_id == demo.lee


def test_access_report_for_an_unknown_subject_is_404_and_audited(
    client: FlaskClient, auth: Any, rt: Runtime
) -> None:
    missing = uuid.uuid4()
    r = client.get(f"/api/v1/subjects/{missing}/access-report?{AUDIT}", headers=auth(IG))
    assert r.status_code == 404
    assert audited(rt, r, "access:subject:deny").subject_id == missing


def test_a_front_line_officer_cannot_have_an_access_report(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    r = client.get(f"/api/v1/subjects/{demo.lee}/access-report?purpose=case_management",
                   headers=auth(COACH))
    assert r.status_code == 403 and r.json["reasons"]
    assert next(e for e in events(rt) if str(e.event_uuid) == r.json["audit_id"]).decision == \
        "deny"


def test_a_client_proves_an_event_is_in_the_signed_log_trusting_nothing_but_the_key(
    app: Flask, client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    # The work coach reads Lee's whole plan, treatment note included: an event Derby Housing's
    # IG officer sees redacted. (The seed's plan creation no longer adds such a read event.)
    read = client.get(f"/api/v1/subjects/{demo.lee}/case-plan?purpose=case_management",
                      headers=auth(COACH))
    assert read.status_code == 200
    seal(app)
    headers = auth(IG)
    checkpoint = client.get(f"/api/v1/audit/checkpoints/latest?{AUDIT}", headers=headers).json
    assert set(checkpoint) == {"tree_size", "root_hash", "timestamp", "signature", "key_id",
                               "note"}
    assert checkpoint["root_hash"] == checkpoint["root_hash"].lower()
    assert proofs.verify_checkpoint(public_key(rt), checkpoint)
    # The same checkpoint as a C2SP signed note, verified with the key alone.
    origin = rt.settings.audit_log_origin
    assert verify_note(checkpoint["note"], origin, public_key(rt)) == proofs.checkpoint_note_text(
        origin, checkpoint["tree_size"], bytes.fromhex(checkpoint["root_hash"]))
    note = proofs.parse_checkpoint_note(checkpoint["note"])
    assert (note.origin, note.tree_size, note.root_hash.hex()) == (
        origin, checkpoint["tree_size"], checkpoint["root_hash"])
    items = all_pages(client, headers, f"subject_id={demo.lee}&decision=allow")
    # A redacted event (categories outside Derby Housing's reach) is proved by its logged leaf
    # hash; it cannot be recomputed from the redacted fields, by design.
    redacted = [i for i in items if i["index"] is not None and i["redacted"]]
    assert redacted and all("redacted" in i["categories"] for i in redacted)
    r = client.get(f"/api/v1/audit/events/{redacted[0]['index']}/inclusion?{AUDIT}"
                   f"&tree_size={checkpoint['tree_size']}", headers=headers)
    assert r.status_code == 200 and r.json["leaf_hash"] == redacted[0]["leaf_hash"]
    assert proofs.verify_inclusion(
        bytes.fromhex(r.json["leaf_hash"]), redacted[0]["index"], checkpoint["tree_size"],
        [bytes.fromhex(h) for h in r.json["audit_path"]], bytes.fromhex(checkpoint["root_hash"]))
    sealed = [i for i in items if i["index"] is not None and not i["redacted"]]
    assert sealed
    for event in sealed[:5]:
        r = client.get(f"/api/v1/audit/events/{event['index']}/inclusion?{AUDIT}"
                       f"&tree_size={checkpoint['tree_size']}", headers=headers)
        assert r.status_code == 200, r.json
        proof = r.json
        assert set(proof) == {"leaf_index", "tree_size", "leaf_hash", "audit_path", "root_hash"}
        assert proof["root_hash"] == checkpoint["root_hash"]
        leaf = proofs.event_leaf_hash(event)
        assert leaf.hex() == proof["leaf_hash"] == event["leaf_hash"]
        path = [bytes.fromhex(h) for h in proof["audit_path"]]
        root = bytes.fromhex(checkpoint["root_hash"])
        assert proofs.verify_inclusion(leaf, event["index"], checkpoint["tree_size"], path, root)
        # The same proof does not vouch for an edited copy of the event.
        edited = {**event, "decision": "deny"}
        assert not proofs.verify_inclusion(proofs.event_leaf_hash(edited), event["index"],
                                           checkpoint["tree_size"], path, root)
    event = audited(rt, r, "audit:proof:inclusion")
    assert event.details == {"leaf_index": sealed[4 if len(sealed) > 4 else -1]["index"],
                             "tree_size": checkpoint["tree_size"]}


def test_consistency_between_two_checkpoints_verifies_and_a_forged_one_does_not(
    app: Flask, client: FlaskClient, auth: Any, demo: Demo, rt: Runtime, clock: Clock
) -> None:
    headers = auth(IG)
    seal(app)
    old = client.get(f"/api/v1/audit/checkpoints/latest?{AUDIT}", headers=headers).json
    clock.advance(minutes=5)
    client.get(f"/api/v1/subjects/{demo.lee}/case-plan?purpose=case_management",
               headers=auth(COACH))
    seal(app)
    new = client.get(f"/api/v1/audit/checkpoints/latest?{AUDIT}", headers=headers).json
    assert new["tree_size"] > old["tree_size"]
    assert proofs.verify_checkpoint(public_key(rt), new)

    r = client.get(f"/api/v1/audit/consistency?{AUDIT}&first={old['tree_size']}"
                   f"&second={new['tree_size']}", headers=headers)
    assert r.status_code == 200, r.json
    assert set(r.json) == {"first", "second", "consistency_path"}
    path = [bytes.fromhex(h) for h in r.json["consistency_path"]]
    old_root, new_root = bytes.fromhex(old["root_hash"]), bytes.fromhex(new["root_hash"])
    assert proofs.verify_consistency(old["tree_size"], new["tree_size"], old_root, new_root,
                                     path)
    forged = [bytes(32), *path[1:]]
    assert not proofs.verify_consistency(old["tree_size"], new["tree_size"], old_root,
                                         new_root, forged)
    assert not proofs.verify_checkpoint(public_key(rt), {**new, "tree_size": new["tree_size"]
                                                         + 1})
    event = audited(rt, r, "audit:proof:consistency")
    assert event.details == {"first": old["tree_size"], "second": new["tree_size"]}


@pytest.mark.parametrize("path,field", [
    ("/audit/events/0/inclusion?tree_size=100000", "tree_size"),
    ("/audit/events/99999/inclusion?tree_size=3", "index"),
    ("/audit/consistency?first=5&second=100000", "second"),
    ("/audit/consistency?first=9&second=5", "first"),
    ("/audit/consistency?first=x&second=5", "first"),
])
def test_impossible_proof_requests_are_422(app: Flask, client: FlaskClient, auth: Any,
                                           path: str, field: str) -> None:
    seal(app)
    r = client.get(f"/api/v1{path}&{AUDIT}", headers=auth(IG))
    assert r.status_code == 422, r.json
    assert field in r.json["errors"]


def test_no_checkpoint_yet_is_404(client: FlaskClient, auth: Any) -> None:
    r = client.get(f"/api/v1/audit/checkpoints/latest?{AUDIT}", headers=auth(IG))
    assert_problem(r, 404)


def test_a_damaged_stored_tree_gives_503_not_a_proof_against_a_wrong_root(
    app: Flask, client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    from caseshare.audit.models import AuditTreeNode

    seal(app)
    with rt.session_factory() as s:
        size = audit_log_size(s)
        node = s.get_one(AuditTreeNode, (1, 0))
        node.hash = bytes(32)
        s.commit()
    ok = client.get(f"/api/v1/audit/events/0/inclusion?{AUDIT}&tree_size={size}",
                    headers=auth(IG))
    assert ok.status_code == 200  # its proof does not use the damaged node
    r = client.get(f"/api/v1/audit/events/2/inclusion?{AUDIT}&tree_size={size}",
                   headers=auth(IG))
    assert_problem(r, 503)
    r = client.get(f"/api/v1/audit/consistency?{AUDIT}&first=2&second={size}", headers=auth(IG))
    assert r.status_code == 503


def audit_log_size(s: Any) -> int:
    from caseshare.audit.checkpoints import latest_checkpoint

    latest = latest_checkpoint(s)
    assert latest is not None
    return latest.tree_size
