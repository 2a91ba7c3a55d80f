"""The rules of an assessment form file that its JSON Schema cannot say: unique ids, options
only on choice questions, scores only on known domains and options, flags and needs naming what
the form has, every text in every language, the LSSF service lines, support levels in
descending order, and the categories, organisations and purposes its protocols declare.

Each problem names the file and the field path (`x.v1.yaml: questions/3/scores/housing: ...`),
like the schema's own problems, so a partnership can fix a file from the message alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from caseshare.directory import taxonomy
from caseshare.policy.models import ProtocolSet

# The LSSF service lines (DWP Local Support Services Framework, Annex G) a need may propose
# under: the directory's taxonomy is the one list.
SERVICE_LINES: tuple[str, ...] = tuple(taxonomy.SERVICE_LINES)
# The trialling menu's "harder to help" groups: the only flags a form may raise (pages and
# management information name them).
HARDER_TO_HELP: tuple[str, ...] = (
    "mental_health", "learning_difficulty", "drug_alcohol_dependency", "homelessness",
    "domestic_abuse", "care_leaver",
)
CHOICE_TYPES = ("single_choice", "multiple_choice")
OPTION_TYPES = (*CHOICE_TYPES, "yes_no")
YES_NO = ("yes", "no")


def problems(name: str, data: dict[str, Any], protocols: ProtocolSet | None) -> list[str]:
    """Every problem of a schema-valid form file, each naming the file and field path."""
    found = [*_duplicates(data), *_languages(data), *_questions(data), *_flags(data),
             *_needs(data), *_levels(data)]
    if protocols is not None:
        found += _protocol_problems(data, protocols)
    return [f"{name}: {problem}" for problem in found]


def _option_values(question: dict[str, Any]) -> tuple[str, ...]:
    if question["type"] == "yes_no":
        return YES_NO
    return tuple(o["value"] for o in question.get("options", []))


def _duplicates(data: dict[str, Any]) -> Iterator[str]:
    for key, field in (("domains", "code"), ("questions", "id"), ("levels", "code"),
                       ("needs", "id")):
        seen: set[str] = set()
        for i, item in enumerate(data.get(key, [])):
            if item[field] in seen:
                yield f"{key}/{i}/{field}: {item[field]!r} is given twice"
            seen.add(item[field])
    for i, question in enumerate(data["questions"]):
        values = [o["value"] for o in question.get("options", [])]
        for value in sorted({v for v in values if values.count(v) > 1}):
            yield f"questions/{i}/options: option value {value!r} is given twice"


def _texts(node: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every text (a mapping of language to words) in the file, with its path."""
    if isinstance(node, dict):
        for key, value in node.items():
            child = f"{path}/{key}" if path else str(key)
            if key in ("title", "text", "hint") and isinstance(value, dict):
                yield child, value
            elif key != "scores":          # domain codes and option values, never words
                yield from _texts(value, child)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _texts(value, f"{path}/{i}" if path else str(i))


def _languages(data: dict[str, Any]) -> Iterator[str]:
    languages = data["languages"]
    for path, text in _texts(data, ""):
        for language in languages:
            if language not in text:
                yield f"{path}: no {language!r} text, but the form lists {language!r}"
        for language in text:
            if language not in languages:
                yield f"{path}/{language}: the form does not list the language {language!r}"


def _questions(data: dict[str, Any]) -> Iterator[str]:
    domains = {d["code"] for d in data["domains"]}
    for i, question in enumerate(data["questions"]):
        kind, path = question["type"], f"questions/{i}"
        if kind in CHOICE_TYPES and "options" not in question:
            yield f"{path}/options: a {kind} question needs options"
        if kind not in CHOICE_TYPES and "options" in question:
            yield f"{path}/options: only choice questions have options, not {kind}"
        for end in ("min", "max"):
            if end in question and kind != "number":
                yield f"{path}/{end}: only number questions have a {end}"
        if question.get("min", float("-inf")) > question.get("max", float("inf")):
            yield f"{path}/min: is above max"
        for domain, spec in (question.get("scores") or {}).items():
            if domain not in domains:
                yield f"{path}/scores/{domain}: unknown domain {domain!r}"
            yield from _score_problems(question, f"{path}/scores/{domain}", spec)


