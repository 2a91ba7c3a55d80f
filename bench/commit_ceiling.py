"""What a durable audit commit costs on this machine's disk, and the ceiling it puts on audited
reads per second, whatever the application code does.

    python -m bench.commit_ceiling [--commits 300] [--hello-rps 2900]

Every audited read commits its audit event before the response. If that commit must be durable
(flushed to the disk, not just handed to the OS), each read waits for a flush, and only
commits that are waiting at the same moment can share one. The script measures, with a
300-byte row standing in for an audit event:

- SQLite in WAL mode, one connection committing in a loop, with `synchronous=NORMAL` (what the
  app sets: durable against a crash of the process, not of the machine) and `synchronous=FULL`
  (every commit flushes the WAL);
- SQLite `synchronous=FULL` with 2 processes committing at once (the 2 gunicorn workers): SQLite
  takes one writer at a time, so their flushes cannot be shared;
- PostgreSQL with `fsync=on`, `synchronous_commit=on` (the benchmark's server), from 1, 2, 8 and
  32 connections at once: PostgreSQL flushes the WAL of every commit waiting at that moment in
  one go (group commit), so commits per second grow with the concurrency.

From these it prints the most durable commits per second each setting allows and, given the
minimal endpoint's throughput (`--hello-rps`, from bench/results.json when not given), the
highest `read_vs_hello` that setting permits even with an application that costs nothing.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sqlite3
import statistics
import tempfile
import threading
import time
from pathlib import Path

from bench.run import DurablePostgres
from tests.pg_server import find_bindir

ROW = 300  # bytes, about one audit event's canonical body


def sqlite_commits_per_s(path: Path, synchronous: str, commits: int) -> float:
    conn = sqlite3.connect(path, isolation_level=None, timeout=60)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute("CREATE TABLE IF NOT EXISTS events (body BLOB)")
    started = time.perf_counter()
    for _ in range(commits):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO events VALUES (?)", (os.urandom(ROW),))
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return commits / elapsed


def _sqlite_worker(path: str, commits: int, start: float) -> None:
    while time.time() < start:
        time.sleep(0.001)
    sqlite_commits_per_s(Path(path), "FULL", commits)


def sqlite_parallel_commits_per_s(path: Path, commits: int, processes: int) -> float:
    sqlite_commits_per_s(path, "FULL", 1)  # create the table before the race
    start = time.time() + 0.5
    workers = [multiprocessing.Process(target=_sqlite_worker, args=(str(path), commits, start))
               for _ in range(processes)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return processes * commits / (time.time() - start)


def postgres_commits_per_s(url: str, commits: int, connections: int) -> float:
    import psycopg

    url = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS events (body bytea)")
    barrier = threading.Barrier(connections + 1)
    per_thread = max(1, commits // connections)

    def run() -> None:
        with psycopg.connect(url) as conn:
            barrier.wait()
            for _ in range(per_thread):
                conn.execute("INSERT INTO events VALUES (%s)", (os.urandom(ROW),))
                conn.commit()

    threads = [threading.Thread(target=run) for _ in range(connections)]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    return connections * per_thread / (time.perf_counter() - started)


def hello_rps_from_results(path: Path) -> float | None:
    try:
        results = json.loads(path.read_text())["results"]
    except (OSError, KeyError, ValueError):
        return None
    figures = [r["hello_rps"] for r in results if r.get("hello_rps")]
    return max(figures) if figures else None


def measure_round(commits: int, server: DurablePostgres | None) -> list[tuple[str, float]]:
    rows: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        rows.append(("sqlite WAL synchronous=NORMAL (not durable), 1 writer",
                     sqlite_commits_per_s(root / "normal.db", "NORMAL", commits * 10)))
        rows.append(("sqlite WAL synchronous=FULL, 1 writer",
                     sqlite_commits_per_s(root / "full.db", "FULL", commits)))
        rows.append(("sqlite WAL synchronous=FULL, 2 processes",
                     sqlite_parallel_commits_per_s(root / "race.db", commits // 2, 2)))
    if server is not None:
        for connections in (1, 2, 8, 32):
            rows.append((f"postgresql fsync=on, {connections} connection(s) at once",
                         postgres_commits_per_s(server.url(), commits * max(1, connections // 2),
                                                connections)))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--hello-rps", type=float, default=None)
    args = parser.parse_args(argv)
    hello = args.hello_rps or hello_rps_from_results(Path(__file__).with_name("results.json"))
    bindir = find_bindir()
    server = DurablePostgres(bindir) if bindir is not None else None
    if server is None:
        print("PostgreSQL binaries not found: PostgreSQL rows skipped")
    else:
        server.start()
    rates: dict[str, list[float]] = {}
    try:
        # Rounds interleave the settings, so a noisy moment on a shared disk hits all of them.
        for _ in range(args.rounds):
            for label, rate in measure_round(args.commits, server):
                rates.setdefault(label, []).append(rate)
    finally:
        if server is not None:
            server.stop()
    print(f"load average at end: {os.getloadavg()[0]:.2f}; {args.rounds} rounds")
    print(f"{'setting':58} {'commits/s median':>16} {'(slowest round)':>15} "
          f"{'ms each':>8} {'max read_vs_hello':>18}")
    for label, found in rates.items():
        rate = statistics.median(found)
        ceiling = f"{rate / hello:.3f}" if hello else "n/a"
        print(f"{label:58} {rate:16.1f} {min(found):15.1f} {1000 / rate:8.2f} {ceiling:>18}")
    if hello:
        print(f"(minimal endpoint: {hello:.0f} req/s; a read needs at least one commit, so "
              "read_vs_hello cannot exceed commits/s divided by that)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
