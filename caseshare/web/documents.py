"""Papers for the claimant, printable and in English or Welsh: the consent receipt, a copy of
their plan, and "who has seen my information". The staff page around them stays in English;
the document itself carries its own language (catalogue: translations/, see i18n.py)."""

from __future__ import annotations

import uuid
from itertools import groupby
from typing import Any

from flask import request

from caseshare.access import case_plans, consents, subjects, who_has_seen
from caseshare.consent import receipt
from caseshare.errors import NotFoundError
from caseshare.retention.schedule import DEFAULT_RETENTION_DAYS
from caseshare.web.blueprint import bp, page, run, runtime, unit_of_work, user
from caseshare.web.claimant_words import say
from caseshare.web.i18n import use_language

# Entry kinds on the claimant's copy of the plan: notes are the organisations' working notes
# to one another, not something agreed with the claimant.
COPY_KINDS = ("goal", "action")


@bp.app_template_global("say")
def _say(kind: str, code: str | None) -> str:
    return say(kind, code)


def _name(subject_id: uuid.UUID) -> str:
    """The claimant's name as the caller may read it (audited by the use case), or ''."""
    _s, identity, _w = run("subjects:read", subjects.read_subject, subject_id)
    return " ".join(p for p in (identity.get("given_name"), identity.get("family_name")) if p)


@bp.route("/claimants/<uuid:subject_id>/consents/<uuid:consent_id>/receipt", methods=["GET"])
def consent_receipt(subject_id: uuid.UUID, consent_id: uuid.UUID) -> tuple[str, int]:
    """The receipt: the claimant's name, then each organisation with what it still receives and
    why and how to reach it, what was withdrawn and when, and a verification line at the end."""
    with unit_of_work("consents:read") as ctx:
        consent, form = consents.export_consent(ctx, consent_id, "receipt")
    if consent.subject_id != subject_id:
        raise NotFoundError("No such consent.")
    lang = use_language(request.args.get("lang") or consent.language)
    data = receipt.receipt(consent, form, ctx.protocols,
                           default_retention_days=DEFAULT_RETENTION_DAYS)
    title = (form.text[lang]["title"] if form and lang in form.text else None)
    sensitive = {c["category"] for c in data["pii_categories"] if c["sensitive"]}
    return page("receipt.html", subject_id=subject_id, r=data, lang=lang, notice_title=title,
                consent=consent, name=_name(subject_id), sensitive=sensitive)


@bp.route("/claimants/<uuid:subject_id>/plan/copy", methods=["GET"])
def plan_copy(subject_id: uuid.UUID) -> tuple[str, int]:
    """A printable copy of the plan for the claimant: the goals and actions the caller may
    read (through the audited plan read, under the caller's decision), grouped by
    organisation, with due dates and status; it says other organisations may hold more."""
    lang = use_language(request.args.get("lang", "en"))
    _plan, disclosure, _etag = run("case_plans:read", case_plans.read_case_plan, subject_id)
    return page("plan_copy.html", subject_id=subject_id, lang=lang, name=_name(subject_id),
                groups=_by_organisation(disclosure.items), today=runtime().now(),
                org=user().principal.org)


def _by_organisation(items: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Goals and actions by owning organisation; in each, dated ones first by due date."""
    shown = sorted((e for e in items if e["kind"] in COPY_KINDS),
                   key=lambda e: (e["owner_org"], e["due_on"] is None, e["due_on"] or "",
                                  e["kind"] != "goal", e["title"]))
    return [(org, list(entries)) for org, entries in groupby(shown, key=lambda e: e["owner_org"])]


@bp.route("/claimants/<uuid:subject_id>/who-has-seen", methods=["GET"])
def who_has_seen_report(subject_id: uuid.UUID) -> tuple[str, int]:
    lang = use_language(request.args.get("lang", "en"))
    report = run("subjects:read", who_has_seen.who_has_seen, subject_id, language=lang)
    _s, identity, _w = run("subjects:read", subjects.read_subject, subject_id)
    return page("who_has_seen.html", subject_id=subject_id, report=report, lang=lang,
                identity=identity)
