"""Integration lag at steady load: how long an audit event waits for its place in the log.

    python -m bench.sequencer_lag [--engine sqlite|postgresql] [--duration 30] [--every 0.25]

Issue 6 asks that events be integrated into the Merkle tree by a single sequencer, with the lag
bounded (under 1 second at steady load) and reported. This serves the demo data with gunicorn
(2 sync workers, as bench/run.py does), drives audited case-plan reads at it with wrk for
`--duration` seconds (every read writes and commits an audit event), and runs the sequencer
beside it as operators would: `flask --app wsgi caseshare audit seal --every SECONDS`. Each of
the sequencer's rounds prints how many events it integrated and the lag of the oldest of them
(when it was recorded to when its checkpoint was committed); this collects those lines and
reports the lag's median, 99th percentile and maximum, and the event rate. Afterwards
`audit verify` must pass over everything written. PostgreSQL runs with fsync on, as in
bench/run.py.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.run import (
    PURPOSE,
    DurablePostgres,
    Gunicorn,
    flask_cmd,
    http_request,
    run_wrk,
    wrk_script,
)
from tests.pg_server import find_bindir

ROOT = Path(__file__).resolve().parent.parent
COACH = "sam.okafor@jcp-derby.example"
DEMO_NINO = "QQ123456C"
ROUND = re.compile(r"integrated=(\d+) lag=([\d.]+)s")


class Sequencer(threading.Thread):
    """`audit seal --every` as a child process; its rounds' (events, lag) as they are printed."""

    def __init__(self, env: dict[str, str], every: float) -> None:
        super().__init__(daemon=True)
        self.proc = subprocess.Popen(flask_cmd("audit", "seal", "--every", str(every)), cwd=ROOT,
                                     env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True)
        self.rounds: list[tuple[float, int, float]] = []  # (when, events, lag seconds)
        self.other: list[str] = []

    def run(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            found = ROUND.search(line)
            if found:
                self.rounds.append((time.time(), int(found[1]), float(found[2])))
            else:
                self.other.append(line.rstrip())

    def wait_for_first_round(self, timeout: float) -> None:
        deadline = time.time() + timeout
        while not self.rounds:
            if time.time() > deadline or self.proc.poll() is not None:
                raise RuntimeError(f"the sequencer did not start: {self.other[-5:]}")
            time.sleep(0.1)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=60)
        self.join(timeout=10)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


@contextmanager
def database(engine: str, workdir: Path) -> Iterator[str]:
    """The database URL: a SQLite file in `workdir`, or a throwaway PostgreSQL with fsync on."""
    if engine == "sqlite":
        yield f"sqlite:///{workdir / 'caseshare.db'}"
        return
    bindir = find_bindir()
    if bindir is None:
        raise SystemExit("PostgreSQL binaries not found")
    server = DurablePostgres(bindir)
    server.start()
    try:
        yield str(server.url())
    finally:
        server.stop()


def run(engine: str, duration: float, every: float, connections: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="caseshare-lag-") as tmp, \
            database(engine, Path(tmp)) as url:
        workdir = Path(tmp)
        env = {**os.environ, "CASESHARE_INSTANCE_PATH": str(workdir / "instance"),
               "CASESHARE_DATABASE_URL": url,
               "CASESHARE_RATELIMIT_DEFAULT": "100000000 per minute",
               "CASESHARE_RATELIMIT_PER_ADDRESS": "100000000 per minute"}
        subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
                       cwd=ROOT, env=env, check=True, capture_output=True)
        subprocess.run(flask_cmd("seed-demo"), cwd=ROOT, env=env, check=True,
                       capture_output=True)
        token = subprocess.run(flask_cmd("token", "issue", "--user", COACH, "--ttl", "3600"),
                               cwd=ROOT, env=env, check=True, capture_output=True,
                               text=True).stdout.strip()
        subprocess.run(flask_cmd("audit", "seal"), cwd=ROOT, env=env, check=True,
                       capture_output=True)  # the demo's history, so rounds see only the load
        server = Gunicorn(app="wsgi:app", env=env)
        server.start(workdir / "gunicorn.log")
        sequencer: Sequencer | None = None
        try:
            headers = {"Authorization": f"Bearer {token}"}
            status, body = http_request(
                "GET", server.port, f"/api/v1/subjects?nino={DEMO_NINO}&purpose={PURPOSE}",
                headers)
            if status != 200:
                raise RuntimeError(f"claimant lookup failed: {status}")
            found = json.loads(body)
            subject = (found["items"] if isinstance(found, dict) else found)[0]["id"]
            script = wrk_script(
                workdir / "read.lua",
                [(f"/api/v1/subjects/{subject}/case-plan?purpose={PURPOSE}", 0)], [token])
            sequencer = Sequencer(env, every)
            sequencer.start()
            sequencer.wait_for_first_round(timeout=120)  # its start-up is not lag
            load_start = os.getloadavg()[0]
            started = time.time()
            load = run_wrk(server.port, "/", script, duration=duration,
                           connections=connections, threads=1)
            ended = time.time()
            time.sleep(every * 3)  # let it integrate the tail
        finally:
            if sequencer is not None:
                sequencer.stop()
            server.stop()
        verify = subprocess.run(flask_cmd("audit", "verify"), cwd=ROOT, env=env,
                                capture_output=True, text=True)
    during = [r for r in sequencer.rounds if started <= r[0] <= ended + every * 3 and r[1] > 0]
    lags = [lag for _when, _n, lag in during]
    if not lags:
        raise RuntimeError(f"the sequencer integrated nothing: {sequencer.other[-5:]}")
    integrated = sum(n for _when, n, _lag in during)
    return {
        "engine": engine, "duration_s": duration, "every_s": every,
        "connections": connections, "load_average_start": round(load_start, 2),
        "reads_per_s": round(load["rps"], 1), "non2xx": load["non2xx"],
        "events_integrated": integrated,
        "events_per_s": round(integrated / (ended - started), 1),
        "sequencer_rounds": len(lags),
        "lag_p50_s": round(statistics.median(lags), 3),
        "lag_p99_s": round(percentile(lags, 0.99), 3),
        "lag_max_s": round(max(lags), 3),
        "rounds": [[round(when - started, 2), n, lag] for when, n, lag in during],
        "verify_ok": verify.returncode == 0,
        "verify_output": verify.stdout.strip().splitlines()[-1:],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", action="append", choices=["sqlite", "postgresql"])
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--every", type=float, default=0.25,
                        help="seconds the sequencer sleeps between rounds")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--out", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    results = [run(engine, args.duration, args.every, args.connections)
               for engine in args.engine or ["sqlite", "postgresql"]]
    text = json.dumps(results, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0 if all(r["verify_ok"] and r["lag_max_s"] < 1.0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
