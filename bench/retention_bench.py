"""One retention pass over the `make bench` data set with 10 % of cases closed long ago.

    python -m bench.retention_bench [--scale 1.0] [--database-url URL] [--workdir DIR]

Builds the data set with the bulk loader (bench/load.py: subjects, consents, case plans, an
audit history), closes one case in ten (the first by subject id) more than the retention ago
(800 days, the default being 730), then runs `flask --app wsgi caseshare retention run` as a
child process, as an operator would: its progress bar goes to the terminal (stderr), and this
script reports the wall time, the child's peak resident memory (getrusage of the children) and
the counts it printed, as JSON on stdout and into bench/results-retention.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, literal, select

from bench import dataset
from bench.load import Workdir, load
from caseshare.cases.models import Case
from caseshare.db import make_engine, make_session_factory
from caseshare.subjects.models import Subject

ROOT = Path(__file__).resolve().parent.parent
CLOSED_DAYS_AGO = 800


def close_tenth(database_url: str) -> int:
    """Close one case in ten, CLOSED_DAYS_AGO days ago; returns how many."""
    engine = make_engine(database_url)
    now = dataset.utcnow()
    closed = now - timedelta(days=CLOSED_DAYS_AGO)
    with make_session_factory(engine)() as s:
        total = s.scalar(select(func.count()).select_from(Subject)) or 0
        chosen = select(Subject.id, literal("closed"), literal(closed, Case.closed_at.type),
                        literal("goals_met"), literal(1), literal(now, Case.updated_at.type)) \
            .order_by(Subject.id).limit(total // 10)
        s.execute(insert(Case).from_select(
            ["subject_id", "status", "closed_at", "closure_reason", "version", "updated_at"],
            chosen))
        s.commit()
    engine.dispose()
    return total // 10


def run_pass(workdir: Workdir, database_url: str) -> dict[str, Any]:
    env = {**os.environ, **workdir.env(database_url)}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "caseshare", "retention", "run"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True, check=True)
    seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"pass_s": round(seconds, 1), "peak_rss_mib": round(peak_kib / 1024, 1),
            "output": done.stdout.strip()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float,
                        default=float(os.environ.get("BENCH_SCALE", "1.0")))
    parser.add_argument("--database-url")
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results-retention.json")
    args = parser.parse_args()
    root = args.workdir or Path(tempfile.mkdtemp(prefix="cs-retention-"))
    workdir = Workdir(root)
    url = args.database_url or f"sqlite:///{root / 'caseshare.db'}"
    started = time.perf_counter()
    loaded = load(workdir, url, args.scale)
    load_s = time.perf_counter() - started
    closed = close_tenth(url)
    result = {"engine": url.split(":", 1)[0].split("+", 1)[0], "scale": args.scale,
              "sizes": loaded.get("sizes"), "closed": closed,
              "load_s": round(load_s, 1), **run_pass(workdir, url)}
    args.out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