def _score_problems(question: dict[str, Any], path: str, spec: Any) -> Iterator[str]:
    kind = question["type"]
    if kind in ("date", "short_text"):
        yield f"{path}: {kind} questions cannot score"
    elif kind == "number" and not isinstance(spec, list):
        yield f"{path}: a number question scores by bands (a list of min, max and weight)"
    elif kind != "number" and isinstance(spec, list):
        yield f"{path}: bands are only for number questions; give option value: weight"
    elif isinstance(spec, list):
        for j, band in enumerate(spec):
            if band.get("min", float("-inf")) > band.get("max", float("inf")):
                yield f"{path}/{j}/min: is above max"
    else:
        values = _option_values(question)
        for value in spec:
            if str(value) not in values:
                yield (f"{path}/{value}: {str(value)!r} is not an option ({', '.join(values)})"
                       f"{_unquoted(value)}")


def _flags(data: dict[str, Any]) -> Iterator[str]:
    questions = {q["id"]: q for q in data["questions"]}
    for i, flag in enumerate(data.get("flags", [])):
        if flag["code"] not in HARDER_TO_HELP:
            yield (f"flags/{i}/code: {flag['code']!r} is not a harder-to-help group "
                   f"({', '.join(HARDER_TO_HELP)})")
        question = questions.get(flag["question"])
        if question is None:
            yield f"flags/{i}/question: unknown question {flag['question']!r}"
            continue
        values = _option_values(question)
        if not values:
            yield f"flags/{i}/question: {flag['question']!r} has no options to flag on"
            continue
        for value in flag["values"]:
            if str(value) not in values:
                yield (f"flags/{i}/values: {str(value)!r} is not an option of "
                       f"{flag['question']!r} ({', '.join(values)}){_unquoted(value)}")


def _unquoted(value: Any) -> str:
    """YAML reads an unquoted yes or no as true or false: say so where that is the likely slip."""
    if str(value) in ("True", "False", "true", "false"):
        return "; write 'yes' and 'no' in quotes (unquoted, YAML reads them as true and false)"
    return ""


def _needs(data: dict[str, Any]) -> Iterator[str]:
    domains = {d["code"] for d in data["domains"]}
    for i, need in enumerate(data.get("needs", [])):
        if need["domain"] not in domains:
            yield f"needs/{i}/domain: unknown domain {need['domain']!r}"
        if need["service_line"] not in SERVICE_LINES:
            yield (f"needs/{i}/service_line: {need['service_line']!r} is not an LSSF service "
                   f"line ({', '.join(SERVICE_LINES)})")


def _levels(data: dict[str, Any]) -> Iterator[str]:
    levels = data["levels"]
    for i in range(1, len(levels)):
        if levels[i]["min_total"] >= levels[i - 1]["min_total"]:
            yield (f"levels/{i}/min_total: levels go from the most support down, so each "
                   f"min_total must be below the one before ({levels[i - 1]['min_total']})")
    last = levels[-1]
    if last["min_total"] != 0 or "min_domain" in last:
        yield (f"levels/{len(levels) - 1}: the last level must be the catch-all "
               "(min_total 0 and no min_domain)")


def _protocol_problems(data: dict[str, Any], protocols: ProtocolSet) -> Iterator[str]:
    known = {p.id for p in protocols.protocols}
    main = data["protocol"]
    if main not in known:
        yield f"protocol: unknown protocol {main!r}"
        return
    others = data.get("referral_protocols", [])
    for i, protocol_id in enumerate(others):
        if protocol_id not in known:
            yield f"referral_protocols/{i}: unknown protocol {protocol_id!r}"
    categories = {c.code for p in protocols.protocols if p.id == main for c in p.categories}
    for i, question in enumerate(data["questions"]):
        if question["category"] not in categories:
            yield (f"questions/{i}/category: {question['category']!r} is not a category of "
                   f"protocol {main!r}")
    # A referral may go to any party, for any purpose, that one of the form's protocols pairs.
    pairs = {(party.id, purpose) for p in protocols.protocols if p.id in {main, *others}
             for party in p.parties for purpose in p.purposes}
    for i, need in enumerate(data.get("needs", [])):
        proposal, path = need["proposal"], f"needs/{i}/proposal"
        if proposal["kind"] == "action" and proposal["category"] not in categories:
            yield (f"{path}/category: {proposal['category']!r} is not a category of protocol "
                   f"{main!r}")
        if proposal["kind"] == "referral":
            yield from _referral_problems(path, proposal, pairs)


def _referral_problems(path: str, proposal: dict[str, Any],
                       pairs: set[tuple[str, str]]) -> Iterator[str]:
    if proposal["purpose"] not in {purpose for _org, purpose in pairs}:
        yield (f"{path}/purpose: {proposal['purpose']!r} is not a purpose of the form's "
               "protocols")
    elif (proposal["to_org"], proposal["purpose"]) not in pairs:
        yield (f"{path}/to_org: no protocol of the form has {proposal['to_org']!r} as a "
               f"party with the purpose {proposal['purpose']!r}")
