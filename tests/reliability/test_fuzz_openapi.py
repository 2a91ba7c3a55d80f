"""Hostile input: schemathesis against the published OpenAPI document, in-process (WSGI).

Every operation in /openapi.json is fuzzed (so endpoints added later are picked up by
themselves), with positive and negative generated data, as one of several authenticated roles,
against the seeded demo partnership. Path ids are often swapped for real demo ids and the
purpose for a real purpose code, so requests reach the decision and disclosure code rather than
stopping at 404 or 422. Every response must:

- not be a 5xx;
- conform to the documented status codes, content type, headers and response schema;
- disclose no case data the caller's protocol grants do not allow (an oracle computed here from
  the protocol files, independently of the decision engine; e.g. a housing officer never
  receives a substance_misuse entry);
- if it is a 2xx carrying subject data, have an audit event with its request id, committed
  before the response was returned.

CASESHARE_FUZZ_EXAMPLES sets the examples per operation and role (default small for `make
test`; `make reliability` raises it so the run totals well over 2,000 requests).
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select, text

from caseshare import create_app
from caseshare.audit.models import AuditEvent
from caseshare.identity import service as identity
from caseshare.policy.models import RESERVED_PURPOSES, ProtocolSet
from caseshare.runtime import Runtime
from tests.conftest import COACH, HOUSING, IG, KEY_WORKER, Clock, issue_token

EXAMPLES = int(os.environ.get("CASESHARE_FUZZ_EXAMPLES", "5"))
ROLES = {"work_coach": COACH, "housing_officer": HOUSING, "key_worker": KEY_WORKER, "ig": IG}
IDENTITY_FIELDS = ("given_name", "family_name", "date_of_birth", "nino")
# Results of the whole module, for the summary line (and docs/reliability.md).
TALLY: Counter[str] = Counter()


@pytest.fixture(scope="module")
def fuzz_app(templates: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> (
    Iterator[Flask]
):
    """One seeded SQLite app for the whole module: state built by earlier requests (new
    subjects, consents, withdrawals, erasures) stays, as it would in service."""
    tmp = tmp_path_factory.mktemp("fuzz")
    shutil.copy(templates["sqlite"], tmp / "caseshare.db")
    app = create_app({"instance_path": tmp / "instance",
                      "database_url": f"sqlite:///{tmp / 'caseshare.db'}",
                      "clock": Clock(), "ratelimit_default": "1000000 per minute",
                      "ratelimit_per_address": "1000000 per minute"})
    app.config["TESTING"] = True
    rt: Runtime = app.extensions["caseshare"]
    from caseshare.demo import seed

    with rt.session_factory() as s:
        lines = list(seed(s, rt))
    app.config["FUZZ_SUBJECTS"] = [line.split()[3] for line in lines
                                   if line.startswith("claimant:")]
    app.config["FUZZ_TOKENS"] = {role: issue_token(rt, email, ttl=86400)
                                 for role, email in ROLES.items()}
    with rt.session_factory() as s:
        app.config["FUZZ_STAFF"] = {
            role: _staff(s, email) for role, email in ROLES.items()}
    yield app
    rt.engine.dispose()
    print(f"\nfuzz summary: {dict(sorted(TALLY.items()))}")
    out = os.environ.get("CASESHARE_RELIABILITY_REPORT")
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        with Path(out).open("a") as f:
            f.write(json.dumps({"fuzz": {
                "requests": TALLY["requests"], "operations": TALLY["operations"] // 2,
                "2xx": TALLY["status_2xx"], "4xx": TALLY["status_4xx"], "5xx": TALLY["5xx"],
                "disclosures_checked": TALLY["disclosures_checked"],
                "by_operation": {k: v for k, v in TALLY.items() if k.startswith(
                    ("GET", "POST", "PATCH", "PUT", "DELETE"))}}}) + "\n")


def _staff(s: Any, email: str) -> tuple[str, list[str]]:
    staff = identity.get_staff_by_email(s, email)
    return staff.org_id, list(staff.roles)


def readable_categories(protocols: ProtocolSet, org: str, roles: list[str], purpose: str,
                        today: Any) -> set[str]:
    """The most any decision may disclose to this caller for this purpose: the union of the
    read grants of in-force protocols to which the organisation is an active party. The
    documented exception (API.md): IG officers read everything under the built-in `audit` and
    `subject_access` purposes."""
    if purpose in RESERVED_PURPOSES and "ig_officer" in roles:
        return set(protocols.categories)
    out: set[str] = set()
    for p in protocols.protocols:
        party = p.party(org)
        if not p.in_force(today) or party is None or party.status != "active":
            continue
        for g in p.grants:
            if org in g.parties and purpose in g.purposes and set(roles) & set(g.roles):
                out |= set(g.read)
    return out


def _entries(body: Any) -> Iterator[dict[str, Any]]:
    """Every case plan entry (or entry version) anywhere in a JSON body."""
    if isinstance(body, dict):
        if "category" in body and ("title" in body or "detail" in body):
            yield body
        for value in body.values():
            yield from _entries(value)
    elif isinstance(body, list):
        for value in body:
            yield from _entries(value)


def _subjects(body: Any) -> Iterator[dict[str, Any]]:
    if isinstance(body, dict):
        if any(k in body for k in IDENTITY_FIELDS) or "postcode" in body:
            yield body
        for value in body.values():
            yield from _subjects(value)
    elif isinstance(body, list):
        for value in body:
            yield from _subjects(value)


ID_TABLES = {"consent_id": "consents", "entry_id": "plan_entries", "referral_id": "referrals"}


def _steer(case: Any, data: Any, rt: Runtime, subjects: list[str], purposes: list[str]) -> None:
    """Mostly point the generated request at real data (demo subjects, existing consents,
    entries and referrals, a purpose the caller holds), so it gets past 404 and 422 and into
    the decision and disclosure code; the rest stays as generated."""
    real = st.sampled_from([True, True, True, False])
    for name in list(case.path_parameters or {}):
        if name == "subject_id" and data.draw(real, label="real subject"):
            case.path_parameters[name] = data.draw(st.sampled_from(subjects), label="subject")
        elif name in ID_TABLES and data.draw(real, label=f"real {name}"):
            with rt.engine.connect() as conn:
                ids = [str(uuid.UUID(str(r[0]))) for r in conn.execute(
                    text(f"SELECT id FROM {ID_TABLES[name]}"))]  # noqa: S608 (fixed names)
            if ids:
                case.path_parameters[name] = data.draw(st.sampled_from(ids), label=name)
    query = case.query if isinstance(case.query, dict) else None
    if query is not None and "purpose" in query and data.draw(real, label="real purpose"):
        query["purpose"] = data.draw(st.sampled_from(purposes), label="purpose")
    if query is not None and "subject_id" in query and data.draw(real):
        query["subject_id"] = data.draw(st.sampled_from(subjects))
    categories = st.sampled_from(sorted(rt.protocols.categories))
    if query is not None and "category" in query and data.draw(real):
        query["category"] = data.draw(categories, label="real category")
    bodies = [case.body] if isinstance(case.body, dict) else []
    if isinstance(case.body, dict) and isinstance(case.body.get("entries"), list):
        bodies += [e for e in case.body["entries"] if isinstance(e, dict)]
    for body in bodies:
        if "category" in body and data.draw(real, label="real body category"):
            body["category"] = data.draw(categories, label="body category")


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
                         ids=["positive", "negative"])
def test_fuzz_every_operation(fuzz_app: Flask, mode: GenerationMode) -> None:
    api = schemathesis.openapi.from_wsgi("/openapi.json", fuzz_app)
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) >= 20, "the OpenAPI document lost its operations"
    before = TALLY["requests"]
    for operation in operations:
        TALLY["operations"] += 1

        @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        def one(case: Any, data: Any) -> None:
            check_one(fuzz_app, case, data)

        try:
            one()
        except Unsatisfiable:
            # Nothing to negate (e.g. an operation without parameters or body).
            assert mode is GenerationMode.NEGATIVE, operation.label
            TALLY["operations_without_negative_cases"] += 1
    assert TALLY["requests"] - before >= len(operations) * min(EXAMPLES, 2)


def check_one(fuzz_app: Flask, case: Any, data: Any) -> None:
    rt: Runtime = fuzz_app.extensions["caseshare"]
    role = data.draw(st.sampled_from(sorted(ROLES)), label="role")
    org, roles = fuzz_app.config["FUZZ_STAFF"][role]
    _steer(case, data, rt, fuzz_app.config["FUZZ_SUBJECTS"],
           sorted(identity.purposes_for(rt.protocols, org, roles)))
    request_id = f"fuzz-{uuid.uuid4().hex}"
    headers = {"Authorization": f"Bearer {fuzz_app.config['FUZZ_TOKENS'][role]}",
               "X-Request-ID": request_id}
    TALLY["requests"] += 1
    response = case.call(headers=headers)
    TALLY[f"status_{response.status_code // 100}xx"] += 1
    TALLY[f"{case.method} {case.path} {response.status_code}"] += 1
    if response.status_code >= 500:
        TALLY["5xx"] += 1
    case.validate_response(
        response, headers=headers,
        checks=[not_a_server_error, status_code_conformance, content_type_conformance,
                response_headers_conformance, response_schema_conformance])
    if not 200 <= response.status_code < 300:
        return
    if case.path.rstrip("/").endswith("/services"):
        return  # the service directory: organisations' addresses, no claimant data (unaudited)
    content_type = " ".join(response.headers.get("content-type", []))
    body = response.json() if "json" in content_type else None
    purpose = (case.query or {}).get("purpose", "") if isinstance(case.query, dict) else ""
    allowed = readable_categories(rt.protocols, org, roles, str(purpose), rt.now().date())
    disclosed = False
    for entry in _entries(body):
        disclosed = True
        assert entry["category"] in allowed, (role, purpose, entry["category"], case.path)
        if role == "housing_officer":
            assert entry["category"] != "substance_misuse"
    for subject in _subjects(body):
        disclosed = True
        if any(k in subject for k in IDENTITY_FIELDS):
            assert "identity" in allowed, (role, purpose, case.path)
        if "postcode" in subject:
            assert "contact" in allowed, (role, purpose, case.path)
    if disclosed:
        TALLY["disclosures_checked"] += 1
        with rt.session_factory() as s:
            events = s.scalars(select(AuditEvent).where(
                AuditEvent.request_id == request_id)).all()
        assert any(e.decision == "allow" for e in events), (
            f"disclosed without audit: {case.method} {case.path}")
