"""Shared steps for the assessment tests: a use case run as a demo staff member, a triage
consent on the new consent form version, and answers that raise every need."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from caseshare.access import consents
from caseshare.access.context import RequestContext
from caseshare.demo import _ctx
from caseshare.identity.service import get_staff_by_email
from caseshare.runtime import Runtime

T = TypeVar("T")
FORM = ("derby-budgeting-digital-triage", 1)
# Every need of the triage form, and the flag drug_alcohol_dependency.
HIGH_NEED: dict[str, Any] = {
    "manage_money": "struggle", "bank_account": "no", "priority_debts": ["rent"],
    "get_online": "never", "online_forms": "no", "housing_situation": "private_rent",
    "rent_arrears_weeks": 6, "work": "not_ready", "health_affects": ["drug_alcohol"],
}
LOW_NEED: dict[str, Any] = {
    "manage_money": "sometimes", "bank_account": "yes", "get_online": "phone_only",
    "online_forms": "with_help", "housing_situation": "private_rent", "work": "looking",
}
ALL_TRIAGE = ["identity", "contact", "finances", "housing_tenancy", "employment",
              "digital_capability", "health_wellbeing"]


def run(rt: Runtime, email: str, purpose: str, use_case: Callable[..., T], *args: Any) -> T:
    """Run one use case as `email` for `purpose`, committed as a request's unit of work."""
    with rt.session_factory() as s:
        ctx: RequestContext = _ctx(s, rt, get_staff_by_email(s, email), purpose)
        with ctx:
            return use_case(ctx, *args)


def triage_consent(rt: Runtime, email: str, subject: uuid.UUID, recipients: list[str],
                   purposes: list[str], categories: list[str] = ALL_TRIAGE) -> Any:
    """A consent on derby-multi-agency v2 (explicit where it covers health)."""
    form = rt.forms.get("derby-multi-agency", 2)
    assert form is not None
    values: dict[str, Any] = {
        "form_id": "derby-multi-agency", "form_version": 2, "language": "en",
        "given_by": {"type": "self"}, "recipients": recipients, "purposes": purposes,
        "categories": categories, "method": "e_signature", "evidence_ref": "DOC-2026-0001",
        "expires_at": rt.now() + timedelta(days=90)}
    if "health_wellbeing" in categories:
        values["explicit_statement"] = form.text["en"]["explicit_statement"]
    return run(rt, email, "case_management", consents.record_consent, subject, values)
