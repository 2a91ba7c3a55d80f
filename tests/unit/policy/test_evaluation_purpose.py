"""The `evaluation` purpose (MI): declared with its own lawful basis, carried by no flow, and
granted only alone and with no category to read or write; the shipped Derby protocol declares
it, Carmarthenshire's does not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from caseshare.policy.loader import load_directory, load_files
from tests.conftest import ROOT
from tests.unit.policy.test_loader import mutated, problems_of, write

EVALUATION = {"code": "evaluation", "description": "Evaluating outcomes (counts only)",
              "lawful_basis": "Public task: evaluating the trial with anonymous counts"}
GRANT = {"roles": ["analyst"], "parties": ["org-a"], "purposes": ["evaluation"], "read": []}


def _with(purpose: dict[str, Any], grant: dict[str, Any] | None = None) -> Any:
    def change(data: dict[str, Any]) -> None:
        data["purposes"].append(purpose)
        if grant is not None:
            data["grants"].append(grant)
    return mutated(change)


def test_evaluation_with_its_lawful_basis_and_an_empty_grant_loads(tmp_path: Path) -> None:
    protocols = load_files([write(tmp_path, _with(EVALUATION, GRANT))])
    assert protocols.protocols[0].lawful_bases == (("evaluation", EVALUATION["lawful_basis"]),)


def test_evaluation_without_a_lawful_basis_is_refused(tmp_path: Path) -> None:
    bare = {k: v for k, v in EVALUATION.items() if k != "lawful_basis"}
    problems = problems_of([write(tmp_path, _with(bare))])
    assert any("purposes/1/lawful_basis" in p and "own lawful basis" in p for p in problems)


def test_an_evaluation_grant_that_reads_a_category_is_refused(tmp_path: Path) -> None:
    problems = problems_of([write(tmp_path, _with(EVALUATION, {**GRANT, "read": ["contact"]}))])
    assert any("grants/1" in p and "evaluation" in p for p in problems)


def test_a_flow_carrying_evaluation_is_refused(tmp_path: Path) -> None:
    data = _with(EVALUATION)
    data["flows"][1]["purposes"].append("evaluation")
    problems = problems_of([write(tmp_path, data)])
    assert any("flows/1/purposes" in p for p in problems)


def test_derby_declares_evaluation_and_carmarthenshire_does_not() -> None:
    protocols = {p.id: p for p in load_directory(ROOT / "policies").protocols}
    assert "evaluation" in protocols["derby-local-support"].purposes
    assert dict(protocols["derby-local-support"].lawful_bases)["evaluation"]
    assert "evaluation" not in protocols["carmarthenshire-support"].purposes
