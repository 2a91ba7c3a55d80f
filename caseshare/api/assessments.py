"""Needs assessments: the forms, completed assessments and accepting their proposals."""
from __future__ import annotations

import json
import uuid
from typing import Any

from flask import Response

from caseshare.access import assessments
from caseshare.api.common import api_blueprint, no_store, principal, runtime, unit_of_work
from caseshare.assessments import fhir
from caseshare.errors import NotFoundError
from caseshare.schemas.assessments import (
    AcceptBody,
    AssessmentCreate,
    AssessmentFormOut,
    AssessmentFormQuery,
    AssessmentFormSummary,
    AssessmentList,
    AssessmentOut,
)
from caseshare.schemas.case_plans import EntryOut
from caseshare.schemas.common import PurposeQuery
from caseshare.schemas.referrals import ReferralOut

blp = api_blueprint("assessments", __name__, "Needs assessments and triage")


@blp.route("/assessment-forms", methods=["GET"])
@blp.response(200, AssessmentFormSummary(many=True))
def list_forms() -> Any:
    """List the current assessment forms.

    One item per form at its newest version, with its languages and title. Like the consent
    forms, no purpose is asked for: forms hold no personal data. A bearer token is required.
    """
    principal()  # authenticated by the blueprint
    return [{"id": f.id, "version": f.version, "languages": list(f.languages),
             "title": dict(f.title)} for f in runtime().assessment_forms.current()]


@blp.route("/assessment-forms/<form_id>/<int:version>", methods=["GET"])
@blp.arguments(AssessmentFormQuery, location="query", as_kwargs=True)
@blp.response(200, AssessmentFormOut)
def get_form(form_id: str, version: int, lang: str) -> Any:
    """Read one assessment form version in one language.

    Its domains and questions: ids, types, options and the data category each answer discloses.
    No purpose is asked for (no personal data). Unknown form, version or language: 404.
    """
    principal()
    form = runtime().assessment_forms.get(form_id, version)
    if form is None or lang not in form.languages:
        raise NotFoundError("No such assessment form, version or language.")
    return {
        "id": form.id, "version": form.version, "language": lang, "title": form.title[lang],
        "domains": [{"code": d.code, "title": d.title[lang]} for d in form.domains],
        "questions": [{"id": q.id, "type": q.type, "category": q.category,
                       "required": q.required, "text": q.text[lang],
                       "hint": q.hint[lang] if q.hint else None,
                       "options": [{"value": v, "text": _option_text(q, v, lang)}
                                   for v in q.option_values()]}
                      for q in form.questions]}


@blp.route("/assessment-forms/<form_id>/<int:version>/fhir", methods=["GET"])
@blp.arguments(AssessmentFormQuery, location="query", as_kwargs=True)
@blp.response(200, description="An HL7 FHIR R4 Questionnaire resource")
def form_fhir(form_id: str, version: int, lang: str) -> Any:
    """One assessment form version as an HL7 FHIR R4 `Questionnaire`.

    In one language (`lang`), with each item's data category as its code, so another system
    can present the same questions. No purpose is asked for (no personal data). Unknown form,
    version or language: 404.
    """
    principal()
    form = runtime().assessment_forms.get(form_id, version)
    if form is None or lang not in form.languages:
        raise NotFoundError("No such assessment form, version or language.")
    return Response(json.dumps(fhir.questionnaire(form, lang)),
                    mimetype="application/fhir+json")


def _option_text(question: Any, value: str, lang: str) -> str:
    option = next((o for o in question.options if o.value == value), None)
    if option is not None:
        return str(option.text[lang])
    return {"en": {"yes": "Yes", "no": "No"}, "cy": {"yes": "Ydw", "no": "Nac ydw"}}[lang][value]


