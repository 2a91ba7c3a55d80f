"""Properties of scoring over any valid answers to the shipped forms (hypothesis): the same
answers give the same result; each score is the sum of the weights of the answers its
explanation names; adding an answer never lowers a domain; validate_answers names the question
of every unknown question, option or wrong type."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caseshare.assessments.forms import AssessmentForm, Question
from caseshare.assessments.scoring import Answer, evaluate, validate_answers
from caseshare.errors import ValidationError
from tests.unit.assessments.scoring_table import shipped

FORMS = ["derby-budgeting-digital-triage", "derby-multi-need"]
SETTINGS = settings(max_examples=40, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def value_of(question: Question) -> st.SearchStrategy[Any]:
    """Any valid raw answer to the question."""
    values = list(question.option_values())
    if question.type in ("single_choice", "yes_no"):
        return st.sampled_from(values)
    if question.type == "multiple_choice":
        return st.lists(st.sampled_from(values), min_size=1, unique=True)
    if question.type == "number":
        return st.floats(min_value=question.min if question.min is not None else -1e6,
                         max_value=question.max if question.max is not None else 1e6,
                         allow_nan=False) | st.integers(min_value=int(question.min or 0),
                                                        max_value=int(question.max or 100))
    if question.type == "date":
        return st.dates().map(lambda d: d.isoformat())
    return st.text(min_size=1, max_size=50).filter(str.strip)


@st.composite
def answers_to(draw: st.DrawFn, form: AssessmentForm) -> dict[str, Any]:
    answers = {}
    for question in form.questions:
        if question.required or draw(st.booleans()):
            answers[question.id] = draw(value_of(question))
    return answers


def weight(question: Question, domain: str, answer: Answer) -> float:
    """The weight an answer carries in a domain, read straight from the form."""
    if isinstance(answer, float):
        for band in question.bands.get(domain, ()):
            if (band.min is None or answer >= band.min) and (band.max is None
                                                             or answer <= band.max):
                return band.weight
        return 0.0
    chosen = answer if isinstance(answer, tuple) else (answer,)
    return sum(question.weights.get(domain, {}).get(v, 0.0) for v in chosen)


def forms_and_answers() -> st.SearchStrategy[tuple[AssessmentForm, dict[str, Any]]]:
    return st.sampled_from(FORMS).map(shipped).flatmap(
        lambda form: st.tuples(st.just(form), answers_to(form)))


@SETTINGS
@given(forms_and_answers())
def test_the_same_answers_always_give_the_same_result(
    drawn: tuple[AssessmentForm, dict[str, Any]]
) -> None:
    form, answers = drawn
    first = evaluate(form, validate_answers(form, answers))
    reordered = dict(reversed(list(answers.items())))
    assert evaluate(form, validate_answers(form, reordered)) == first
    assert evaluate(form, validate_answers(form, answers)) == first


@SETTINGS
@given(forms_and_answers())
def test_each_score_is_the_sum_of_the_weights_of_its_explained_answers(
    drawn: tuple[AssessmentForm, dict[str, Any]]
) -> None:
    form, answers = drawn
    normal = validate_answers(form, answers)
    result = evaluate(form, normal)
    for domain, score in result.scores.items():
        explained = result.explanations[domain]
        assert score == pytest.approx(sum(weight(form.question(q), domain, normal[q])  # type: ignore[arg-type]
                                          for q in explained))
        unexplained = [q for q in form.questions if q.id in normal and q.id not in explained]
        assert all(weight(q, domain, normal[q.id]) == 0 for q in unexplained)
        assert all(weight(form.question(q), domain, normal[q]) > 0  # type: ignore[arg-type]
                   for q in explained)
    assert result.total == pytest.approx(sum(result.scores.values()))
    assert {n.id for n in result.needs} == {n.id for n in form.needs
                                           if result.scores[n.domain] >= n.min_score}


@SETTINGS
@given(forms_and_answers(), st.data())
def test_adding_an_answer_never_lowers_a_domain_or_the_level(
    drawn: tuple[AssessmentForm, dict[str, Any]], data: st.DataObject
) -> None:
    form, answers = drawn
    addable = [q for q in form.questions
               if q.id not in answers or q.type == "multiple_choice"]
    if not addable:
        return
    question = data.draw(st.sampled_from(addable))
    added = data.draw(value_of(question))
    more = dict(answers)
    if question.id in answers:          # multiple choice: add options to those chosen
        more[question.id] = sorted(set(answers[question.id]) | set(added))
    else:
        more[question.id] = added
    before = evaluate(form, validate_answers(form, answers))
    after = evaluate(form, validate_answers(form, more))
    assert all(after.scores[d] >= before.scores[d] for d in before.scores)
    rank = [level.code for level in form.levels]
    assert rank.index(after.level) <= rank.index(before.level)
    assert set(after.flags) >= set(before.flags)


def _refused_naming(form: AssessmentForm, answers: dict[str, Any], question_id: str) -> None:
    with pytest.raises(ValidationError) as refused:
        validate_answers(form, answers)
    assert f"answers.{question_id}" in refused.value.extra["errors"]


@SETTINGS
@given(forms_and_answers(), st.from_regex(r"[a-z_]{1,20}", fullmatch=True))
def test_an_unknown_question_is_named(drawn: tuple[AssessmentForm, dict[str, Any]],
                                      unknown: str) -> None:
    form, answers = drawn
    if form.question(unknown) is None:
        _refused_naming(form, {**answers, unknown: "yes"}, unknown)


@SETTINGS
@given(forms_and_answers(), st.data())
def test_an_unknown_option_or_a_wrong_type_is_named(
    drawn: tuple[AssessmentForm, dict[str, Any]], data: st.DataObject
) -> None:
    form, answers = drawn
    question = data.draw(st.sampled_from(form.questions))
    wrong = data.draw(wrong_value(question))
    _refused_naming(form, {**answers, question.id: wrong}, question.id)


def wrong_value(question: Question) -> st.SearchStrategy[Any]:
    """A value that is not a valid answer to the question."""
    values = set(question.option_values())
    junk = st.one_of(st.dictionaries(st.text(max_size=3), st.integers(), min_size=1),
                     st.lists(st.integers(), min_size=1))
    if question.type in ("single_choice", "yes_no"):
        return st.one_of(st.text(min_size=1).filter(lambda v: v not in values and v.strip()),
                         st.integers(), junk)
    if question.type == "multiple_choice":
        return st.one_of(st.lists(st.text(min_size=1), min_size=1).filter(
            lambda vs: any(v not in values for v in vs)), st.text(min_size=1), st.integers())
    if question.type == "number":
        out_of_range = st.floats(min_value=(question.max or 1e9) + 1, allow_infinity=False)
        return st.one_of(st.text(min_size=1).filter(str.strip), st.booleans(), out_of_range,
                         st.just(float("nan")), junk)
    if question.type == "date":
        return st.one_of(st.integers(), st.text(min_size=1).filter(
            lambda v: v.strip() and not _is_date(v)), junk)
    return st.one_of(st.integers(), st.text(min_size=501, max_size=600), junk)


def _is_date(value: str) -> bool:
    from datetime import date
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True
