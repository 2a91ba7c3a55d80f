"""Outcome code files: the shipped partnership lists load and cover the trialling menu; a bad
file refuses start naming the file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from caseshare import StartupError, create_app
from caseshare.errors import PolicyFileError
from caseshare.outcomes.codes import load_partnerships
from caseshare.policy.loader import load_directory
from tests.conftest import ROOT

MENU = {"paying_own_rent_6m", "apa_identified", "apa_in_place", "money_action_plan_agreed",
        "money_plan_reviewed_monthly", "bank_account_opened", "credit_union_account_opened",
        "online_account_set_up", "claim_managed_online"}


def _load(directory: Path) -> object:
    return load_partnerships(directory, load_directory(ROOT / "policies"))


def test_shipped_lists_cover_the_trialling_menu_and_local_codes() -> None:
    codes = load_partnerships(ROOT / "partnerships", load_directory(ROOT / "policies"))
    derby = codes.by_protocol["derby-local-support"]
    assert set(derby) >= MENU
    assert {c for c, d in derby.items() if d.measure == "trialling_menu"} == MENU
    assert len([d for d in derby.values() if d.measure == "local"]) == 2
    assert [c for c, d in derby.items() if d.computed] == ["paying_own_rent_6m"]
    assert derby["apa_in_place"].category == "housing_tenancy"
    assert "carmarthenshire-support" in codes.by_protocol


def _write(tmp_path: Path, protocol: str, text: str) -> Path:
    (tmp_path / protocol).mkdir()
    (tmp_path / protocol / "outcomes.yaml").write_text(text)
    return tmp_path


@pytest.mark.parametrize(("text", "needle"), [
    ("outcomes:\n  - {code: x_y, label: X, category: finances, measure: local}\n",
     "category: 'finances' is not a category"),
    ("outcomes:\n  - {code: a_b, label: A, category: housing_tenancy, measure: menu}\n",
     "outcomes/0/measure"),
    ("outcomes:\n  - {code: a_b, label: A, category: housing_tenancy, measure: local,"
     " service_line: gardening}\n", "outcomes/0/service_line"),
    ("outcomes:\n  - {code: a_b, label: A, category: housing_tenancy, measure: local}\n"
     "  - {code: a_b, label: B, category: housing_tenancy, measure: local}\n",
     "duplicate code 'a_b'"),
    ("outcomes: []\n", "non-empty list"),
    ("outcomes:\n  - {code: a_b, category: housing_tenancy, measure: local, colour: red}\n",
     "unknown field 'colour'"),
])
def test_bad_files_are_refused_naming_file_and_field(tmp_path: Path, text: str,
                                                     needle: str) -> None:
    directory = _write(tmp_path, "carmarthenshire-support", text)
    with pytest.raises(PolicyFileError) as caught:
        _load(directory)
    assert any(p.startswith("carmarthenshire-support/outcomes.yaml: ") and needle in p
               for p in caught.value.problems), caught.value.problems


def test_a_directory_that_names_no_protocol_is_refused(tmp_path: Path) -> None:
    directory = _write(tmp_path, "nowhere", "outcomes: []\n")
    with pytest.raises(PolicyFileError, match="no loaded protocol"):
        _load(directory)


def test_the_app_refuses_to_start_on_a_bad_outcomes_file(tmp_path: Path) -> None:
    (tmp_path / "partnerships").mkdir()
    directory = _write(tmp_path / "partnerships", "derby-local-support", "outcomes: {}\n")
    with pytest.raises(StartupError, match=r"derby-local-support/outcomes\.yaml"):
        create_app({"instance_path": tmp_path / "instance", "partnerships_dir": directory})
