"""Parser fuzzing with hypothesis: protocol files, consent form files and request bodies.

What may come out of a parser given hostile input is a documented validation error, nothing
else:
- protocol and consent form files: a Protocol/ConsentForm, or PolicyFileError whose every
  problem line names a file of the set and the place in it (`file: where: message`);
- request bodies: the loaded data, or marshmallow's ValidationError whose every message is keyed
  by a field the schema declares (the API turns these into 422 `errors.<field>`).

Inputs: arbitrary bytes and text; arbitrary JSON/YAML structures; mutations of the shipped
protocols and forms (a value replaced by an arbitrary one or by a nasty one of another type, a key
deleted, a list item duplicated, characters inserted into or cut from the YAML text); for each
request schema, arbitrary JSON and bodies built from the schema's own field names with arbitrary
values (so generation gets past the unknown-field check into each field's validation).

Sizes are hypothesis profiles: `parsers-short` in `make test`, `parsers-full` in
`make reliability` (CASESHARE_HYPOTHESIS_PROFILE=parsers-full).
"""

from __future__ import annotations

import copy
import importlib
import json
import os
import pkgutil
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import Schema
from marshmallow import ValidationError as SchemaError
from marshmallow import fields as mfields

import caseshare.schemas
from caseshare.consent.forms import load_form, load_forms
from caseshare.errors import PolicyFileError
from caseshare.policy.loader import load_directory, load_file, load_files
from tests.conftest import ROOT

settings.register_profile("parsers-short", max_examples=40, deadline=None, database=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("parsers-full", max_examples=500, deadline=None, database=None,
                          suppress_health_check=[HealthCheck.too_slow])
PROFILE = settings.get_profile(os.environ.get("CASESHARE_HYPOTHESIS_PROFILE", "parsers-short"))

POLICIES = sorted((ROOT / "policies").glob("*.yaml"))
FORMS = sorted((ROOT / "consent_forms").glob("*.yaml"))
CASES: Counter[str] = Counter()

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                max_size=4),
    max_leaves=20,
)
NASTY = st.sampled_from([None, "", " ", -1, 0, 2**64, 1.5, True, [], {}, [None], {"": None},
                         "2026-02-30", "0000-00-00", "../../etc/passwd", "x" * 5000,
                         "{{ 7*7 }}", "\u0000", "\ud800", "*anchor", "!!python/object:os.system"]
                        ).map(copy.deepcopy)  # a fresh [] or {} each time: mutations edit them


@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    yield
    print(f"\nparser fuzz cases: {dict(CASES)}")
    out = os.environ.get("CASESHARE_RELIABILITY_REPORT")
    if out:
        with Path(out).open("a") as f:
            f.write(json.dumps({"parser_fuzz": dict(CASES)}) + "\n")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="module")
def protocols() -> Any:
    return load_directory(ROOT / "policies")


def _assert_names_a_place(exc: PolicyFileError, names: set[str]) -> None:
    assert exc.problems, "a refusal with no problem listed"
    for line in exc.problems:
        name, _, rest = line.partition(": ")
        assert name in names and rest.strip(), line


# --- mutation of a parsed document ---------------------------------------------------------


def _paths(value: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [here]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*here, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*here, i))
    return out


def _mutate(doc: Any, data: st.DataObject) -> Any:
    doc = copy.deepcopy(doc)
    for _ in range(data.draw(st.integers(1, 3))):
        paths = [p for p in _paths(doc) if p]
        if not paths:
            break
        path = data.draw(st.sampled_from(paths))
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        last = path[-1]
        op = data.draw(st.sampled_from(["replace", "nasty", "delete", "duplicate", "swap"]))
        if op == "replace":
            parent[last] = data.draw(json_values)
        elif op == "nasty":
            parent[last] = data.draw(NASTY)
        elif op == "delete":
            del parent[last]
        elif op == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[last]))
        elif op == "swap":
            other = data.draw(st.sampled_from(paths))
            source = doc
            try:
                for key in other:
                    source = source[key]
            except (KeyError, IndexError, TypeError):
                continue
            parent[last] = copy.deepcopy(source)
    return doc


def _text_mutation(text: str, data: st.DataObject) -> str:
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(text)))
        if data.draw(st.booleans()):
            text = text[:at] + data.draw(st.text(max_size=8)) + text[at:]
        else:
            text = text[:at] + text[at + data.draw(st.integers(1, 40)):]
    return text


def _dump(doc: Any) -> str:
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


# --- protocol files ----------------------------------------------------------------------------


def _load_protocol_set(workdir: Path, name: str, content: str | bytes) -> None:
    """The mutated file among the other shipped protocols, loaded as the server does."""
    directory = workdir / "policies"
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir()
    for path in POLICIES:
        if path.name != name:
            shutil.copy(path, directory / path.name)
    target = directory / name
    if isinstance(content, bytes):
        target.write_bytes(content)
    else:
        target.write_text(content, encoding="utf-8", errors="surrogatepass")
    names = {p.name for p in directory.iterdir()}
    try:
        load_file(target)
    except PolicyFileError as exc:
        _assert_names_a_place(exc, {name})
    try:
        load_files(sorted(directory.iterdir()))
    except PolicyFileError as exc:
        _assert_names_a_place(exc, names)


@settings(PROFILE)
@given(data=st.data(), source=st.sampled_from(POLICIES))
def test_mutated_shipped_protocols_load_or_name_the_problem(
    workdir: Path, data: st.DataObject, source: Path
) -> None:
    CASES["protocol_mutations"] += 1
    doc = yaml.safe_load(source.read_text(encoding="utf-8"))
    _load_protocol_set(workdir, source.name, _dump(_mutate(doc, data)))


