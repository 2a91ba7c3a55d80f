"""Export an assessment form as an HL7 FHIR R4 `Questionnaire`, and a completed assessment's
answers as a `QuestionnaireResponse`, for partners whose systems speak FHIR (NHS-side
treatment providers). Pure functions of plain values: the caller decides what may be read.

Mapping: single choice -> `choice` with `answerOption.valueCoding`; multiple choice -> the same
with `repeats: true`; yes/no -> `boolean`; number -> `decimal` (with the minValue/maxValue
extensions when the form bounds it); date -> `date`; short text -> `string` (maxLength 500).
The data category a question discloses is the item's `code` (system `.../data-category`, the
same codes as the FHIR Consent export's `provision.class`), so a consumer can match answers to
the consent that shares them. A hint is a nested `display` item shown as a flyover. Scoring is
not exported: it is Caseshare's rule, and the result travels in Caseshare's own API.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from caseshare.assessments.forms import AssessmentForm, Question
from caseshare.assessments.scoring import Answer

SYSTEM = "https://caseshare.example/fhir"
CATEGORY_SYSTEM = f"{SYSTEM}/data-category"
ITEM_TYPES = {"single_choice": "choice", "multiple_choice": "choice", "yes_no": "boolean",
              "number": "decimal", "date": "date", "short_text": "string"}
ITEM_CONTROL = "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl"
FLYOVER = {"coding": [{"system": "http://hl7.org/fhir/questionnaire-item-control",
                       "code": "flyover"}]}
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"


def questionnaire_url(form: AssessmentForm) -> str:
    return f"{SYSTEM}/Questionnaire/{form.id}"


def _fhir_id(*parts: object) -> str:
    """A FHIR id ([A-Za-z0-9-.]{1,64}) from form codes, which may hold underscores."""
    return re.sub(r"[^A-Za-z0-9.-]", "-", "-".join(str(p) for p in parts))[:64]


def _option_system(form: AssessmentForm, question: Question) -> str:
    return f"{SYSTEM}/assessment-form/{form.id}/{form.version}/{question.id}"


def _coding(form: AssessmentForm, question: Question, value: str,
            language: str) -> dict[str, str]:
    option = next(o for o in question.options if o.value == value)
    return {"system": _option_system(form, question), "code": value,
            "display": option.text[language]}


def _item(form: AssessmentForm, question: Question, language: str) -> dict[str, Any]:
    item: dict[str, Any] = {
        "linkId": question.id,
        "code": [{"system": CATEGORY_SYSTEM, "code": question.category}],
        "text": question.text[language],
        "type": ITEM_TYPES[question.type],
        "required": question.required,
    }
    if question.type == "multiple_choice":
        item["repeats"] = True
    if question.type in ("single_choice", "multiple_choice"):
        item["answerOption"] = [{"valueCoding": _coding(form, question, o.value, language)}
                                for o in question.options]
    if question.type == "short_text":
        item["maxLength"] = 500
    bounds = [{"url": url, "valueDecimal": value}
              for url, value in ((MIN_VALUE, question.min), (MAX_VALUE, question.max))
              if value is not None]
    if bounds:
        item["extension"] = bounds
    if question.hint is not None:
        item["item"] = [{"linkId": f"{question.id}.hint", "text": question.hint[language],
                         "type": "display",
                         "extension": [{"url": ITEM_CONTROL, "valueCodeableConcept": FLYOVER}]}]
    return item


def questionnaire(form: AssessmentForm, language: str) -> dict[str, Any]:
    """The form in one of its languages as a FHIR R4 Questionnaire resource (JSON)."""
    if language not in form.languages:
        raise ValueError(f"the form has no {language!r} text")
    return {
        "resourceType": "Questionnaire",
        "id": _fhir_id(form.id, form.version, language),
        "language": language,
        "url": questionnaire_url(form),
        "version": str(form.version),
        "title": form.title[language],
        "status": "active",
        "subjectType": ["Patient"],
        "item": [_item(form, q, language) for q in form.questions],
    }


def _answers(form: AssessmentForm, question: Question, answer: Answer,
             language: str) -> list[dict[str, Any]]:
    if question.type == "yes_no":
        return [{"valueBoolean": answer == "yes"}]
    if question.type in ("single_choice", "multiple_choice"):
        chosen = answer if isinstance(answer, tuple) else (str(answer),)
        return [{"valueCoding": _coding(form, question, v, language)} for v in chosen]
    if question.type == "number":
        return [{"valueDecimal": answer}]
    if question.type == "date":
        return [{"valueDate": answer}]
    return [{"valueString": answer}]


def questionnaire_response(form: AssessmentForm, answers: Mapping[str, Answer], language: str,
                           subject_ref: str, authored: datetime, *,
                           resource_id: str | None = None) -> dict[str, Any]:
    """A completed assessment as a FHIR R4 QuestionnaireResponse (JSON).

    `answers` are validated answers in normal form (scoring.validate_answers) and must hold
    only the answers the caller may read: a withheld answer is simply absent. `subject_ref` is
    the Caseshare subject id (exported as an identifier, like the Consent export's patient).
    """
    if language not in form.languages:
        raise ValueError(f"the form has no {language!r} text")
    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "language": language,
        "questionnaire": f"{questionnaire_url(form)}|{form.version}",
        "status": "completed",
        "subject": {"identifier": {"system": f"{SYSTEM}/subject", "value": subject_ref}},
        "authored": authored.isoformat().replace("+00:00", "Z"),
        "item": [{"linkId": q.id, "text": q.text[language],
                  "answer": _answers(form, q, answers[q.id], language)}
                 for q in form.questions if q.id in answers],
    }
    if resource_id is not None:
        resource["id"] = _fhir_id(resource_id)
    return resource
