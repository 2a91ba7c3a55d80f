"""Issue 18 (Low): hostile input is a clear 4xx problem, never a 500 nor an outsized audit event.
Unknown or too many category codes, deeply nested JSON bodies, tampered pagination cursors."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from flask.testing import FlaskClient

from caseshare.audit.models import AuditEvent
from caseshare.case_plan.models import PlanEntry
from caseshare.runtime import Runtime
from tests.audit_helpers import count, events
from tests.builders import assert_problem
from tests.conftest import COACH, IG, KEY_WORKER, Demo

AUDIT = "purpose=audit"


def _b64(raw: str | bytes) -> str:
    data = raw.encode() if isinstance(raw, str) else raw
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


# (a) categories ---------------------------------------------------------------------------------

def test_plan_read_with_made_up_categories_is_422_naming_categories_and_writes_no_event(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    made_up = ",".join(f"made-up-{i}" for i in range(40)) + ",employment"
    before = count(rt, AuditEvent)
    r = client.get(f"/api/v1/subjects/{demo.lee}/case-plan?purpose=case_management"
                   f"&categories={made_up}", headers=auth(COACH))
    body = assert_problem(r, 422)
    assert "categories" in body["errors"]
    message = body["errors"]["categories"][0]
    assert "made-up-0" in message and "employment" not in message and len(message) < 200
    assert count(rt, AuditEvent) == before  # refused before anything was read or audited


def test_plan_read_with_thousands_of_categories_is_422_naming_categories(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    many = ",".join(["employment"] * 3000)
    before = count(rt, AuditEvent)
    r = client.get(f"/api/v1/subjects/{demo.lee}/case-plan?purpose=case_management"
                   f"&categories={many}", headers=auth(COACH))
    assert "categories" in assert_problem(r, 422)["errors"]
    assert count(rt, AuditEvent) == before


def test_plan_read_with_known_repeated_categories_reads_each_once_and_audits_it(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    r = client.get(f"/api/v1/subjects/{demo.lee}/case-plan?purpose=case_management"
                   "&categories=employment,employment,housing_tenancy", headers=auth(COACH))
    assert r.status_code == 200, r.json
    allow = [e for e in events(rt, type="case_plan:plan:read", decision="allow")
             if e.request_id == r.headers["X-Request-ID"]]
    assert len(allow) == 1 and sorted(allow[0].categories) == ["employment", "housing_tenancy"]


@pytest.mark.parametrize("field", ["recipients", "purposes", "categories",
                                   "excluded_categories"])
def test_consent_lists_longer_than_50_codes_are_422_naming_the_field(
    client: FlaskClient, auth: Any, demo: Demo, field: str
) -> None:
    body = {"form_id": "derby-multi-agency", "form_version": 1, "language": "en",
            "given_by": {"type": "self"}, "recipients": ["jcp-derby"],
            "purposes": ["case_management"], "categories": ["employment"],
            "method": "e_signature", "expires_at": "2027-01-01T00:00:00Z",
            field: [f"code-{i}" for i in range(51)]}
    r = client.post(f"/api/v1/subjects/{demo.lee}/consents?purpose=case_management",
                    json=body, headers=auth(COACH))
    assert field in assert_problem(r, 422)["errors"]


# (b) nested JSON --------------------------------------------------------------------------------

@pytest.mark.parametrize("depth", [1000, 100_000])
def test_deeply_nested_json_body_is_a_400_problem_and_changes_nothing(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime, depth: int
) -> None:
    before = count(rt, PlanEntry)
    r = client.post(f"/api/v1/subjects/{demo.lee}/case-plan/entries?purpose=case_management",
                    data="[" * depth + "]" * depth, content_type="application/json",
                    headers=auth(COACH))
    body = assert_problem(r, 400)
    assert "body" in body["errors"]
    assert count(rt, PlanEntry) == before


def test_json_nested_just_within_the_limit_is_parsed_and_validated(
    client: FlaskClient, auth: Any, demo: Demo
) -> None:
    nested: Any = "x"
    for _ in range(30):
        nested = [nested]
    r = client.post(f"/api/v1/subjects/{demo.lee}/case-plan/entries?purpose=case_management",
                    json={"kind": "action", "category": "employment", "title": nested},
                    headers=auth(COACH))
    assert "title" in assert_problem(r, 422)["errors"]  # parsed, then refused by the schema


# (b) cursors ------------------------------------------------------------------------------------

BAD_CURSORS = [
    _b64("ev:99999999999999999999999"),          # past any 64-bit id
    _b64("ev:9223372036854775808"),              # 2**63
    _b64("ev:-5"),                               # negative
    _b64("ev:\u0663\u0663".encode()),            # Arabic-Indic digits (str.isdigit() says yes)
    _b64("ev:\u00b2"),                           # superscript two
    _b64(b"ev:\xff\xfe"),                        # not UTF-8
    "bm9wZQ",                                    # "nope"
    "%F0%9F%98%80",                              # an emoji, not base64
]


@pytest.mark.parametrize("cursor", BAD_CURSORS)
def test_tampered_audit_cursor_is_a_400_problem_naming_cursor(
    client: FlaskClient, auth: Any, cursor: str
) -> None:
    r = client.get(f"/api/v1/audit/events?{AUDIT}&cursor={cursor}", headers=auth(IG))
    assert "cursor" in assert_problem(r, 400)["errors"]


def test_largest_audit_cursor_is_an_empty_page(client: FlaskClient, auth: Any) -> None:
    r = client.get(f"/api/v1/audit/events?{AUDIT}&cursor={_b64('ev:9223372036854775807')}",
                   headers=auth(IG))
    assert r.status_code == 200, r.json
    assert r.json["items"] == [] and r.json["next_cursor"] is None


BAD_REFERRAL_CURSORS = [
    _b64("0001-01-01T00:00:00+23:59|00000000-0000-0000-0000-000000000000"),  # overflows in UTC
    _b64("9999-12-31T23:59:59-23:59|00000000-0000-0000-0000-000000000000"),
    _b64("2026-01-01T00:00:00|00000000-0000-0000-0000-000000000000"),        # naive
    _b64("2026-01-01T00:00:00+00:00|not-a-uuid"),
    _b64(b"\xff\xfe|\xff"),
    "bm90LWEtY3Vyc29y",
    "%F0%9F%98%80",
]


@pytest.mark.parametrize("cursor", BAD_REFERRAL_CURSORS)
def test_tampered_referral_cursor_is_a_400_problem_naming_cursor(
    client: FlaskClient, auth: Any, cursor: str
) -> None:
    r = client.get(f"/api/v1/referrals?purpose=recovery_support&cursor={cursor}",
                   headers=auth(KEY_WORKER))
    assert "cursor" in assert_problem(r, 400)["errors"]
