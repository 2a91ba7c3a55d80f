"""Assess a claimant's needs (triage): choose the form and the language the claimant answers in,
then one question per page, then check your answers. Recording the assessment, the explained
result, accepting proposals and the history are in `assessment_results.py`.

One question per page (the GOV.UK "one thing per page" pattern) rather than one page per
domain: a triage is read out to the claimant, often by phone, one question at a time; each page
has one heading to read, one answer to give and one error to fix, and stays short at 320 px.

The questions, hints and options are the form's own words in the chosen language (the wording
the claimant answered is versioned with the form); the page furniture around them (buttons,
"Back", error messages) comes from the gettext catalogue, so a Welsh assessment is Welsh
throughout. The staff page around it (navigation, who is signed in) stays English.

Assessments are made for the `triage` purpose: a staff member working for another purpose is
told so, with the way to change it, before anything is asked.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app, redirect, request, url_for
from flask import session as cookie
from werkzeug.wrappers import Response as BaseResponse

from caseshare.access import assessments as cases
from caseshare.assessments.forms import AssessmentForm, Question
from caseshare.errors import NotFoundError
from caseshare.web import assessment_answers as answers_
from caseshare.web import forms, sealed_drafts
from caseshare.web.assessment_answers import DRAFT, Draft
from caseshare.web.blueprint import bp, page, require, run, runtime, user
from caseshare.web.i18n import LANGUAGES, use_language

PURPOSE = "triage"
READ_SCOPE = "case_plans:read"
WRITE_SCOPE = "case_plans:write"


def form_for(draft: Draft) -> AssessmentForm:
    form = runtime().assessment_forms.get(draft.form_id, draft.version)
    if form is None:
        raise NotFoundError("No such assessment form.")
    return form


def asked(form: AssessmentForm) -> list[Question]:
    """The questions that get a page of their own (short text waits for the check page)."""
    return [q for q in form.questions if q.type != "short_text"]


def current_draft(subject_id: uuid.UUID) -> Draft | None:
    """The draft for this claimant, if the cookie holds one sealed for this user and claimant
    (`sealed_drafts`)."""
    opened = sealed_drafts.unseal(cookie.get(DRAFT), secret=current_app.secret_key or b"",
                                  staff_id=str(user().staff.id), subject_id=str(subject_id))
    return answers_.draft_from(opened, str(subject_id))


def save_draft(draft: Draft) -> None:
    """Keep the draft in the session cookie as ciphertext only."""
    cookie[DRAFT] = sealed_drafts.seal(draft.stored(), secret=current_app.secret_key or b"",
                                       staff_id=str(user().staff.id), subject_id=draft.subject)


def forget_draft() -> None:
    cookie.pop(DRAFT, None)


def wrong_purpose() -> tuple[str, int] | None:
    """The page that says assessments are for triage, when the user works for another purpose."""
    if user().purpose == PURPOSE:
        return None
    offered = PURPOSE in (user().principal.purposes or ())
    return page("assessments/wrong_purpose.html", 403, offered=offered)


@bp.route("/claimants/<uuid:subject_id>/assessments/new", methods=["GET", "POST"])
def new_assessment(subject_id: uuid.UUID) -> BaseResponse | tuple[str, int]:
    """Choose the form (the newest version of each) and the claimant's language."""
    if (refused := wrong_purpose()) is not None:
        return refused
    # Every method: the write scope and purpose, and the claimant in the caller's case (a 404
    # page otherwise), before anything is kept in the draft.
    run(WRITE_SCOPE, cases.check_claimant, subject_id)
    choices = runtime().assessment_forms.current()
    if request.method == "GET":
        draft = current_draft(subject_id)
        values = ({"form": draft.form_id, "lang": draft.lang} if draft
                  else {"form": choices[0].id if len(choices) == 1 else "", "lang": "en"})
        return page("assessments/start.html", subject_id=subject_id, choices=choices,
                    values=values, errors={})
    values = {"form": forms.text(request.form, "form"), "lang": forms.text(request.form, "lang")}
    chosen = next((f for f in choices if f.id == values["form"]), None)
    errors: forms.Errors = {}
    if chosen is None:
        errors["form"] = "Select the assessment"
    if values["lang"] not in LANGUAGES or (chosen and values["lang"] not in chosen.languages):
        errors["lang"] = "Select the language the claimant will answer in"
    if errors or chosen is None:
        return page("assessments/start.html", 422, subject_id=subject_id, choices=choices,
                    values=values, errors=errors)
    old = current_draft(subject_id)
    kept = old.answers if old and old.form_id == chosen.id and old.version == chosen.version \
        else {}
    save_draft(Draft(str(subject_id), chosen.id, chosen.version, values["lang"], kept))
    return redirect(url_for("web.assessment_question", subject_id=subject_id,
                            question_id=asked(chosen)[0].id))


def _neighbours(form: AssessmentForm, question: Question) -> tuple[str | None, str | None]:
    """The previous and next question ids (None: the start page, the check page)."""
    ids = [q.id for q in asked(form)]
    at = ids.index(question.id)
    return (ids[at - 1] if at else None), (ids[at + 1] if at + 1 < len(ids) else None)


def _question_page(subject_id: uuid.UUID, draft: Draft, form: AssessmentForm,
                   question: Question, value: Any, error: str | None,
                   change: bool, kept: dict[str, str] | None = None) -> tuple[str, int]:
    before, _after = _neighbours(form, question)
    back = (url_for("web.check_assessment", subject_id=subject_id) if change
            else url_for("web.assessment_question", subject_id=subject_id, question_id=before)
            if before else url_for("web.new_assessment", subject_id=subject_id))
    field = answers_.field_id(question)
    return page("assessments/question.html", 422 if error else 200, subject_id=subject_id,
                form=form, question=question, lang=draft.lang, value=value, back=back,
                change=change, answer_errors={field: error} if error else {},
                words=answers_.words, number=asked(form).index(question) + 1,
                count=len(asked(form)), kept=kept or {})