@blp.route("/subjects/<uuid:subject_id>/assessments", methods=["POST"])
@blp.arguments(PurposeQuery, location="query", as_kwargs=True)
@blp.arguments(AssessmentCreate)
@blp.response(201, AssessmentOut)
def create_assessment(body: dict[str, Any], subject_id: uuid.UUID, purpose: str) -> Any:
    """Record a completed assessment.

    The answers are checked against the form (an unknown question, a missing required answer,
    a wrong type or option: 422 naming `answers.<question_id>`), scored, and stored sealed
    under the category each question discloses. The caller must be allowed to write every
    category answered (otherwise 403 with reasons). The answer carries the scores, level,
    flags, explanations and the proposals, each checked against protocol and consent.
    """
    with unit_of_work(purpose, "case_plans:write") as ctx:
        view = assessments.record_assessment(ctx, subject_id, body["form_id"],
                                             body["form_version"], body["language"],
                                             body["answers"])
        return view, 201, no_store()


@blp.route("/subjects/<uuid:subject_id>/assessments", methods=["GET"])
@blp.arguments(PurposeQuery, location="query", as_kwargs=True)
@blp.response(200, AssessmentList)
def list_assessments(subject_id: uuid.UUID, purpose: str) -> Any:
    """List a claimant's assessments, newest first.

    Only the answers, scores, flags and level the caller may read; the categories withheld are
    named with reason codes, as on the plan. `changes` gives each domain's change since the
    previous assessment on the same form.
    """
    with unit_of_work(purpose, "case_plans:read") as ctx:
        items = assessments.list_assessments(ctx, subject_id)
        return {"items": items, "next_cursor": None}, 200, no_store()


@blp.route("/subjects/<uuid:subject_id>/assessments/<uuid:assessment_id>/proposals/"
           "<proposal_id>/accept", methods=["POST"])
@blp.arguments(PurposeQuery, location="query", as_kwargs=True)
@blp.arguments(AcceptBody, required=False)
@blp.response(201, description="The plan entry (as in the case plan) or the referral (as in "
             "GET /referrals/{id}) created, with `created` (entry or referral) and "
             "`proposal_id`.")
def accept_proposal(body: dict[str, Any], subject_id: uuid.UUID, assessment_id: uuid.UUID,
                    proposal_id: str, purpose: str) -> Any:
    """Accept one proposal of an assessment.

    Creates the plan entry (starting the plan if there is none) or the referral, with every
    check and audit event of those operations, and answers with it (`created`: entry or
    referral). A proposal that is not allowed: 403 with reasons; accepted before: 409.
    """
    with unit_of_work(purpose, "case_plans:write") as ctx:
        accepted = assessments.accept_proposal(ctx, subject_id, assessment_id,
                                               proposal_id[:80], body or {})
        schema = EntryOut() if accepted.kind == "entry" else ReferralOut()
        out = {**schema.dump(accepted.item), "created": accepted.kind,
               "proposal_id": accepted.proposal_id}
        return out, 201, no_store()


@blp.route("/subjects/<uuid:subject_id>/assessments/<uuid:assessment_id>/fhir",
           methods=["GET"])
@blp.arguments(PurposeQuery, location="query", as_kwargs=True)
@blp.response(200, description="An HL7 FHIR R4 QuestionnaireResponse resource")
def assessment_fhir(subject_id: uuid.UUID, assessment_id: uuid.UUID, purpose: str) -> Any:
    """A completed assessment as an HL7 FHIR R4 `QuestionnaireResponse`.

    Only the answers the caller may read are in it (a withheld answer is absent, as on the
    plan); only this assessment's read is audited. Scores and proposals are Caseshare's own and are
    not exported. An assessment of another claimant, or none: 404.
    """
    with unit_of_work(purpose, "case_plans:read") as ctx:
        view = assessments.get_assessment(ctx, subject_id, assessment_id)
        form = ctx.assessment_forms.get(view.form_id, view.form_version)
        if form is None:
            raise NotFoundError("No such assessment.")
        answers = {k: tuple(v) if isinstance(v, list) else v for k, v in view.answers.items()}
        resource = fhir.questionnaire_response(form, answers, view.language, str(subject_id),
                                               view.completed_at, resource_id=str(view.id))
        return Response(json.dumps(resource), mimetype="application/fhir+json",
                        headers=no_store())
