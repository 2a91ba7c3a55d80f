"""Protocol files: the shipped ones load; every kind of bad file is refused with a message that
names the file and the field."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from caseshare.errors import PolicyFileError
from caseshare.policy import loader
from caseshare.policy.loader import load_directory, load_file, load_files
from tests.conftest import ROOT

VALID: dict[str, Any] = {
    "id": "test-isp",
    "version": 1,
    "title": "Test sharing protocol",
    "type": "ISP",
    "framework": "local",
    "status": "active",
    "effective_from": "2026-01-01",
    "review_date": "2026-12-31",
    "expires_on": "2027-06-30",
    "parties": [
        {"id": "org-a", "name": "Org A", "sector": "central_gov", "public_authority": True,
         "status": "active"},
        {"id": "org-b", "name": "Org B", "sector": "health", "public_authority": False,
         "status": "active"},
    ],
    "purposes": [{"code": "case_management", "description": "Coordinating"}],
    "categories": [
        {"code": "contact", "description": "Contact details"},
        {"code": "substance_misuse", "description": "Treatment", "special": True},
        {"code": "offending", "description": "Offending", "criminal": True},
        {"code": "benefit_claim", "description": "UC claim", "dwp_origin": True},
    ],
    "flows": [
        {"id": "f1", "from": ["org-b"], "to": ["org-a"], "purposes": ["case_management"],
         "categories": ["contact", "substance_misuse"], "consent": "explicit",
         "max_consent_days": 365, "direction": "one_way"},
        {"id": "f2", "from": ["org-a"], "to": ["org-b"], "purposes": ["case_management"],
         "categories": ["contact"], "consent": "consent", "max_consent_days": 365,
         "direction": "one_way"},
    ],
    "grants": [
        {"roles": ["work_coach"], "parties": ["org-a"], "purposes": ["case_management"],
         "read": ["contact", "substance_misuse"], "write": ["contact"]},
    ],
    "override": {"permitted": True, "routes": ["safeguarding"], "roles": ["work_coach"],
                 "max_hours": 24, "min_justification": 100},
}


def write(tmp_path: Path, data: dict[str, Any], name: str = "test-isp.v1.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def problems_of(paths: list[Path], today: date | None = None) -> list[str]:
    with pytest.raises(PolicyFileError) as caught:
        load_files(paths, today)
    return caught.value.problems


def mutated(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    data = copy.deepcopy(VALID)
    change(data)
    return data


def test_shipped_protocols_load_with_the_welsh_isp() -> None:
    protocols = load_directory(ROOT / "policies")
    refs = sorted(p.ref for p in protocols.protocols)
    assert refs == ["carmarthenshire-support@1", "derby-local-support@1", "derby-triage@1",
                    "recovery-jcp@1"]
    welsh = protocols.get("carmarthenshire-support", 1)
    assert welsh is not None
    assert welsh.framework == "WASPI" and welsh.type == "ISP"
    assert welsh.title_cy and "Sir Gaerfyrddin" in welsh.title_cy
    assert welsh.qa_reference == "WASPI-QA-HD-2026-0117"
    assert welsh.effective_from < welsh.review_date < welsh.expires_on
    assert len(welsh.content_hash) == 64


def test_the_valid_fixture_is_valid(tmp_path: Path) -> None:
    protocol = load_file(write(tmp_path, VALID))
    assert protocol.ref == "test-isp@1"
    assert protocol.index.grant_for("org-a", frozenset({"work_coach"}), "case_management",
                                    "read", "substance_misuse") == 0


def test_malformed_yaml_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("id: test-isp\nversion: 1\nparties: [ {id: org-a\n")
    [problem] = problems_of([path])
    assert problem.startswith("broken.yaml: malformed YAML at line ")


def test_duplicate_yaml_keys_are_refused_with_their_line(tmp_path: Path) -> None:
    path = tmp_path / "dup.yaml"
    path.write_text("id: test-isp\nversion: 1\nid: other\n")
    [problem] = problems_of([path])
    assert problem.startswith("dup.yaml: malformed YAML at line 3")
    assert "duplicate key 'id'" in problem


def test_an_impossible_date_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "date.yaml"
    path.write_text("id: test-isp\nversion: 1\nreview_date: 2026-02-30\n")
    [problem] = problems_of([path])
    assert problem.startswith("date.yaml: malformed YAML at line 3")
    assert "invalid date '2026-02-30'" in problem
    # Quoted, the same date is text and the schema's date format refuses it.
    quoted = write(tmp_path, mutated(lambda d: d.update(review_date="2026-02-30")), "q.yaml")
    assert "q.yaml: review_date: '2026-02-30' is not a 'date'" in problems_of([quoted])


def _python_loaders_message(path: Path) -> str:
    """The message the pure-Python loader alone gives (what the app always reported)."""
    with pytest.raises(yaml.YAMLError) as caught:
        yaml.load(path.read_bytes(), Loader=loader._StrictLoader)  # noqa: S506 (SafeLoader)
    mark = caught.value.problem_mark  # type: ignore[attr-defined]
    return (f"{path.name}: malformed YAML at line {mark.line + 1}, column {mark.column + 1}: "
            f"{caught.value.problem}")  # type: ignore[attr-defined]


@pytest.mark.parametrize("text", [
    "id: test-isp\nversion: 1\nparties: [ {id: org-a\n",  # unclosed flow collection
    "id: test-isp\n  version: 1\n",  # bad indentation
    "id: test-isp\nversion: 1\nid: other\n",  # duplicate key
    "id: test-isp\nreview_date: 2026-02-30\n",  # impossible date
    "id: 'unterminated\n",
    "id: a\tb: c\n- x\n",
])
def test_a_refused_file_gets_the_python_loaders_message_whichever_parser_ran(
        tmp_path: Path, text: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    [problem] = problems_of([path])
    assert problem == _python_loaders_message(path)


@pytest.mark.skipif(loader._FastStrictLoader is None, reason="PyYAML built without libyaml")
def test_libyaml_reads_the_shipped_files_as_the_python_loader_does() -> None:
    files = [*sorted((ROOT / "policies").glob("*.yaml")),
             *sorted((ROOT / "consent_forms").glob("*.yaml"))]
    assert files
    for path in files:
        raw = path.read_bytes()
        assert yaml.load(raw, Loader=loader._FastStrictLoader) == \
            yaml.load(raw, Loader=loader._StrictLoader), path.name  # noqa: S506 (SafeLoader)


@pytest.mark.skipif(loader._FastStrictLoader is None, reason="PyYAML built without libyaml")
def test_libyaml_refuses_duplicate_keys_and_impossible_dates_too() -> None:
    for text in ("a: 1\na: 2\n", "d: 2026-02-30\n"):
        with pytest.raises(yaml.constructor.ConstructorError):
            yaml.load(text, Loader=loader._FastStrictLoader)  # noqa: S506 (SafeLoader)


def test_a_file_that_is_not_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- id: test-isp\n")
    assert problems_of([path]) == ["list.yaml: (top level): must be a mapping of protocol keys"]


def test_an_unreadable_file(tmp_path: Path) -> None:
    assert problems_of([tmp_path / "missing.yaml"]) == [
        "missing.yaml: cannot read file (No such file or directory)"]


def _drop(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda d: d.pop(key)


BAD: list[tuple[str, Callable[[dict[str, Any]], None], str, str]] = [
    # (case, change, field named, words in the message)
    ("missing title", _drop("title"), "title", "'title' is a required property"),
    ("missing party status", lambda d: d["parties"][0].pop("status"), "parties/0/status",
     "required property"),
    ("unknown status", lambda d: d.update(status="live"), "status", "is not one of"),
    ("version not an integer", lambda d: d.update(version="one"), "version",
     "is not of type 'integer'"),
    ("unknown key in a party", lambda d: d["parties"][1].update(colour="red"), "parties/1",
     "'colour' was unexpected"),
    ("bad date text", lambda d: d.update(expires_on="30/06/2027"), "expires_on",
     "does not match"),
    ("bad code", lambda d: d.update(id="Test ISP"), "id", "does not match"),
    ("empty role list", lambda d: d["grants"][0].update(roles=[]), "grants/0/roles",
     "should be non-empty"),
    ("flow from an unknown organisation", lambda d: d["flows"][0].update({"from": ["org-x"]}),
     "flows/0/from", "unknown organisation 'org-x'"),
    ("flow to an unknown organisation", lambda d: d["flows"][0].update(to=["org-x"]),
     "flows/0/to", "unknown organisation 'org-x'"),
    ("flow with an undeclared purpose", lambda d: d["flows"][0].update(purposes=["triage"]),
     "flows/0/purposes", "unknown purpose 'triage'"),
    ("flow with an undeclared category",
     lambda d: d["flows"][0].update(categories=["finances"]),
     "flows/0/categories", "unknown category 'finances'"),
    ("grant for an unknown organisation", lambda d: d["grants"][0].update(parties=["org-x"]),
     "grants/0/parties", "unknown organisation 'org-x'"),
    ("grant with an undeclared purpose", lambda d: d["grants"][0].update(purposes=["triage"]),
     "grants/0/purposes", "unknown purpose 'triage'"),
    ("grant reads an undeclared category", lambda d: d["grants"][0].update(read=["finances"]),
     "grants/0/read", "unknown category 'finances'"),
    ("grant writes an undeclared category", lambda d: d["grants"][0].update(write=["finances"]),
     "grants/0/write", "unknown category 'finances'"),
    ("grant writes what no flow carries from that party",
     lambda d: d["grants"][0].update(write=["substance_misuse"]), "grants/0/write",
     "'org-a' can never write 'substance_misuse': no flow from it carries that category"),
    ("grant to a built-in role", lambda d: d["grants"][0].update(roles=["ig_officer"]),
     "grants/0/roles", "built in"),
    ("override for a role no grant defines",
     lambda d: d["override"].update(roles=["key_worker"]),
     "override/roles", "unknown role 'key_worker'"),
    ("override permitted without routes", lambda d: d["override"].update(routes=[]),
     "override/routes", "required when override is permitted"),
    ("duplicate organisation id", lambda d: d["parties"].append(copy.deepcopy(d["parties"][0])),
     "parties", "duplicate organisation id 'org-a'"),
    ("duplicate purpose code", lambda d: d["purposes"].append(copy.deepcopy(d["purposes"][0])),
     "purposes", "duplicate purpose code 'case_management'"),
    ("duplicate category code",
     lambda d: d["categories"].append({"code": "contact", "description": "again"}),
     "categories", "duplicate category code 'contact'"),
    ("duplicate flow id", lambda d: d["flows"].append(copy.deepcopy(d["flows"][0])),
     "flows", "duplicate flow id 'f1'"),
    ("review before effective", lambda d: d.update(review_date="2025-12-01"), "review_date",
     "2025-12-01 is before effective_from 2026-01-01"),
    ("expiry before effective", lambda d: d.update(expires_on="2025-06-30",
                                                   review_date="2025-01-01"),
     "expires_on", "2025-06-30 is before effective_from 2026-01-01"),
    ("expiry before review", lambda d: d.update(expires_on="2026-06-30"), "expires_on",
     "2026-06-30 is before review_date 2026-12-31"),
    ("special category on plain consent", lambda d: d["flows"][0].update(consent="consent"),
     "flows/0/art9_condition", "special category data ['substance_misuse'] needs explicit "
     "consent or an Art 9 condition"),
    ("special category with no consent and no condition",
     lambda d: d["flows"][0].update(consent="none"), "flows/0/art9_condition",
     "needs explicit consent or an Art 9 condition"),
    ("criminal data on plain consent",
     lambda d: d["flows"][0].update(consent="consent", categories=["offending"]),
     "flows/0/art10_condition", "criminal offence data ['offending'] needs"),
    ("consent flow without a maximum duration", lambda d: d["flows"][0].pop("max_consent_days"),
     "flows/0/max_consent_days", "every consent expires"),
    ("DWP data shared onward",
     lambda d: d["flows"][0].update(categories=["benefit_claim"], onward_sharing=True),
     "flows/0/onward_sharing", "DWP-origin data ['benefit_claim'] may not be shared onward"),
    ("one-way flow in both directions",
     lambda d: d["flows"][0].update(to=["org-a", "org-b"]),
     "flows/0/direction", "one-way flow cannot name an organisation in both"),
    ("reciprocal flow with different ends", lambda d: d["flows"][0].update(direction="reciprocal"),
     "flows/0/direction", "needs the same organisations in from and to"),
    ("two-way flow in a DDA", lambda d: d.update(type="DDA") or d["flows"][0].pop("direction"),
     "flows/0/direction", "only has one-way flows"),
    ("Art 6 basis for an organisation outside the flow",
     lambda d: d["flows"][0].update(art6_basis={"org-c": "6(1)(e) public task"}),
     "flows/0/art6_basis/org-c", "not an organisation of this flow"),
    ("WASPI without Welsh title", lambda d: d.update(framework="WASPI", qa={
        "outcome": "assured", "reference": "QA-1"}), "title_cy", "Welsh title"),
    ("active WASPI without QA", lambda d: d.update(framework="WASPI", title_cy="Protocol prawf"),
     "qa/outcome", "needs QA outcome 'assured'"),
    ("active WASPI with QA pending", lambda d: d.update(
        framework="WASPI", title_cy="Protocol prawf", qa={"outcome": "pending"}),
     "qa/reference", "needs its QA reference"),
    ("QA after the protocol took effect", lambda d: d.update(qa={
        "outcome": "assured", "reference": "QA-1", "assured_on": "2026-02-01"}),
     "qa/assured_on", "is after effective_from"),
]


@pytest.mark.parametrize(("change", "field", "words"), [b[1:] for b in BAD],
                         ids=[b[0] for b in BAD])
def test_each_bad_input_names_file_and_field(
    tmp_path: Path, change: Callable[[dict[str, Any]], None], field: str, words: str
) -> None:
    problems = problems_of([write(tmp_path, mutated(change), "bad.yaml")])
    matching = [p for p in problems if p.startswith(f"bad.yaml: {field}: ") and words in p]
    assert matching, problems


def test_every_problem_in_every_file_is_reported_together(tmp_path: Path) -> None:
    one = write(tmp_path, mutated(lambda d: d["grants"][0].update(
        purposes=["triage"], read=["finances"])), "one.yaml")
    two = write(tmp_path, mutated(lambda d: d.update(id="other", status="live")), "two.yaml")
    problems = problems_of([one, two])
    assert any(p.startswith("one.yaml: grants/0/purposes: ") for p in problems)
    assert any(p.startswith("one.yaml: grants/0/read: ") for p in problems)
    assert any(p.startswith("two.yaml: status: ") for p in problems)


def test_the_same_version_twice_is_refused(tmp_path: Path) -> None:
    first = write(tmp_path, VALID, "a.yaml")
    second = write(tmp_path, VALID, "b.yaml")
    assert problems_of([first, second]) == [
        "b.yaml: version: test-isp@1 is also defined in a.yaml"]


def test_overlapping_active_versions_are_refused(tmp_path: Path) -> None:
    v1 = write(tmp_path, VALID, "v1.yaml")
    v2 = write(tmp_path, mutated(lambda d: d.update(
        version=2, effective_from="2027-01-01", review_date="2027-06-01",
        expires_on="2028-01-01")), "v2.yaml")
    [problem] = problems_of([v1, v2])
    assert problem.startswith("v2.yaml: effective_from: active version 2 overlaps active "
                              "version 1 of test-isp (v1.yaml)")


def test_consecutive_or_inactive_versions_may_coexist(tmp_path: Path) -> None:
    v1 = write(tmp_path, VALID, "v1.yaml")
    v2 = write(tmp_path, mutated(lambda d: d.update(
        version=2, effective_from="2027-07-01", review_date="2028-01-01",
        expires_on="2028-06-30")), "v2.yaml")
    v3 = write(tmp_path, mutated(lambda d: d.update(version=3, status="draft")), "v3.yaml")
    assert len(load_files([v1, v2, v3]).protocols) == 3


def test_a_category_means_the_same_in_every_protocol(tmp_path: Path) -> None:
    first = write(tmp_path, VALID, "a.yaml")
    second = write(tmp_path, mutated(lambda d: d.update(id="other") or d["categories"][1].update(
        special=False) or d["flows"][0].update(consent="consent")), "b.yaml")
    assert problems_of([first, second]) == [
        "b.yaml: categories/substance_misuse/special: false here but true in a.yaml"]


def test_an_active_protocol_past_expiry_is_reported_when_checking(tmp_path: Path) -> None:
    path = write(tmp_path, VALID, "old.yaml")
    assert load_files([path], today=date(2027, 6, 30)).protocols
    assert problems_of([path], today=date(2027, 7, 1)) == [
        "old.yaml: expires_on: active protocol expired on 2027-06-30; set status: expired or "
        "agree a new version"]


def test_an_empty_policies_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PolicyFileError) as caught:
        load_directory(tmp_path)
    assert caught.value.problems == [f"{tmp_path}: no protocol files found"]


def test_welsh_party_names_are_kept() -> None:
    protocols = load_directory(ROOT / "policies")
    assert protocols.party_name("tywi-recovery", "cy") == "Gwasanaeth Adferiad Tywi"
    assert protocols.party_name("tywi-recovery") == "Tywi Recovery Service"
    assert protocols.party_name("jcp-derby", "cy") == "Derby Jobcentre Plus"  # none given
    assert protocols.party_name("no-such-org", "cy") is None


def test_consent_cooling_days_defaults_to_30_and_can_be_set(tmp_path: Path) -> None:
    default = load_files([write(tmp_path, VALID)], date(2026, 6, 1))
    assert default.consent_cooling_days("org-a") == 30
    longer = mutated(lambda d: d.update(consent_cooling_days=60))
    assert load_files([write(tmp_path, longer)], date(2026, 6, 1)).consent_cooling_days(
        "org-a") == 60
    bad = mutated(lambda d: d.update(consent_cooling_days=-1))
    assert any("consent_cooling_days" in p for p in problems_of([write(tmp_path, bad)]))
