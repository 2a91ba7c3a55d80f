"""Record an assessment from check-your-answers, show its explained result, accept its
proposals, and the claimant's assessment history with a chart of domain scores over time.

Everything shown comes from `caseshare.access.assessments` (the same use cases as the API), so
a page shows only the answers, scores and flags the decision lets this user read; what is
withheld is named by category with the reason, as on the plan. A proposal is offered with an
"Accept" button only when the decision allows it; a refused one says why in plain words and
what to do next. These are staff pages, in English; the answers are quoted in the language the
claimant answered in, marked with that language.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import redirect, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from caseshare.access import assessments as cases
from caseshare.assessments.forms import AssessmentForm
from caseshare.directory import taxonomy
from caseshare.errors import ConflictError, ForbiddenError, ValidationError
from caseshare.uk_time import UK
from caseshare.web import assessment_answers as answers_
from caseshare.web import assessments as pages
from caseshare.web import forms
from caseshare.web.assessment_answers import Draft
from caseshare.web.assessment_charts import score_chart
from caseshare.web.blueprint import bp, page, run, runtime, user
from caseshare.web.explanations import Explanation, explain
from caseshare.web.filters import category_name, org_name, purpose_name
from caseshare.web.i18n import use_language

# The "harder to help" flags in plain words (the trialling menu's groups).
FLAG_WORDS = {
    "mental_health": "Their mental health makes day-to-day life harder",
    "learning_difficulty": "They have a learning difficulty",
    "drug_alcohol_dependency": "Drugs or alcohol make day-to-day life harder",
    "domestic_abuse": "They are affected by domestic abuse",
    "care_leaver": "They grew up in care (care leaver)",
    "homelessness": "They have no fixed address (homelessness)",
}


def record(subject_id: uuid.UUID, draft: Draft, form: AssessmentForm) -> BaseResponse | tuple[
        str, int]:
    """Check your answers, submitted: the short-text answers typed here join the draft's, the
    use case records and scores them, and the result page follows. Errors and refusals keep
    everything (the draft stays until the assessment is recorded)."""
    use_language(draft.lang)  # the errors are in the claimant's language
    text = {q.id: forms.text(request.form, q.id) for q in form.questions
            if q.type == "short_text"}
    given = {**draft.answers, **{k: v for k, v in text.items() if v}}
    problems = answers_.check_all(form, given)
    if problems:
        return pages.check_page(subject_id, draft, form, 422, text=text, answer_errors=problems)
    try:
        recorded = run(pages.WRITE_SCOPE, cases.record_assessment, subject_id, form.id,
                       form.version, draft.lang, given)
    except ValidationError as exc:
        found = answers_.check_all(form, given) or {
            q.id: answers_.problem(q, given.get(q.id), exc.extra["errors"]) or ""
            for q in form.questions if f"answers.{q.id}" in exc.extra["errors"]}
        return pages.check_page(subject_id, draft, form, 422, text=text, answer_errors=found)
    except ForbiddenError as exc:
        return pages.check_page(subject_id, draft, form, 403, text=text,
                                refused=_explained(exc.extra.get("reasons") or [],
                                                   "these answers"))
    pages.forget_draft()
    return redirect(url_for("web.assessment_result", subject_id=subject_id,
                            assessment_id=_get(recorded, "id")))


def _get(item: Any, name: str, default: Any = None) -> Any:
    """A member of a use case's result, whether it is a mapping or an object."""
    if isinstance(item, dict):
        return item.get(name, default)
    return getattr(item, name, default)


def _explained(reasons: list[str] | tuple[str, ...], category: str, org: str | None = None,
               purpose: str | None = None) -> list[Explanation]:
    """Reason codes in plain words; `org` and `purpose` default to the user's own (a refused
    referral names the receiving organisation and the referral's purpose instead)."""
    u = user()
    names = {"org": org or u.org_name, "category": category,
             "purpose": purpose_name(purpose or u.purpose).lower()}
    return [explain(r, **names) for r in reasons] or [explain("", **names)]


def _uk_date(moment: datetime) -> date:
    """The UK calendar date of a moment (a naive one is taken as UTC)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UK).date()


def _history(subject_id: uuid.UUID) -> list[Any]:
    """The claimant's assessments, oldest first."""
    items = list(run(pages.READ_SCOPE, cases.list_assessments, subject_id))
    return sorted(items, key=lambda a: str(_get(a, "completed_at")))


