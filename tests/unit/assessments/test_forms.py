"""Assessment form files: every broken variant of a small valid form is refused with a message
naming the file and the field; the shipped forms load; the pinned hashes cover the wording per
language and the structure."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from caseshare.assessments.forms import (
    SCHEMA_PATH,
    load_form,
    load_forms,
    load_forms_directory,
    publish,
)
from caseshare.errors import PolicyFileError
from caseshare.policy.loader import load_directory
from caseshare.policy.models import ProtocolSet

ROOT = Path(__file__).resolve().parents[3]
NAME = "small.v1.yaml"


def _t(en: str, cy: str | None = None) -> dict[str, str]:
    return {"en": en, "cy": cy or f"{en} (cy)"}


def small_form() -> dict[str, Any]:
    """A small valid form: one question of each scoring kind, a flag and both proposals."""
    return {
        "id": "small", "version": 1, "protocol": "derby-triage",
        "referral_protocols": ["derby-local-support"], "languages": ["en", "cy"],
        "title": _t("Small triage"),
        "domains": [{"code": "money", "title": _t("Money")},
                    {"code": "housing", "title": _t("Housing")}],
        "questions": [
            {"id": "manage", "type": "single_choice", "category": "finances",
             "text": _t("How do you manage?"),
             "options": [{"value": "well", "text": _t("Well")},
                         {"value": "badly", "text": _t("Badly")}],
             "scores": {"money": {"well": 0, "badly": 3}}},
            {"id": "weeks", "type": "number", "category": "housing_tenancy", "required": False,
             "min": 0, "text": _t("Weeks of rent owed?"), "hint": _t("Enter 0 if none"),
             "scores": {"housing": [{"max": 0, "weight": 0}, {"weight": 4}]}},
            {"id": "homeless", "type": "yes_no", "category": "housing_tenancy",
             "text": _t("Are you homeless?"), "scores": {"housing": {"yes": 5}}},
            {"id": "since", "type": "date", "category": "housing_tenancy", "required": False,
             "text": _t("Since when?")},
        ],
        "levels": [{"code": "intensive", "title": _t("Intensive"), "min_total": 6,
                    "min_domain": 5, "review_days": 28},
                   {"code": "self_serve", "title": _t("Self-serve"), "min_total": 0,
                    "review_days": 91}],
        "flags": [{"code": "homelessness", "question": "homeless", "values": ["yes"]}],
        "needs": [
            {"id": "budget", "domain": "money", "min_score": 3,
             "service_line": "personal_budgeting_support",
             "proposal": {"kind": "referral", "to_org": "ca-derby",
                          "purpose": "budgeting_support", "title": _t("Refer for budgeting")}},
            {"id": "home", "domain": "housing", "min_score": 4, "service_line": "housing_costs_apa",
             "proposal": {"kind": "action", "category": "housing_tenancy", "due_in_days": 7,
                          "title": _t("Call the landlord")}},
        ],
    }


@pytest.fixture(scope="module")
def protocols() -> ProtocolSet:
    return load_directory(ROOT / "policies")


def _write(directory: Path, data: dict[str, Any], name: str = NAME) -> Path:
    path = directory / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _both(*changes: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    def apply(data: dict[str, Any]) -> None:
        for change in changes:
            change(data)
    return apply


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """Set (or, with value ..., delete) the field at a slash path."""
    def apply(data: dict[str, Any]) -> None:
        *parents, last = path.split("/")
        node: Any = data
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        key: Any = int(last) if isinstance(node, list) else last
        if value is ...:
            del node[key]
        else:
            node[key] = value
    return apply


def _duplicate_question(data: dict[str, Any]) -> None:
    data["questions"].append(copy.deepcopy(data["questions"][0]))


# (how the small form is broken, the field path the message must name, words it must contain)
BROKEN: list[tuple[Callable[[dict[str, Any]], None], str, str]] = [
    (_set("id", "Not A Code"), "id", "does not match"),
    (_set("version", 0), "version", "less than the minimum"),
    (_set("surprise", 1), "(top level)", "Additional properties"),
    (_set("questions/0/type", "essay"), "questions/0/type", "is not one of"),
    (_set("questions/0/category", ...), "questions/0", "'category' is a required property"),
    (_set("questions/0/scores/money/badly", -1), "questions/0/scores/money", "valid"),
    (_set("needs/0/proposal/category", "finances"), "needs/0/proposal", "should not be valid"),
    (_duplicate_question, "questions/4/id", "'manage' is given twice"),
    (_set("questions/0/options", ...), "questions/0/options", "needs options"),
    (_set("questions/2/options", [{"value": "a", "text": _t("A")},
                                  {"value": "b", "text": _t("B")}]),
     "questions/2/options", "only choice questions have options"),
    (_set("questions/0/scores/health", {"well": 1}), "questions/0/scores/health",
     "unknown domain 'health'"),
    (_set("questions/0/scores/money/sometimes", 1), "questions/0/scores/money/sometimes",
     "'sometimes' is not an option"),
    (_set("questions/2/scores/housing/maybe", 1), "questions/2/scores/housing/maybe",
     "not an option (yes, no)"),
    (_set("questions/0/scores/money", [{"weight": 1}]), "questions/0/scores/money",
     "bands are only for number questions"),
    (_set("questions/1/scores/housing", {"0": 1}), "questions/1/scores/housing",
     "scores by bands"),
    (_set("questions/3/scores", {"housing": {"x": 1}}), "questions/3/scores/housing",
     "date questions cannot score"),
    (_set("questions/1/scores/housing/0/min", 5), "questions/1/scores/housing/0/min",
     "above max"),
    (_set("questions/0/min", 1), "questions/0/min", "only number questions"),
    (_set("flags/0/question", "nope"), "flags/0/question", "unknown question 'nope'"),
    (_set("flags/0/values", ["sometimes"]), "flags/0/values", "not an option of 'homeless'"),
    (_set("flags/0/question", "since"), "flags/0/question", "no options to flag on"),
    (_set("questions/2/scores/housing", {True: 5}), "questions/2/scores/housing/True",
     "write 'yes' and 'no' in quotes"),
    (_set("flags/0/values", [True]), "flags/0/values", "write 'yes' and 'no' in quotes"),
    (_set("flags/0/code", "vulnerable"), "flags/0/code", "not a harder-to-help group"),
    (_set("needs/0/domain", "health"), "needs/0/domain", "unknown domain 'health'"),
    (_set("needs/0/service_line", "hugs"), "needs/0/service_line", "not an LSSF service line"),
    (_set("questions/2/text", {"en": "Are you homeless?"}), "questions/2/text",
     "no 'cy' text"),
    (_set("questions/0/options/1/text", {"en": "Badly"}), "questions/0/options/1/text",
     "no 'cy' text"),
    (_set("languages", ["en"]), "title/cy", "does not list the language 'cy'"),
    (_set("levels/1/min_total", 6), "levels/1/min_total", "must be below the one before"),
    (_set("levels/1/min_domain", 1), "levels/1", "must be the catch-all"),
    (_set("protocol", "nowhere"), "protocol", "unknown protocol 'nowhere'"),
    (_set("referral_protocols", ["nowhere"]), "referral_protocols/0", "unknown protocol"),
    (_set("questions/0/category", "substance_misuse"), "questions/0/category",
     "not a category of protocol 'derby-triage'"),
    (_set("needs/1/proposal/category", "offending"), "needs/1/proposal/category",
     "not a category of protocol"),
    (_set("needs/0/proposal/to_org", "recovery-derby"), "needs/0/proposal/to_org",
     "as a party with the purpose 'budgeting_support'"),
    (_set("needs/0/proposal/purpose", "recovery_support"), "needs/0/proposal/purpose",
     "not a purpose of the form's protocols"),
    # Without referral_protocols, only the form's own protocol (derby-triage) is searched.
    (_both(_set("referral_protocols", ...), _set("needs/0/proposal/purpose", "case_management")),
     "needs/0/proposal/purpose", "'case_management' is not a purpose"),
]


def test_the_small_form_is_valid(tmp_path: Path, protocols: ProtocolSet) -> None:
    form = load_form(_write(tmp_path, small_form()), protocols)
    assert [q.id for q in form.questions] == ["manage", "weeks", "homeless", "since"]
    assert form.referral_protocols == ("derby-local-support",)
    assert form.question("weeks") is not None and form.question("weeks").min == 0  # type: ignore[union-attr]


@pytest.mark.parametrize(("breaker", "where", "words"), BROKEN,
                         ids=[f"{i}:{w}" for i, (_b, w, _x) in enumerate(BROKEN)])
def test_a_broken_form_names_file_and_field(breaker: Callable[[dict[str, Any]], None],
                                            where: str, words: str, tmp_path: Path,
                                            protocols: ProtocolSet) -> None:
    data = small_form()
    breaker(data)
    with pytest.raises(PolicyFileError) as refused:
        load_form(_write(tmp_path, data), protocols)
    assert any(p.startswith(f"{NAME}: {where}: ") and words in p
               for p in refused.value.problems), refused.value.problems


def test_a_domain_named_text_is_scored_not_read_as_words(tmp_path: Path,
                                                         protocols: ProtocolSet) -> None:
    data = small_form()
    data["domains"][0]["code"] = "text"
    data["questions"][0]["scores"] = {"text": {"well": 0, "badly": 3}}
    data["needs"][0]["domain"] = "text"
    assert load_form(_write(tmp_path, data), protocols).questions[0].weights == {
        "text": {"well": 0, "badly": 3}}


def test_the_schema_is_valid_json_schema() -> None:
    import jsonschema
    jsonschema.Draft202012Validator.check_schema(json.loads(SCHEMA_PATH.read_text()))


def test_the_shipped_forms_are_valid_and_published(protocols: ProtocolSet) -> None:
    forms = load_forms_directory(ROOT / "assessment_forms", protocols, require_published=True)
    assert {(f.id, f.version) for f in forms.forms} == {
        ("derby-budgeting-digital-triage", 1), ("derby-multi-need", 1)}
    multi = forms.get("derby-multi-need", 1)
    assert multi is not None and len(multi.questions) >= 20
    assert {q.type for q in multi.questions} == {"single_choice", "multiple_choice", "yes_no",
                                                 "number", "date", "short_text"}
    assert {d.code for d in multi.domains} >= {"employment", "financial_capability", "housing",
                                               "fuel_poverty", "digital_capability",
                                               "health_wellbeing"}


def test_publish_pins_wording_per_language_and_structure(tmp_path: Path,
                                                         protocols: ProtocolSet) -> None:
    path = _write(tmp_path, small_form())
    assert load_forms([path], protocols).forms  # a draft on its own: no register to check
    (tmp_path / "published.json").write_text("{}")
    with pytest.raises(PolicyFileError, match=re.escape("small@1 is not in published.json")):
        load_forms([path], protocols)  # unpublished: refused where publication is required
    assert load_forms([path], protocols, require_published=False).forms  # start-up: a draft loads
    assert publish(tmp_path, load_forms([path], protocols, require_published=False)) == ["small@1"]
    assert set(json.loads((tmp_path / "published.json").read_text())["small@1"]) == {
        "en", "cy", "structure"}
    assert load_forms([path], protocols).forms

    reworded = small_form()
    reworded["questions"][0]["text"]["cy"] = "Sut ydych chi'n ymdopi?"
    _write(tmp_path, reworded)
    with pytest.raises(PolicyFileError) as changed:
        load_forms([path], protocols, require_published=False)
    assert changed.value.problems == [
        f"{NAME}: text/cy: wording differs from published small@1; changing a form's wording "
        "requires a new version"]

    rescored = small_form()
    rescored["questions"][0]["scores"]["money"]["badly"] = 2
    _write(tmp_path, rescored)
    with pytest.raises(PolicyFileError, match=f"{NAME}: questions: the questions, categories "
                                              "or scoring differ from published small@1"):
        publish(tmp_path, load_forms([path], protocols, require_published=False))


def test_the_same_version_twice_is_refused(tmp_path: Path, protocols: ProtocolSet) -> None:
    first = _write(tmp_path, small_form())
    second = _write(tmp_path, small_form(), "small-copy.v1.yaml")
    with pytest.raises(PolicyFileError, match=re.escape(
            "small-copy.v1.yaml: version: small@1 is defined twice")):
        load_forms([first, second], protocols, require_published=False)


def test_the_example_in_the_docs_is_a_valid_form(tmp_path: Path, protocols: ProtocolSet) -> None:
    text = (ROOT / "docs" / "assessments.md").read_text(encoding="utf-8")
    example = text.split("<!-- example:start -->")[1].split("<!-- example:end -->")[0]
    body = example.split("```yaml\n")[1].split("```")[0]
    path = tmp_path / "example-money-triage.v1.yaml"
    path.write_text(body, encoding="utf-8")
    form = load_form(path, protocols)
    assert yaml.safe_load(body)["id"] == form.id  # the pure-Python loader reads it too
    assert {q.type for q in form.questions} == {"single_choice", "multiple_choice", "number",
                                                "yes_no"}
