"""Find a claimant, and the claimant overview: identity, consent at a glance, the shared plan
with each withheld category explained in plain English."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import request
from marshmallow import ValidationError as MarshmallowValidationError

from caseshare.access import pipeline, records
from caseshare.consent.models import Consent
from caseshare.errors import NotFoundError
from caseshare.schemas.subject import NINO
from caseshare.web.blueprint import bp, context, page, user
from caseshare.web.explanations import Explanation, explain
from caseshare.web.filters import category_name, purpose_name

EXPIRING_SOON = timedelta(days=30)
LIVE_STATUSES = frozenset({"active", "partially_withdrawn", "unverified"})


@bp.route("/", methods=["GET"])
def home() -> tuple[str, int]:
    nino = request.args.get("nino", "").strip()
    if "nino" not in request.args:
        return page("find.html", nino="", errors={}, results=None)
    if not valid_nino(nino):
        return page("find.html", 422, nino=nino, results=None, errors={
            "nino": "Enter a National Insurance number in the correct format, like QQ 12 34 56 C"})
    ctx = context("subjects:read")
    found = records.find_by_nino(ctx, nino)
    results = []
    for subject in found:
        _s, identity, _withheld = records.read_subject(context("subjects:read"), subject.id)
        results.append({"id": subject.id, "identity": identity})
    return page("find.html", nino=nino, errors={}, results=results)


def valid_nino(value: str) -> bool:
    try:
        NINO(value)
    except MarshmallowValidationError:
        return False
    return True


@dataclass(frozen=True)
class ConsentRow:
    consent: Consent
    status: str
    expiring_soon: bool
    withdrawn_scope: list[dict[str, list[str]]]


@dataclass(frozen=True)
class Withheld:
    category: str
    explanations: list[Explanation]


@bp.route("/claimants/<uuid:subject_id>", methods=["GET"])
def overview(subject_id: uuid.UUID) -> tuple[str, int]:
    u = user()
    _subject, identity, _withheld_identity = records.read_subject(context("subjects:read"),
                                                                   subject_id)
    ctx = context("consents:read")
    consents = [consent_row(c, ws, status, ctx.now)
                for c, ws, status in records.list_consents(ctx, subject_id)]
    plan: dict[str, Any] | None = None
    try:
        plan_row, disclosure, _etag = pipeline.read_case_plan(context("case_plans:read"),
                                                              subject_id)
    except NotFoundError:
        withheld: list[Withheld] = []
    else:
        plan = {"lead_org": plan_row.lead_org_id,
                "entries": sorted(disclosure.items, key=lambda e: (e["owner_org"], str(e["id"])))}
        withheld = [explain_withheld(w["category"], w["reasons"], u.org_name, u.purpose or "")
                    for w in disclosure.withheld]
    return page("overview.html", subject_id=subject_id, identity=identity, consents=consents,
                plan=plan, withheld=withheld)


def consent_row(consent: Consent, withdrawals: list[Any], status: str,
                now: datetime) -> ConsentRow:
    soon = status in LIVE_STATUSES and consent.expires_at - now <= EXPIRING_SOON
    return ConsentRow(consent=consent, status=status, expiring_soon=soon,
                      withdrawn_scope=[w.scope for w in withdrawals])


def explain_withheld(category: str, reasons: list[str], org: str, purpose: str) -> Withheld:
    names = {"org": org, "category": category_name(category),
             "purpose": purpose_name(purpose).lower()}
    return Withheld(category=category,
                    explanations=[explain(r, **names) for r in reasons]
                    or [explain("", **names)])


