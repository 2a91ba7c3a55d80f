"""The floor's measuring sticks do the work they stand for (both engines): the lean read shows
the entries Caseshare's own read shows, opened to the same text, and commits one audit event;
the unaudited read commits none; the commit endpoint commits one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bench import lean_floor
from bench.load import Workdir, load
from bench.run import PURPOSE, issue_tokens
from caseshare import create_app
from caseshare.audit.models import AuditEvent
from caseshare.runtime import Runtime

SCALE = 0.0002  # 20 subjects


@pytest.fixture
def floor(rt: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workdir]:
    url = rt.settings.database_url
    rt.engine.dispose()  # the loader needs the database to itself
    workdir = Workdir(tmp_path / "bench")
    load(workdir, url, SCALE, jobs=1)
    for name, value in workdir.env(url).items():
        monkeypatch.setenv(name, value)
    lean_floor._state.clear()
    yield workdir
    if lean_floor._state:
        lean_floor._state["conn"].close()
        lean_floor._state["rt"].engine.dispose()
        lean_floor._state.clear()


def test_lean_read_matches_caseshare_and_audits_once(floor: Workdir, rt: Runtime) -> None:
    url = rt.settings.database_url
    app = create_app({"instance_path": floor.instance, "database_url": url,
                      "policies_dir": floor.policies, "forms_dir": floor.forms})
    bench_rt: Runtime = app.extensions["caseshare"]
    samples = json.loads(floor.manifest.read_text())["samples"][:3]
    tokens = issue_tokens(floor, url, [s["lead"] for s in samples])
    lean = lean_floor.app.test_client()

    def events() -> int:
        with bench_rt.session_factory() as s:
            return int(s.scalar(select(func.count()).select_from(AuditEvent)) or 0)

    for sample in samples:
        headers = {"Authorization": f"Bearer {tokens[sample['lead']]}"}
        subject, query = sample["subject_id"], f"?purpose={PURPOSE}"
        own = app.test_client().get(f"/api/v1/subjects/{subject}/case-plan{query}",
                                    headers=headers)
        assert own.status_code == 200
        before = events()
        got = lean.get(f"/lean/{subject}{query}", headers=headers)
        assert got.status_code == 200, got.get_data(as_text=True)
        assert events() == before + 1
        want = {e["id"]: e["title"] for e in own.json["entries"]}
        assert want  # the sample's lead sees some of the plan
        assert {e["id"]: e["title"] for e in got.json["entries"]} == want

        assert lean.get(f"/unaudited/{subject}{query}", headers=headers).json == got.json
        assert events() == before + 1
    assert lean.get("/commit").status_code == 200
    assert events() == before + 2
    bench_rt.engine.dispose()

