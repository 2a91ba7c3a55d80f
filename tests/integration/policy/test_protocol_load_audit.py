"""Loading a protocol version is audited once, with the SHA-256 of its file; a loaded version's
file may not change afterwards."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from flask import Flask

from caseshare.audit.protocol_versions import LOAD_EVENT, record_loaded
from caseshare.errors import PolicyFileError
from caseshare.policy.loader import load_directory
from caseshare.runtime import Runtime
from tests.audit_helpers import events
from tests.conftest import ROOT


def load(app: Flask) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["caseshare", "policies", "load"])
    return result.exit_code, result.output


def test_policies_load_records_each_version_once_with_its_file_hash(
    app: Flask, rt: Runtime
) -> None:
    code, output = load(app)
    assert code == 0, output
    assert "OK: 4 new protocol version(s) recorded, 0 already recorded" in output

    recorded = {e.protocol: e for e in events(rt, type=LOAD_EVENT)}
    assert set(recorded) == {"carmarthenshire-support@1", "derby-local-support@1",
                             "derby-triage@1", "recovery-jcp@1"}
    event = recorded["carmarthenshire-support@1"]
    expected = hashlib.sha256(
        (ROOT / "policies/carmarthenshire-support.v1.yaml").read_bytes()).hexdigest()
    assert event.details["content_hash"] == expected
    assert event.details["file"] == "carmarthenshire-support.v1.yaml"
    assert event.details["qa_reference"] == "WASPI-QA-HD-2026-0117"
    assert event.actor is None and event.subject_id is None

    code, output = load(app)
    assert code == 0
    assert "OK: 0 new protocol version(s) recorded, 4 already recorded" in output
    assert len(events(rt, type=LOAD_EVENT)) == 4


def test_seed_demo_records_the_protocols_its_decisions_rely_on(app: Flask, rt: Runtime) -> None:
    result = app.test_cli_runner().invoke(args=["caseshare", "seed-demo"])
    assert result.exit_code == 0, result.output
    assert "protocols: 4 version(s) newly recorded" in result.output
    relied_on = {e.protocol for e in events(rt) if e.protocol and e.type != LOAD_EVENT}
    assert relied_on, "the demo's decisions name the protocols they relied on"
    assert relied_on <= {e.protocol for e in events(rt, type=LOAD_EVENT)}


def test_a_loaded_version_whose_file_changed_is_refused(
    app: Flask, rt: Runtime, tmp_path: Path
) -> None:
    assert load(app)[0] == 0
    policies = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", policies)
    edited = policies / "recovery-jcp.v1.yaml"
    edited.write_text(edited.read_text().replace("max_consent_days: 365", "max_consent_days: 730",
                                                 1))
    changed = load_directory(policies)
    with rt.session_factory() as s, pytest.raises(PolicyFileError) as caught:
        record_loaded(s, protocols=changed, now=rt.now())
    [problem] = caught.value.problems
    assert problem.startswith("recovery-jcp.v1.yaml: version: recovery-jcp@1 was first loaded "
                              "with content hash ")
    assert "publish it as a new version" in problem
    assert len(events(rt, type=LOAD_EVENT)) == 4
