"""`caseshare assessments check|publish`: a non-zero exit naming file and field on any problem;
publish pins new versions only; start-up refuses a published form whose wording changed."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask

from caseshare import StartupError, create_app
from tests.conftest import ROOT

FORMS = ROOT / "assessment_forms"
TRIAGE = "derby-budgeting-digital-triage.v1.yaml"


def _app(tmp_path: Path, forms_dir: Path = FORMS) -> Flask:
    return create_app({"instance_path": tmp_path / "instance", "database_url": "sqlite://",
                       "assessment_forms_dir": forms_dir})


@pytest.fixture
def copied(tmp_path: Path) -> Path:
    directory = tmp_path / "forms"
    shutil.copytree(FORMS, directory)
    return directory


@pytest.fixture
def cli_app(tmp_path: Path, copied: Path) -> Iterator[Flask]:
    app = _app(tmp_path, copied)
    yield app
    app.extensions["caseshare"].engine.dispose()


def _run(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=["caseshare", "assessments", *args])


def _edit(path: Path, change: Any) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_the_shipped_forms_pass_check(cli_app: Flask) -> None:
    result = _run(cli_app, "check")
    assert result.exit_code == 0, result.output
    assert "OK: 2 assessment form file(s) valid" in result.output


def test_check_names_file_and_field_and_exits_non_zero(cli_app: Flask, copied: Path,
                                                       tmp_path: Path) -> None:
    broken = copied / "draft.v1.yaml"
    shutil.copy(copied / TRIAGE, broken)
    _edit(broken, lambda d: d["questions"][3]["scores"].update({"housing": {"sometimes": 1}}))
    result = _run(cli_app, "check", str(broken))
    assert result.exit_code == 1
    assert ("ERROR draft.v1.yaml: questions/3/scores/housing/sometimes: 'sometimes' is not an "
            "option") in result.output

    elsewhere = tmp_path / "draft.v1.yaml"     # a good draft outside the directory: checked alone
    shutil.copy(copied / TRIAGE, elsewhere)
    result = _run(cli_app, "check", str(elsewhere))
    assert result.exit_code == 0 and "OK: 1 assessment form file(s) valid" in result.output


def test_publish_pins_a_new_version_and_start_up_refuses_changed_wording(
    tmp_path: Path, cli_app: Flask, copied: Path
) -> None:
    new = copied / "derby-budgeting-digital-triage.v2.yaml"
    shutil.copy(copied / TRIAGE, new)
    _edit(new, lambda d: d.update(version=2))
    assert "is not in published.json" in _run(cli_app, "check").output

    published = _run(cli_app, "publish")
    assert published.exit_code == 0, published.output
    assert "published: derby-budgeting-digital-triage@2" in published.output
    register = json.loads((copied / "published.json").read_text())
    shipped = json.loads((FORMS / "published.json").read_text())
    assert {k: v for k, v in register.items() if k in shipped} == shipped  # never rewritten
    assert _run(cli_app, "check").exit_code == 0

    _edit(new, lambda d: d["title"].update(cy="Brysbennu newydd"))
    refused = _run(cli_app, "publish")
    assert refused.exit_code == 1
    assert ("ERROR derby-budgeting-digital-triage.v2.yaml: text/cy: wording differs from "
            "published derby-budgeting-digital-triage@2") in refused.output
    with pytest.raises(StartupError, match="wording differs from published"):
        _app(tmp_path / "again", copied)


def test_start_up_refuses_an_invalid_form_naming_file_and_field(tmp_path: Path,
                                                                 copied: Path) -> None:
    _edit(copied / TRIAGE, lambda d: d["needs"][0]["proposal"].update(to_org="recovery-derby"))
    with pytest.raises(StartupError) as refused:
        _app(tmp_path, copied)
    assert ("derby-budgeting-digital-triage.v1.yaml: needs/0/proposal/to_org: no protocol of "
            "the form has 'recovery-derby' as a party with the purpose 'budgeting_support'"
            in str(refused.value))