def typed_text(form: AssessmentForm) -> dict[str, str]:
    """The short-text answers typed on the check page and carried through a Change (they are
    never kept in the cookie: they travel in the form, as hidden fields of the question page)."""
    return {q.id: forms.text(request.form, q.id) for q in form.questions
            if q.type == "short_text" and forms.text(request.form, q.id)}


@bp.route("/claimants/<uuid:subject_id>/assessments/new/<question_id>",
          methods=["GET", "POST"])
def assessment_question(subject_id: uuid.UUID,
                        question_id: str) -> BaseResponse | tuple[str, int]:
    """One question. The answer joins the draft only when the form's check accepts it; an
    error re-renders the page with what was typed, in the claimant's language."""
    if (refused := wrong_purpose()) is not None:
        return refused
    require(WRITE_SCOPE)  # every method, as the record step does
    draft = current_draft(subject_id)
    if draft is None:
        return redirect(url_for("web.new_assessment", subject_id=subject_id))
    form = form_for(draft)
    question = form.question(question_id)
    if question is None or question not in asked(form):
        raise NotFoundError("No such question.")
    use_language(draft.lang)
    change = bool(request.values.get("change"))
    kept = typed_text(form) if request.method == "POST" and change else {}
    if request.method == "GET" or request.args.get("show"):
        # `show`: a Change button of the check page, posting what was typed there.
        return _question_page(subject_id, draft, form, question,
                              _as_typed(question, draft.answers.get(question.id)), None, change,
                              kept)
    value = answers_.typed(question, request.form)
    answer = answers_.answer(question, value)
    error = answers_.check_one(form, question, answer)
    if error is not None:
        return _question_page(subject_id, draft, form, question, value, error, change, kept)
    answers = {k: v for k, v in draft.answers.items() if k != question.id}
    if answer is not None:
        answers[question.id] = answer
    draft = Draft(draft.subject, draft.form_id, draft.version, draft.lang, answers)
    save_draft(draft)
    _before, after = _neighbours(form, question)
    if kept:  # back to the check page with what was typed there (never through the cookie)
        return check_page(subject_id, draft, form, text=kept,
                          answer_errors=_required_missing(form, draft.answers))
    if change or after is None:
        return redirect(url_for("web.check_assessment", subject_id=subject_id))
    return redirect(url_for("web.assessment_question", subject_id=subject_id,
                            question_id=after))


def _as_typed(question: Question, stored: Any) -> Any:
    """A kept answer as the page shows it in its inputs."""
    if stored is None:
        return [] if question.type == "multiple_choice" else (
            {} if question.type == "date" else "")
    if question.type == "date":
        year, month, day = str(stored).split("-")
        return {"day": str(int(day)), "month": str(int(month)), "year": year}
    if question.type == "number":
        return answers_.shown(question, stored, "en")[0]
    return stored


def check_page(subject_id: uuid.UUID, draft: Draft, form: AssessmentForm,
               status: int = 200, *, text: dict[str, str] | None = None,
               answer_errors: dict[str, str] | None = None,
               refused: list[Any] | None = None) -> tuple[str, int]:
    """Check your answers: every question with its answer in words and a Change link; the
    short-text questions as inputs (`text`: what was typed in them). When the form has
    short-text questions, each Change is a button submitting the page, so what was typed goes
    with it to the question page and comes back (`assessment_question`)."""
    use_language(draft.lang)
    rows = [{"question": q, "words": answers_.shown(q, draft.answers.get(q.id), draft.lang),
             "href": url_for("web.assessment_question", subject_id=subject_id,
                             question_id=q.id, change=1),
             "action": url_for("web.assessment_question", subject_id=subject_id,
                               question_id=q.id, change=1, show=1)}
            for q in asked(form)]
    free = [q for q in form.questions if q.type == "short_text"]
    return page("assessments/check.html", status, subject_id=subject_id, form=form,
                lang=draft.lang, rows=rows, free=free, text=text or {},
                answer_errors=answer_errors or {}, refused=refused or [],
                words=answers_.words, back=url_for(
                    "web.assessment_question", subject_id=subject_id,
                    question_id=asked(form)[-1].id))


@bp.route("/claimants/<uuid:subject_id>/assessments/new/check", methods=["GET", "POST"])
def check_assessment(subject_id: uuid.UUID) -> BaseResponse | tuple[str, int]:
    """Check your answers; submitting it records the assessment (`assessment_results`)."""
    if (refused := wrong_purpose()) is not None:
        return refused
    draft = current_draft(subject_id)
    if draft is None:
        return redirect(url_for("web.new_assessment", subject_id=subject_id))
    form = form_for(draft)
    if request.method == "POST":
        from caseshare.web.assessment_results import record

        return record(subject_id, draft, form)
    require(WRITE_SCOPE)
    return check_page(subject_id, draft, form,
                      answer_errors=_required_missing(form, draft.answers))


def _required_missing(form: AssessmentForm, answers: dict[str, Any]) -> dict[str, str]:
    """Questions with a page still to answer (reached by a link, or a form changed under us);
    short text is answered here, so it is checked on submit."""
    problems = answers_.check_all(form, answers)
    return {q.id: problems[q.id] for q in asked(form) if q.id in problems}

