"""Papers for the claimant, printable and in English or Welsh: the consent receipt, and "who
has seen my information". The staff page around them stays in English; the document itself
carries its own language (catalogue: translations/, see i18n.py)."""

from __future__ import annotations

import uuid

from flask import request

from caseshare.access import consents, subjects, who_has_seen
from caseshare.consent import receipt
from caseshare.errors import NotFoundError
from caseshare.web.blueprint import bp, page, run, unit_of_work
from caseshare.web.claimant_words import say
from caseshare.web.i18n import use_language


@bp.app_template_global("say")
def _say(kind: str, code: str | None) -> str:
    return say(kind, code)


@bp.route("/claimants/<uuid:subject_id>/consents/<uuid:consent_id>/receipt", methods=["GET"])
def consent_receipt(subject_id: uuid.UUID, consent_id: uuid.UUID) -> tuple[str, int]:
    with unit_of_work("consents:read") as ctx:
        consent, form = consents.export_consent(ctx, consent_id, "receipt")
    if consent.subject_id != subject_id:
        raise NotFoundError("No such consent.")
    lang = use_language(request.args.get("lang") or consent.language)
    data = receipt.receipt(consent, form, ctx.protocols)
    title = (form.text[lang]["title"] if form and lang in form.text else None)
    return page("receipt.html", subject_id=subject_id, r=data, lang=lang, notice_title=title,
                consent=consent)


@bp.route("/claimants/<uuid:subject_id>/who-has-seen", methods=["GET"])
def who_has_seen_report(subject_id: uuid.UUID) -> tuple[str, int]:
    lang = use_language(request.args.get("lang", "en"))
    report = run("subjects:read", who_has_seen.who_has_seen, subject_id, language=lang)
    _s, identity, _w = run("subjects:read", subjects.read_subject, subject_id)
    return page("who_has_seen.html", subject_id=subject_id, report=report, lang=lang,
                identity=identity)
