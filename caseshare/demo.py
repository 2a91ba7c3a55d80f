"""The demo partnership in Derby (an LSSF trial area): Jobcentre Plus, the city council's
housing service, a drug and alcohol treatment provider and Citizens Advice, around two claimants.

Everything goes through the same access path as the API, so the demo leaves a real audit log.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, timedelta

from sqlalchemy.orm import Session

from caseshare.access import pipeline, records
from caseshare.access.context import RequestContext
from caseshare.access.decision import Principal
from caseshare.crypto.sealing import blind_index
from caseshare.identity import passwords
from caseshare.identity import service as identity
from caseshare.identity.models import StaffMember
from caseshare.runtime import Runtime
from caseshare.subjects.models import Subject

STAFF = [
    ("sam.okafor@jcp-derby.example", "Sam Okafor", "jcp-derby", ["work_coach"]),
    ("priya.sharma@derby-housing.example", "Priya Sharma", "derby-housing", ["housing_officer"]),
    ("dan.whitfield@recovery-partnership.example", "Dan Whitfield", "recovery-partnership",
     ["key_worker"]),
    ("aisha.begum@ca-derby.example", "Aisha Begum", "ca-derby", ["adviser"]),
    ("grace.hughes@derby-housing.example", "Grace Hughes", "derby-housing", ["ig_officer"]),
]
DEMO_CLIENT = ("recovery-cms", "Recovery Partnership case system", "recovery-partnership",
               ["key_worker"])
FORM = ("derby-multi-agency", 1)
# Demo only: production refuses to seed demo data (see config.py).
DEMO_PASSWORD = "demo-password-2026"  # noqa: S105


def _ctx(s: Session, runtime: Runtime, staff: StaffMember, purpose: str) -> RequestContext:
    principal = Principal(
        actor_id=str(staff.id), actor_type="staff", org=staff.org_id,
        roles=frozenset(staff.roles), scopes=frozenset(identity.scopes_for(staff.roles)),
        purposes=frozenset(identity.purposes_for(runtime.protocols, staff.org_id, staff.roles)),
    )
    return RequestContext(session=s, principal=principal, purpose=purpose,
                          protocols=runtime.protocols, forms=runtime.forms,
                          keyring=runtime.keyring, now=runtime.now(),
                          request_id=f"seed-{uuid.uuid4().hex[:12]}")


def seed(s: Session, runtime: Runtime) -> Iterator[str]:
    now = runtime.now()
    staff = {}
    for email, name, org, roles in STAFF:
        staff[email.split("@")[0]] = identity.add_or_update_staff(
            s, protocols=runtime.protocols, email=email, name=name, org=org, roles=roles, now=now)
    for member in staff.values():
        if member.password_hash is None and not runtime.settings.production:
            passwords.set_password(member, DEMO_PASSWORD)
    s.commit()
    yield f"staff: {len(staff)} demo staff members (sign-in password: {DEMO_PASSWORD})"
    client_id, client_name, client_org, client_roles = DEMO_CLIENT
    from caseshare.identity.models import OAuthClient

    if s.get(OAuthClient, client_id) is None:
        _client, secret = identity.add_client(
            s, protocols=runtime.protocols, client_id=client_id, name=client_name,
            org=client_org, roles=client_roles, now=now)
        s.commit()
        yield f"partner client: {client_id} secret (shown once): {secret}"

    coach, housing = staff["sam.okafor"], staff["priya.sharma"]
    key_worker, adviser = staff["dan.whitfield"], staff["aisha.begum"]
    index = blind_index(runtime.keyring.blind_index_key(), "QQ123456C")
    if s.query(Subject).filter_by(nino_index=index).first() is not None:
        yield "claimants: already seeded"
        return

    # Claimant 1: alcohol treatment and rent arrears; broad explicit consent.
    ctx = _ctx(s, runtime, coach, "case_management")
    lee, _ = records.register_subject(ctx, {
        "given_name": "Lee", "family_name": "Marsh", "date_of_birth": "1987-03-14",
        "nino": "QQ123456C", "postcode": "DE1 2AA"}, "england")
    records.record_consent(_ctx(s, runtime, coach, "case_management"), lee.id, {
        "form_id": FORM[0], "form_version": FORM[1], "language": "en",
        "given_by": {"type": "self"},
        "recipients": ["jcp-derby", "recovery-partnership", "derby-housing"],
        "purposes": ["case_management", "recovery_support", "tenancy_sustainment"],
        "categories": ["identity", "contact", "employment", "housing_tenancy", "finances",
                       "substance_misuse"],
        "explicit_statement": "I explicitly agree that my treatment information may be shared "
                              "with the organisations I have chosen.",
        "method": "e_signature", "evidence_ref": "DOC-2026-0412",
        "expires_at": now + timedelta(days=180)})
    from caseshare.subjects.service import add_case_member

    for org in ("recovery-partnership", "derby-housing"):
        add_case_member(s, subject_id=lee.id, org=org, now=now)
    s.commit()
    pipeline.create_case_plan(_ctx(s, runtime, coach, "case_management"), lee.id, [
        {"kind": "goal", "category": "employment", "title": "Ready for a work placement by spring",
         "owner_name": "Sam Okafor"},
        {"kind": "action", "category": "employment", "title": "Update CV with work coach",
         "due_on": date(2026, 12, 10), "owner_name": "Sam Okafor"},
    ])
    pipeline.add_plan_entry(_ctx(s, runtime, key_worker, "case_management"), lee.id, {
        "kind": "action", "category": "substance_misuse",
        "title": "Attend weekly alcohol recovery group",
        "detail": "Tuesday group at the Bridge Street hub; prescribing review in January.",
        "owner_name": "Dan Whitfield", "due_on": date(2026, 12, 1), "status": "in_progress"})
    pipeline.add_plan_entry(_ctx(s, runtime, housing, "tenancy_sustainment"), lee.id, {
        "kind": "action", "category": "housing_tenancy",
        "title": "Agree a rent arrears repayment plan",
        "detail": "Arrears of four weeks; consider an Alternative Payment Arrangement.",
        "owner_name": "Priya Sharma", "due_on": date(2026, 12, 5)})
    yield f"claimant: Lee Marsh {lee.id} (broad explicit consent, shared plan)"

    # Claimant 2: budgeting support only; narrower consent given by phone with evidence.
    ctx = _ctx(s, runtime, coach, "case_management")
    kerry, _ = records.register_subject(ctx, {
        "given_name": "Kerry", "family_name": "Dunn", "date_of_birth": "1992-11-02",
        "nino": "QQ654321A", "postcode": "DE22 3QR"}, "england")
    records.record_consent(_ctx(s, runtime, coach, "case_management"), kerry.id, {
        "form_id": FORM[0], "form_version": FORM[1], "language": "en",
        "given_by": {"type": "self"}, "recipients": ["jcp-derby", "ca-derby"],
        "purposes": ["case_management", "budgeting_support"],
        "categories": ["identity", "contact", "finances", "housing_tenancy"],
        "method": "verbal_phone", "evidence_ref": "CALL-2026-11-20-0931",
        "expires_at": now + timedelta(days=20)})
    add_case_member(s, subject_id=kerry.id, org="ca-derby", now=now)
    s.commit()
    pipeline.create_case_plan(_ctx(s, runtime, adviser, "budgeting_support"), kerry.id, [
        {"kind": "action", "category": "finances",
         "title": "Personal budgeting support: monthly budget",
         "detail": "Set up a monthly budget around the UC payment date.",
         "owner_name": "Aisha Begum", "due_on": date(2026, 12, 8)},
    ])
    yield f"claimant: Kerry Dunn {kerry.id} (narrow consent expiring in 20 days)"

    # Claimant 3: a proxy consent (her DWP appointee), narrowed by a partial withdrawal, and due
    # to expire at the end of the next assessment period, so it shows in the renewal list.
    ctx = _ctx(s, runtime, coach, "case_management")
    rhian, _ = records.register_subject(ctx, {
        "given_name": "Rhian", "family_name": "Price", "date_of_birth": "1979-06-21",
        "nino": "QQ246810B", "postcode": "DE23 6LP"}, "england")
    proxy, _ws, _status = records.record_consent(
        _ctx(s, runtime, coach, "case_management"), rhian.id, {
            "form_id": FORM[0], "form_version": FORM[1], "language": "en",
            "given_by": {"type": "dwp_appointee", "name": "Gwen Price",
                         "authority_ref": "BF56-2026-0345"},
            "recipients": ["jcp-derby", "derby-housing", "ca-derby"],
            "purposes": ["case_management", "tenancy_sustainment", "budgeting_support"],
            "categories": ["identity", "contact", "finances", "housing_tenancy"],
            "method": "wet_signature", "evidence_ref": "SCAN-2026-11-0077",
            "expiry_rule": "assessment_period_end", "expires_at": now + timedelta(days=26)})
    for org in ("derby-housing", "ca-derby"):
        add_case_member(s, subject_id=rhian.id, org=org, now=now)
    s.commit()
    records.withdraw_consent(_ctx(s, runtime, coach, "case_management"), proxy.id, {
        "channel": "in_person", "scope": {"recipients": ["ca-derby"]},
        "reason": "Appointee now manages the budget with the claimant directly"})
    yield (f"claimant: Rhian Price {rhian.id} (appointee consent, Citizens Advice withdrawn, "
           f"expiring in 26 days)")