def _moment(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def _review_on(item: Any, form: AssessmentForm | None) -> date | None:
    given = _get(item, "review_on")
    if given:
        return given if isinstance(given, date) else date.fromisoformat(str(given))
    level = next((lv for lv in (form.levels if form else ())
                  if lv.code == _get(item, "level")), None)
    return (_uk_date(_moment(_get(item, "completed_at"))) + timedelta(days=level.review_days)
            if level else None)


def _domains(item: Any, form: AssessmentForm | None, lang: str) -> list[dict[str, Any]]:
    """Each domain's score with the answers that produced it (only those readable)."""
    scores: dict[str, Any] = _get(item, "scores") or {}
    explanations: dict[str, Any] = _get(item, "explanations") or {}
    answers: dict[str, Any] = _get(item, "answers") or {}
    out = []
    for domain in (form.domains if form else ()):
        produced = []
        for question_id in explanations.get(domain.code) or ():
            question = form.question(question_id) if form else None
            if question is None:
                continue
            value = answers.get(question_id)
            produced.append({"question": answers_.words(question.text, lang),
                             "answer": answers_.shown(question, value, lang),
                             "category": question.category, "readable": question_id in answers})
        out.append({"code": domain.code, "title": domain.title.get("en", domain.code),
                    "score": scores.get(domain.code), "produced": produced})
    return out


def _proposals(item: Any, form: AssessmentForm | None) -> list[dict[str, Any]]:
    """The proposals for the page: allowed ones to accept, refused ones explained (the reason
    codes in plain words, and the use case's next step)."""
    out = []
    for p in _get(item, "proposals") or []:
        need = next((n for n in (form.needs if form else ()) if n.id == _get(p, "id")), None)
        allowed, to_org = bool(_get(p, "allowed")), _get(p, "to_org")
        category = _get(p, "category")
        about = category_name(category) if category else "their information"
        out.append({"id": _get(p, "id"), "kind": _get(p, "kind"), "allowed": allowed,
                    "title": need.proposal.title.get("en") if need else _get(p, "title"),
                    "service_line": taxonomy.label(_get(p, "service_line") or ""),
                    "to_org": to_org, "service_name": _get(p, "service_name"),
                    "accepted": bool(_get(p, "accepted")),
                    "explained": [] if allowed else _explained(
                        list(_get(p, "reasons") or []), about,
                        org=org_name(to_org) if to_org else None,
                        purpose=_get(p, "purpose")),
                    "next_step": _get(p, "next_step")})
    return out


def _result_view(subject_id: uuid.UUID, item: Any) -> dict[str, Any]:
    form = runtime().assessment_forms.get(_get(item, "form_id"), int(_get(item, "form_version")))
    lang = _get(item, "language") or "en"
    return {"item": item, "id": _get(item, "id"), "form": form, "lang": lang,
            "completed_at": _moment(_get(item, "completed_at")),
            "level": next((lv.title["en"] for lv in (form.levels if form else ())
                           if lv.code == _get(item, "level")), _get(item, "level")),
            "review_on": _review_on(item, form),
            "flags": [FLAG_WORDS.get(f, f) for f in _get(item, "flags") or []],
            "domains": _domains(item, form, lang), "proposals": _proposals(item, form),
            "withheld": [{"category": category_name(_get(w, "category")),
                          "explained": _explained(list(_get(w, "reasons") or []),
                                                  category_name(_get(w, "category")))}
                         for w in _get(item, "withheld") or []]}


@bp.route("/claimants/<uuid:subject_id>/assessments/<uuid:assessment_id>", methods=["GET"])
def assessment_result(subject_id: uuid.UUID, assessment_id: uuid.UUID) -> tuple[str, int]:
    """The explained result: scores and what produced them, level, flags, review date and the
    proposals the claimant's consent allows."""
    return _result_page(subject_id, assessment_id)


def _result_page(subject_id: uuid.UUID, assessment_id: uuid.UUID, status: int = 200,
                 refused: dict[str, Any] | None = None) -> tuple[str, int]:
    item = run(pages.READ_SCOPE, cases.get_assessment, subject_id, assessment_id)
    accepted = {"proposal": request.args.get("accepted"), "made": request.args.get("made")}
    return page("assessments/result.html", status, subject_id=subject_id,
                view=_result_view(subject_id, item), refused=refused,
                accepted=accepted if accepted["proposal"] else None,
                already=request.args.get("already"),
                can_accept=user().purpose == pages.PURPOSE)


@bp.route("/claimants/<uuid:subject_id>/assessments/<uuid:assessment_id>/proposals/"
          "<proposal_id>/accept", methods=["POST"])
def accept_proposal(subject_id: uuid.UUID, assessment_id: uuid.UUID,
                    proposal_id: str) -> BaseResponse | tuple[str, int]:
    """Accept one proposal: the plan action or referral is created, audited, and the result
    page says so with a link. A refusal re-renders the result with the reasons."""
    try:
        created = run(pages.WRITE_SCOPE, cases.accept_proposal, subject_id, assessment_id,
                      proposal_id)
    except ForbiddenError as exc:
        return _result_page(subject_id, assessment_id, 403, refused={
            "proposal": proposal_id,
            "explained": _explained(exc.extra.get("reasons") or [], "this information")})
    except ConflictError:
        # Accepted already (another tab, a colleague, a double click): say so on the result.
        return redirect(url_for("web.assessment_result", subject_id=subject_id,
                                assessment_id=assessment_id, already=proposal_id)
                        + "#proposals")
    return redirect(url_for("web.assessment_result", subject_id=subject_id,
                            assessment_id=assessment_id, accepted=proposal_id,
                            made=_get(created, "kind")) + "#proposals")


@bp.route("/claimants/<uuid:subject_id>/assessments", methods=["GET"])
def assessment_history(subject_id: uuid.UUID) -> tuple[str, int]:
    """Every assessment, what changed since the one before, and the scores over time."""
    items = _history(subject_id)
    views = [_result_view(subject_id, a) for a in items]
    rows = []
    for i, v in enumerate(views):
        before = views[i - 1] if i else None
        changes: dict[str, float] = _get(items[i], "changes") or {}
        rows.append({"view": v, "changes": [
            {"title": d["title"], "score": d["score"],
             "delta": changes.get(d["code"]) if before else None} for d in v["domains"]]})
    codes = [(d["code"], d["title"]) for d in views[-1]["domains"]] if views else []
    chart = score_chart([v["completed_at"].date() for v in views],
                        [(title, [_score(v, code) for v in views]) for code, title in codes])
    return page("assessments/history.html", subject_id=subject_id, rows=rows, codes=codes,
                chart=chart if views else None,
                can_start=user().purpose == pages.PURPOSE)


def _score(view: dict[str, Any], code: str) -> float | None:
    return next((d["score"] for d in view["domains"] if d["code"] == code), None)
