"""`flask caseshare policies check [FILE...]`, and the app refusing to start on a bad file."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask

from caseshare import StartupError, create_app
from tests.conftest import ROOT


def check(app: Flask, *files: Path) -> Any:
    return app.test_cli_runner().invoke(args=["caseshare", "policies", "check",
                                              *map(str, files)])


def recovery_jcp() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "policies/recovery-jcp.v1.yaml").read_text())
    return data


def dump(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False, default_flow_style=False))
    return path


def test_the_shipped_protocols_pass(app: Flask) -> None:
    result = check(app)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "OK: 4 protocol file(s) valid"


def test_a_good_new_version_passes_alongside_the_loaded_ones(app: Flask, tmp_path: Path) -> None:
    data = recovery_jcp()
    data.update(version=2, status="draft")
    result = check(app, dump(tmp_path / "recovery-jcp.v2.yaml", data))
    assert result.exit_code == 0, result.output
    assert "OK: 5 protocol file(s) valid" in result.output


def test_giving_a_loaded_file_again_does_not_count_it_twice(app: Flask) -> None:
    result = check(app, ROOT / "policies/recovery-jcp.v1.yaml")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(("name", "text", "expected"), [
    ("malformed.yaml", "id: x\nparties: [\n", "ERROR malformed.yaml: malformed YAML at line 3"),
    ("schema.yaml", "id: x\nversion: 0\n", "ERROR schema.yaml: version: 0 is less than the "
     "minimum of 1"),
])
def test_broken_files_fail_with_file_and_location(
    app: Flask, tmp_path: Path, name: str, text: str, expected: str
) -> None:
    result = check(app, tmp_path.joinpath(name))  # missing file first
    assert result.exit_code == 1
    assert f"ERROR {name}: cannot read file" in result.output
    (tmp_path / name).write_text(text)
    result = check(app, tmp_path / name)
    assert result.exit_code == 1
    assert expected in result.output


def test_dangling_references_are_each_reported(app: Flask, tmp_path: Path) -> None:
    data = recovery_jcp()
    data.update(id="dangling")
    data["flows"][0]["to"] = ["jcp-nowhere"]
    data["grants"][0]["purposes"] = ["triage"]
    data["grants"][1]["read"] = ["finances"]
    result = check(app, dump(tmp_path / "dangling.yaml", data))
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert ("ERROR dangling.yaml: flows/0/to: unknown organisation 'jcp-nowhere' (not declared "
            "in this protocol)") in lines
    assert ("ERROR dangling.yaml: grants/0/purposes: unknown purpose 'triage' (not declared in "
            "this protocol)") in lines
    assert ("ERROR dangling.yaml: grants/1/read: unknown category 'finances' (not declared in "
            "this protocol)") in lines


def test_a_duplicate_of_a_loaded_version_is_refused(app: Flask, tmp_path: Path) -> None:
    result = check(app, dump(tmp_path / "copy.yaml", recovery_jcp()))
    assert result.exit_code == 1
    assert ("ERROR copy.yaml: version: recovery-jcp@1 is also defined in recovery-jcp.v1.yaml"
            in result.output)


def test_an_overlapping_active_version_is_refused(app: Flask, tmp_path: Path) -> None:
    data = recovery_jcp()
    data.update(version=2, effective_from="2027-03-01", review_date="2027-09-01",
                expires_on="2028-03-01")
    result = check(app, dump(tmp_path / "recovery-jcp.v2.yaml", data))
    assert result.exit_code == 1
    assert ("ERROR recovery-jcp.v2.yaml: effective_from: active version 2 overlaps active "
            "version 1 of recovery-jcp (recovery-jcp.v1.yaml)") in result.output


def test_dates_in_the_wrong_order_and_special_data_without_a_condition(
    app: Flask, tmp_path: Path
) -> None:
    data = recovery_jcp()
    data.update(id="bad-dates", review_date="2025-06-01")
    data["flows"][0].update(consent="consent")
    data["flows"][0].pop("art9_condition")
    result = check(app, dump(tmp_path / "bad-dates.yaml", data))
    assert result.exit_code == 1
    assert ("ERROR bad-dates.yaml: review_date: 2025-06-01 is before effective_from 2026-01-01"
            in result.output)
    assert ("ERROR bad-dates.yaml: flows/0/art9_condition: special category data "
            "['substance_misuse'] needs explicit consent or an Art 9 condition") in result.output


def test_an_active_protocol_past_expiry_is_reported(app: Flask, tmp_path: Path) -> None:
    # The app's clock (tests/conftest.py) stands at 2026-11-23.
    data = recovery_jcp()
    data.update(id="lapsed", effective_from="2025-01-01", review_date="2025-06-01",
                expires_on="2025-12-31")
    result = check(app, dump(tmp_path / "lapsed.yaml", data))
    assert result.exit_code == 1
    assert ("ERROR lapsed.yaml: expires_on: active protocol expired on 2025-12-31"
            in result.output)


def test_the_app_refuses_to_start_naming_the_bad_file(tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", policies)
    data = recovery_jcp()
    data["grants"][0]["parties"] = ["jcp-nowhere"]
    dump(policies / "recovery-jcp.v1.yaml", data)
    with pytest.raises(StartupError) as caught:
        create_app({"instance_path": tmp_path / "instance", "policies_dir": policies,
                    "database_url": f"sqlite:///{tmp_path / 'x.db'}"})
    message = str(caught.value)
    assert "refused to start" in message
    assert ("recovery-jcp.v1.yaml: grants/0/parties: unknown organisation 'jcp-nowhere'"
            in message)
    # Nothing else was reported: the other files are fine.
    assert message.count("\n  - ") == 1