@settings(PROFILE)
@given(data=st.data(), source=st.sampled_from(POLICIES))
def test_protocol_text_cut_or_spliced_loads_or_names_the_problem(
    workdir: Path, data: st.DataObject, source: Path
) -> None:
    CASES["protocol_text_edits"] += 1
    _load_protocol_set(workdir, source.name,
                       _text_mutation(source.read_text(encoding="utf-8"), data))


@settings(PROFILE)
@given(content=st.binary(max_size=300) | st.text(max_size=300).map(str.encode)
       | json_values.map(lambda v: json.dumps(v).encode())
       | json_values.map(lambda v: _dump(v).encode()))
def test_arbitrary_protocol_file_content_is_refused_by_name(workdir: Path, content: bytes) -> None:
    CASES["protocol_arbitrary"] += 1
    _load_protocol_set(workdir, "arbitrary.v1.yaml", content)


# --- consent form files ------------------------------------------------------------------------


def _load_form_file(workdir: Path, protocols: Any, name: str, content: str | bytes) -> None:
    directory = workdir / "forms"
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir()
    shutil.copy(ROOT / "consent_forms" / "published.json", directory / "published.json")
    target = directory / name
    if isinstance(content, bytes):
        target.write_bytes(content)
    else:
        target.write_text(content, encoding="utf-8", errors="surrogatepass")
    try:
        load_form(target, protocols)
    except PolicyFileError as exc:
        _assert_names_a_place(exc, {name})
    try:
        load_forms([target], protocols)
    except PolicyFileError as exc:
        _assert_names_a_place(exc, {name})


@settings(PROFILE)
@given(data=st.data(), source=st.sampled_from(FORMS))
def test_mutated_shipped_consent_forms_load_or_name_the_problem(
    workdir: Path, protocols: Any, data: st.DataObject, source: Path
) -> None:
    CASES["form_mutations"] += 1
    doc = yaml.safe_load(source.read_text(encoding="utf-8"))
    _load_form_file(workdir, protocols, source.name, _dump(_mutate(doc, data)))


@settings(PROFILE)
@given(data=st.data(), source=st.sampled_from(FORMS))
def test_consent_form_text_cut_or_spliced_loads_or_names_the_problem(
    workdir: Path, protocols: Any, data: st.DataObject, source: Path
) -> None:
    CASES["form_text_edits"] += 1
    _load_form_file(workdir, protocols, source.name,
                    _text_mutation(source.read_text(encoding="utf-8"), data))


@settings(PROFILE)
@given(content=st.binary(max_size=300) | json_values.map(lambda v: _dump(v).encode()))
def test_arbitrary_consent_form_content_is_refused_by_name(
    workdir: Path, protocols: Any, content: bytes
) -> None:
    CASES["form_arbitrary"] += 1
    _load_form_file(workdir, protocols, "arbitrary.v1.yaml", content)


# --- request bodies ----------------------------------------------------------------------------

INPUT_SUFFIXES = ("Create", "In", "Patch", "Query", "Review", "Decline")


def _request_schemas() -> list[type[Schema]]:
    found: dict[str, type[Schema]] = {}
    for module in pkgutil.iter_modules(caseshare.schemas.__path__):
        mod = importlib.import_module(f"caseshare.schemas.{module.name}")
        for name, value in vars(mod).items():
            if (isinstance(value, type) and issubclass(value, Schema)
                    and value.__module__ == mod.__name__ and name.endswith(INPUT_SUFFIXES)):
                found[f"{module.name}.{name}"] = value
    return [found[k] for k in sorted(found)]


REQUEST_SCHEMAS = _request_schemas()


def _guided(schema: Schema, depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    """Bodies made of the schema's own field names with values that are arbitrary, nasty or
    (for nested schemas) guided again."""
    values: dict[str, st.SearchStrategy[Any]] = {}
    for name, field in schema.fields.items():
        key = field.data_key or name
        options = json_values | NASTY
        if depth < 2 and isinstance(field, mfields.Nested) and isinstance(field.schema, Schema):
            options = options | _guided(field.schema, depth + 1)
        if depth < 2 and isinstance(field, mfields.List) and isinstance(
                field.inner, mfields.Nested) and isinstance(field.inner.schema, Schema):
            options = options | st.lists(_guided(field.inner.schema, depth + 1), max_size=3)
        values[key] = options
    return st.fixed_dictionaries({}, optional=values)


def _assert_loads_or_names_fields(schema: Schema, body: Any) -> None:
    try:
        schema.load(body)
    except SchemaError as exc:
        messages = exc.normalized_messages()
        known = {f.data_key or n for n, f in schema.fields.items()}
        assert isinstance(messages, dict) and messages, messages
        # An unknown field is named by itself; a rule about the whole body names `body`, and a
        # body that is not an object is marshmallow's `_schema`.
        for key in messages:
            assert key in known or key in (body if isinstance(body, dict) else {}) \
                or key == "body" or (key == "_schema" and not isinstance(body, dict)), \
                (key, messages)


@pytest.mark.parametrize("schema_class", REQUEST_SCHEMAS, ids=lambda s: s.__name__)
def test_request_bodies_load_or_name_the_field(schema_class: type[Schema]) -> None:
    schema = schema_class()

    @settings(PROFILE)
    @given(body=json_values | _guided(schema))
    def fuzz(body: Any) -> None:
        CASES["request_bodies"] += 1
        _assert_loads_or_names_fields(schema, body)

    fuzz()


def test_every_request_schema_is_fuzzed() -> None:
    names = {s.__name__ for s in REQUEST_SCHEMAS}
    assert {"ConsentCreate", "EntryIn", "EntryPatch", "ReferralCreate", "OverrideCreate",
            "SubjectCreate", "WithdrawalCreate"} <= names, names
