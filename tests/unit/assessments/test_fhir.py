"""The FHIR R4 exports of assessment forms and answers validate against the HL7 models (R4B:
Questionnaire and QuestionnaireResponse as in R4) and carry what a consumer needs: the type
mapping, the options as codings, the category as the item code, only the answers given."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from caseshare.assessments.fhir import CATEGORY_SYSTEM, questionnaire, questionnaire_response
from caseshare.assessments.scoring import validate_answers
from tests.unit.assessments.scoring_table import shipped
from tests.unit.assessments.test_scoring_derby_multi_need import BASE

FORMS = ["derby-budgeting-digital-triage", "derby-multi-need"]
AUTHORED = datetime(2026, 12, 7, 10, 30, tzinfo=UTC)


@pytest.mark.parametrize("form_id", FORMS)
@pytest.mark.parametrize("language", ["en", "cy"])
def test_a_form_is_a_valid_questionnaire(form_id: str, language: str) -> None:
    form = shipped(form_id)
    resource = Questionnaire.model_validate(questionnaire(form, language))  # raises if invalid
    assert resource.language == language and resource.title == form.title[language]
    assert resource.version == "1" and resource.url.endswith(f"/Questionnaire/{form_id}")
    assert [i.linkId for i in resource.item] == [q.id for q in form.questions]
    for item, question in zip(resource.item, form.questions, strict=True):
        assert item.text == question.text[language]
        assert [(c.system, c.code) for c in item.code] == [(CATEGORY_SYSTEM, question.category)]
        assert item.required == question.required
        if question.type in ("single_choice", "multiple_choice"):
            assert item.type == "choice"
            assert [(o.valueCoding.code, o.valueCoding.display) for o in item.answerOption] == [
                (o.value, o.text[language]) for o in question.options]
            assert bool(item.repeats) == (question.type == "multiple_choice")


def test_the_type_mapping_and_hints() -> None:
    resource = questionnaire(shipped("derby-multi-need"), "cy")
    types = {i["linkId"]: i["type"] for i in resource["item"]}
    assert (types["has_cv"], types["hours_available"], types["last_worked"],
            types["work_goal"], types["devices"]) == ("boolean", "decimal", "date", "string",
                                                       "choice")
    hours = next(i for i in resource["item"] if i["linkId"] == "hours_available")
    assert [e["valueDecimal"] for e in hours["extension"]] == [0, 60]
    [hint] = hours["item"]
    assert hint["type"] == "display" and hint["text"].startswith("Rhowch 0")


def test_a_response_has_only_the_answers_given() -> None:
    form = shipped("derby-multi-need")
    answers = validate_answers(form, {**BASE, "devices": ["smartphone", "tablet"],
                                      "last_worked": "2024-05-01", "work_goal": "Retail"})
    readable = {k: v for k, v in answers.items() if form.question(k).category != "finances"}  # type: ignore[union-attr]
    raw = questionnaire_response(form, readable, "en", "3f1c", AUTHORED, resource_id="a_1")
    resource = QuestionnaireResponse.model_validate(raw)  # raises if invalid
    assert resource.status == "completed" and resource.id == "a-1"
    assert resource.questionnaire == "https://caseshare.example/fhir/Questionnaire/derby-multi-need|1"
    assert resource.subject.identifier.value == "3f1c"
    answered = {i.linkId: i.answer for i in resource.item}
    assert set(answered) == set(readable)
    assert not {"income_covers", "bank_account"} & set(answered)   # withheld: absent
    assert answered["has_cv"][0].valueBoolean is True
    assert float(answered["hours_available"][0].valueDecimal) == 37.5
    assert str(answered["last_worked"][0].valueDate) == "2024-05-01"
    assert answered["work_goal"][0].valueString == "Retail"
    assert [a.valueCoding.code for a in answered["devices"]] == ["smartphone", "tablet"]
    assert answered["tenure"][0].valueCoding.display == (
        "Renting from the council or a housing association")


def test_a_language_the_form_lacks_is_refused() -> None:
    with pytest.raises(ValueError, match="no 'fr' text"):
        questionnaire(shipped("derby-multi-need"), "fr")
