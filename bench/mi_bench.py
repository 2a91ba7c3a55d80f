"""The MI query over the `make bench` data set plus N outcomes: time per grouping.

    python -m bench.mi_bench [--scale 1.0] [--outcomes-per-subject 2] [--database-url URL]

Builds the data set with the bulk loader (bench/load.py: subjects, consents, case plans, an
audit history), adds outcomes (the Derby list's codes, spread over two years, recorded by each
claimant's lead organisation) with one to three attribution rows each, then runs the MI use
case's query and disclosure control (mi/queries.py `outcome_counts`, mi/disclosure.py
`control`) by partner, service line and month over the last twelve months, best of three,
printing the times as JSON and writing bench/results-mi.json. Target: under 2 s each.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from bench import dataset
from bench.load import Workdir, load
from caseshare.db import make_engine, make_session_factory
from caseshare.identity.models import Organisation
from caseshare.mi import queries
from caseshare.mi.disclosure import control
from caseshare.outcomes.models import Outcome, OutcomeAttribution
from caseshare.subjects.models import Subject

ROOT = Path(__file__).resolve().parent.parent
CODES = ["apa_identified", "apa_in_place", "money_action_plan_agreed",
         "money_plan_reviewed_monthly", "bank_account_opened", "credit_union_account_opened",
         "online_account_set_up", "claim_managed_online", "paying_own_rent_6m"]
LINES = ["apa_identification", "budgeting_support", "financial_inclusion", "online_access",
         "assisted_digital", None]
CHUNK = 20_000


def add_outcomes(database_url: str, per_subject: int, seed: int = 24) -> int:
    """Insert `per_subject` outcomes per claimant (distinct codes) with their attributions."""
    rng = random.Random(seed)
    engine = make_engine(database_url)
    now = dataset.utcnow()
    today = now.date()
    written = 0
    with make_session_factory(engine)() as s:
        orgs = list(s.scalars(select(Organisation.id)))
        subjects = list(s.execute(select(Subject.id, Subject.lead_org_id)))
        outcomes: list[dict[str, Any]] = []
        shares: list[dict[str, Any]] = []

        def flush() -> None:
            s.execute(insert(Outcome), outcomes)
            s.execute(insert(OutcomeAttribution), shares)
            outcomes.clear()
            shares.clear()

        for sid, lead in subjects:
            for code in rng.sample(CODES, per_subject):
                oid = uuid.uuid4()
                outcomes.append({
                    "id": oid, "subject_id": sid, "code": code, "category": "finances",
                    "achieved_on": today - timedelta(days=rng.randrange(730)),
                    "service_line": rng.choice(LINES), "computed": False,
                    "recorded_org": lead, "recorded_by": None, "recorded_at": now,
                    "purpose": "case_management"})
                contributors = {lead, *rng.sample(orgs, rng.randrange(3))}
                shares += [{"id": uuid.uuid4(), "outcome_id": oid, "org": org,
                            "basis": "recorded" if org == lead else "referral",
                            "share": round(1 / len(contributors), 4)} for org in contributors]
                written += 1
            if len(outcomes) >= CHUNK:
                flush()
        if outcomes:
            flush()
        s.commit()
    engine.dispose()
    return written


def time_queries(database_url: str, rounds: int = 3) -> dict[str, Any]:
    engine = make_engine(database_url)
    end = dataset.utcnow().date()
    start = end - timedelta(days=365)
    out: dict[str, Any] = {}
    with make_session_factory(engine)() as s:
        orgs = list(s.scalars(select(Organisation.id)))
        for by in queries.GROUPINGS:
            best, cells = float("inf"), 0
            for _ in range(rounds):
                began = time.perf_counter()
                counts = queries.outcome_counts(s, by=by, start=start, end=end, codes=CODES,
                                                orgs=orgs)
                groups = (queries.months(start, end) if by == "month"
                          else sorted({g for g, _ in counts}))
                table = control(counts, groups, CODES)
                best = min(best, time.perf_counter() - began)
                cells = len(table.cells)
            out[by] = {"best_s": round(best, 3), "cells": cells}
    engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float,
                        default=float(os.environ.get("BENCH_SCALE", "1.0")))
    parser.add_argument("--outcomes-per-subject", type=int, default=2)
    parser.add_argument("--database-url")
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results-mi.json")
    args = parser.parse_args()
    root = args.workdir or Path(tempfile.mkdtemp(prefix="cs-mi-"))
    url = args.database_url or f"sqlite:///{root / 'caseshare.db'}"
    started = time.perf_counter()
    loaded = load(Workdir(root), url, args.scale)
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    outcomes = add_outcomes(url, args.outcomes_per_subject)
    result = {"engine": url.split(":", 1)[0].split("+", 1)[0], "scale": args.scale,
              "sizes": loaded.get("sizes"), "outcomes": outcomes, "load_s": round(load_s, 1),
              "outcomes_s": round(time.perf_counter() - started, 1),
              "queries": time_queries(url)}
    args.out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
