"""The demo's six months of history (caseshare/demo_outcomes.py, seeded only with a history):
fast enough for `make run`, and enough recorded work that the funding view and the MI table
publish real, mostly unsuppressed numbers."""

from __future__ import annotations

import time
from typing import Any

from flask import Flask

from caseshare.demo import seed
from caseshare.demo_outcomes import ANALYST, CLAIMANTS
from caseshare.runtime import Runtime
from tests.conftest import issue_token


def test_six_months_of_history_fill_the_funding_view(app: Flask, rt: Runtime) -> None:
    started = time.monotonic()
    with rt.session_factory() as s:
        lines = list(seed(s, rt, history_days=6))
    elapsed = time.monotonic() - started
    assert elapsed < 60, f"seeding with history took {elapsed:.1f} s"  # ~30 s on a loaded CI
    assert any(line.startswith(f"history: {CLAIMANTS} claimants") for line in lines)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {issue_token(rt, ANALYST[0])}"}
    r = client.get("/api/v1/mi/funding?purpose=evaluation", headers=headers)
    assert r.status_code == 200, r.json
    derby = next(p for p in r.json["partnerships"] if p["protocol"] == "derby-local-support")
    published = {o["code"]: o["count"] for o in derby["outcomes"]}
    # Every outcome the agreement pays for is published (no count from 1 to 7), and paid.
    assert all(n is not None and n >= 10 for n in published.values()), published
    assert all(o["amount_pence"] > 0 for o in derby["outcomes"]), derby["outcomes"]
    activities = {a["key"]: a["count"] for a in derby["activities"]}
    # Mostly published: the story's few needs assessments are suppressed, as they must be,
    # and secondary suppression then hides one more activity cell.
    hidden = [k for k, n in activities.items() if not n or n < 10]
    assert "assessment_completed" in hidden and len(hidden) <= 2, activities
    assert derby["total_pence"] > derby["guaranteed_pence"] + derby["outcome_pence"] > 0
    # By partner, most cells with anything in them are published (by month, forty claimants
    # over six months make cells of 7 or fewer, suppressed as they must be).
    mi: Any = client.get("/api/v1/mi/outcomes?purpose=evaluation&by=partner&from="
                         f"{r.json['from']}&to={r.json['to']}", headers=headers).json
    shown = [c for c in mi["cells"] if not c["suppressed"] and c["count"]]
    assert len(shown) >= 5 and not any(c["suppressed"] for c in mi["cells"]), mi["cells"]
