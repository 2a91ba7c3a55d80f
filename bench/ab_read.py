"""A/B the audited read of two source trees under the same load: each tree's gunicorn (2
workers) serves its own copy of one SQLite data set, and wrk rounds alternate between them and
the minimal endpoint. On a shared machine this is the fair before/after comparison: both sides
see the same background load. Each side also reports its workers' CPU time per request (user +
system time from /proc/<pid>/stat over each round), the figure that moves least with the load;
`--connections 1` keeps the two workers from waiting on each other, so it counts only the work.

    python -m bench.load --workdir /tmp/cs-bench --scale 0.01
    python -m bench.ab_read --workdir /tmp/cs-bench --tree before=/tmp/old --tree after=. \
        [--rounds 4 --duration 4 --connections 8]

On PostgreSQL, load the data set into a database of a server with fsync on, then pass its URL:
every tree serves that one database (the reads' audit events go to it from both sides).

    python -m bench.load --workdir /tmp/cs-pg --scale 0.01 --database-url URL
    python -m bench.ab_read --workdir /tmp/cs-pg --database-url URL --tree ... --tree ...
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.load import Workdir
from bench.run import (
    PURPOSE,
    children_of,
    free_port,
    http_request,
    issue_tokens,
    run_wrk,
    summarise,
    wrk_script,
)

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> float:
    """User + system time of these processes so far."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime and stime (fields 14 and 15)
    return total / CLOCK_TICKS


def workers_of(proc: subprocess.Popen[bytes], count: int = 2) -> list[int]:
    deadline = time.time() + 30
    while len(children_of(proc.pid)) < count and time.time() < deadline:
        time.sleep(0.2)
    return children_of(proc.pid)


def measured_wrk(port: int, path: str, script: Path, pids: list[int], *, duration: float,
                 connections: int) -> dict[str, Any]:
    """One wrk round, with the CPU time these worker processes spent per request."""
    before = cpu_seconds(pids)
    result = run_wrk(port, path, script, duration=duration, connections=connections, threads=1)
    if not result["requests"]:
        raise RuntimeError(f"no request to {path} completed: {result}")
    result["cpu_ms"] = (cpu_seconds(pids) - before) / result["requests"] * 1000
    return result


def interleaved_rounds(names: list[str], drive: Callable[[str, float], dict[str, Any]], *,
                       rounds: int, duration: float) -> dict[str, Any]:
    """A 2-second warm-up of each, then `rounds` rounds, each starting one further along the
    list so that no side always runs first; per name, the summary of its rounds and the median
    CPU time per request."""
    for name in names:
        drive(name, 2)
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    for r in range(rounds):
        for name in names[r % len(names):] + names[: r % len(names)]:
            results[name].append(drive(name, duration))
            print(f"round {r + 1} {name}: {results[name][-1]['rps']:.0f} req/s, "
                  f"{results[name][-1]['cpu_ms']:.3f} ms CPU per request", file=sys.stderr)
    summary: dict[str, Any] = {name: summarise(rs) for name, rs in results.items()}
    for name, rs in results.items():
        summary[name]["cpu_ms"] = statistics.median(r["cpu_ms"] for r in rs)
    return summary


def stop_all(procs: list[subprocess.Popen[bytes]], scratch: Path) -> None:
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=30)
    shutil.rmtree(scratch, ignore_errors=True)


def serve(tree: Path, app: str, env: dict[str, str], log: Path,
          workers: int = 2) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    cmd = [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--worker-class", "sync",
           "--bind", f"127.0.0.1:{port}", "--backlog", "2048", "--log-level", "warning", app]
    with log.open("ab") as out:
        proc = subprocess.Popen(cmd, cwd=tree, env=env, stdout=out, stderr=out)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            status, _ = http_request("GET", port, "/healthz" if app == "wsgi:app" else "/hello")
            if status == 200:
                return proc, port
        except OSError:
            time.sleep(0.3)
    proc.terminate()
    raise RuntimeError(f"{tree} did not start; see {log}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--tree", action="append", required=True, help="name=path")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--duration", type=float, default=4.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--database-url", help="the database the data set was loaded into, "
                        "served by every tree (default: a copy of the SQLite file per tree)")
    args = parser.parse_args(argv)
    trees = dict(t.split("=", 1) for t in args.tree)
    workdir = Workdir(args.workdir)
    db = workdir.root / "caseshare.db"
    url = args.database_url or f"sqlite:///{db}"
    samples = json.loads(workdir.manifest.read_text())["samples"][:1000]
    tokens = issue_tokens(workdir, url, [s["lead"] for s in samples])
    orgs = sorted(tokens)
    plan = f"/api/v1/subjects/{{}}/case-plan?purpose={PURPOSE}"
    scratch = Path(tempfile.mkdtemp(prefix="caseshare-ab-"))
    script = wrk_script(scratch / "read.lua",
                        [(plan.format(s["subject_id"]), orgs.index(s["lead"])) for s in samples],
                        [tokens[o] for o in orgs])
    hello = wrk_script(scratch / "hello.lua", None, [])
    procs, ports = [], {}
    try:
        for name, tree in trees.items():
            served = args.database_url
            if served is None:
                copy = scratch / f"{name}.db"
                shutil.copy(db, copy)
                served = f"sqlite:///{copy}"
            env = {**os.environ, **workdir.env(served),
                   # Every wrk request comes from one address: lift that limit too, or reads
                   # beyond 3,000 a minute per worker are cheap 429s counted as throughput.
                   "CASESHARE_RATELIMIT_DEFAULT": "100000000 per minute",
                   "CASESHARE_RATELIMIT_PER_ADDRESS": "100000000 per minute"}
            proc, ports[name] = serve(Path(tree).resolve(), "wsgi:app", env, scratch / "log")
            procs.append(proc)
        proc, ports["hello"] = serve(Path(next(iter(trees.values()))).resolve(),
                                     "bench.hello:app", dict(os.environ), scratch / "log")
        procs.append(proc)
        names = list(ports)
        pids = {name: workers_of(proc) for name, proc in zip(names, procs, strict=True)}

        def drive(name: str, duration: float) -> dict[str, Any]:
            return measured_wrk(ports[name], "/hello" if name == "hello" else "/",
                                hello if name == "hello" else script, pids[name],
                                duration=duration, connections=args.connections)

        load_start = os.getloadavg()
        summary = interleaved_rounds(names, drive, rounds=args.rounds, duration=args.duration)
        for name in trees:
            summary[name]["read_vs_hello"] = summary[name]["rps"] / summary["hello"]["rps"]
        summary["load_average"] = {"start": load_start, "end": os.getloadavg()}
        print(json.dumps(summary, indent=2))
    finally:
        stop_all(procs, scratch)
    return 0


if __name__ == "__main__":
    sys.exit(main())
