"""Audit log benchmark: bulk-build N sealed events, then seal, verify, prove, query, append.

    python -m bench.audit_bench [--events 1000000] [--engine sqlite|postgresql|both]

Builds the log fast: events generated and hashed (canonical bytes, leaf hash, leaf MAC) in worker
processes, inserted in bulk (COPY on PostgreSQL), the tree nodes stored and a checkpoint signed
every --checkpoint-every events, as the sequencer and sealer would have left them. Then, each as
its own process exactly as an operator runs it: `flask --app wsgi caseshare audit seal` over
1,000 events recorded since, and `flask --app wsgi caseshare audit verify`, printing wall time,
CPU time and peak resident memory of the command's process (RUSAGE_SELF) and of its worker
processes (RUSAGE_CHILDREN: the largest one), with the machine's load average. The app is
byte-compiled first, as an installed package is (`byte_compile`).

Targets (issue 6, 2-core machine, 1,000,000 events): full verify < 10 s and < 300 MB; one
inclusion proof < 10 ms; an IG query by subject over 90 days < 50 ms; appending an event adds
< 1 ms median to a request. Figures are printed per engine; nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from bench import dataset
from bench.load import AUDIT_TABLES, Inserter, init_worker, load_history
from caseshare import migrate
from caseshare.audit import queries
from caseshare.audit import sequencer as audit_sequencer
from caseshare.audit import service as audit
from caseshare.audit import signer as audit_signer
from caseshare.db import make_engine

ROOT = Path(__file__).resolve().parent.parent

# The command run as a child: the real CLI. Peak memory is each process's VmHWM, the high-water
# mark of its own address space since exec (ru_maxrss is not: Linux carries the parent's over
# fork and exec), polled for the worker processes while they run; CPU from getrusage.
_MEASURED = """
import atexit, json, os, resource, sys, threading, time
start = time.perf_counter()
workers = {}
def hwm(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            return next(int(l.split()[1]) / 1024 for l in status if l.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return None
def poll():
    me = str(os.getpid())
    while True:
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/stat") as stat:
                    parent = stat.read().rsplit(")", 1)[1].split()[1]
            except OSError:
                continue
            if parent == me and (peak := hwm(pid)) is not None:
                workers[pid] = max(workers.get(pid, 0), peak)
        time.sleep(0.05)
threading.Thread(target=poll, daemon=True).start()
def report():
    me, kids = (resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    peaks = sorted(workers.values())
    print("RUSAGE " + json.dumps({"wall_s": time.perf_counter() - start,
        "cpu_s": me.ru_utime + me.ru_stime, "children_cpu_s": kids.ru_utime + kids.ru_stime,
        "peak_mb": hwm("self"), "children_peak_mb": peaks[-1] if peaks else 0.0,
        "total_peak_mb": hwm("self") + sum(peaks), "children": len(peaks)}), file=sys.stderr)
atexit.register(report)
from flask.cli import main
sys.argv = ["flask", "--app", "wsgi", *sys.argv[1:]]
main()
"""

def build(url: str, n: int, every: int, signer: audit_signer.AuditSigner,
          now: datetime) -> float:
    """N sealed events with their tree nodes and a signed checkpoint every `every` events."""
    started = time.perf_counter()
    migrate.upgrade(url)
    engine = make_engine(url)
    inserter = Inserter(engine, bulk=True)
    inserter.defer_indexes(AUDIT_TABLES)
    sizes = replace(dataset.Sizes.scaled(1.0), audit_events=n)
    context = multiprocessing.get_context("fork")
    state = inserter.worker_state(mac_key=signer.mac_key())
    with context.Pool(2, init_worker, (state,)) as pool:
        load_history(pool, inserter, signer, sizes, now, 1, every=every)
    inserter.close()
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    engine.dispose()
    return time.perf_counter() - started


def byte_compile() -> None:
    """Compile the app's modules to bytecode once, as installing the package does. Without it,
    where PYTHONDONTWRITEBYTECODE is set (as in this sandbox), every measured command and each
    of its worker processes compiles the app from source again: about 0.2 s of CPU per start
    that no deployed server pays."""
    import compileall

    compileall.compile_dir(ROOT / "caseshare", quiet=1)
    compileall.compile_file(ROOT / "wsgi.py", quiet=1)


def measured(env: dict[str, str], *args: str) -> tuple[dict[str, float], str]:
    """Run `flask --app wsgi <args>` as its own process; its figures and its output."""
    load = os.getloadavg()
    done = subprocess.run([sys.executable, "-c", _MEASURED, *args], env={**os.environ, **env},
                          cwd=ROOT, capture_output=True, text=True, check=False)
    figures: dict[str, float] = {}
    for line in done.stderr.splitlines():
        if line.startswith("RUSAGE "):
            figures = json.loads(line[len("RUSAGE "):])
    if done.returncode != 0 or not figures:
        raise SystemExit(f"{' '.join(args)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    figures["load_1min"] = load[0]
    return figures, done.stdout.strip()


def show(label: str, figures: dict[str, float]) -> None:
    print(f"  {label:<34} {figures['wall_s']:7.2f} s wall; cpu {figures['cpu_s']:.2f} s + "
          f"workers {figures['children_cpu_s']:.2f} s; peak {figures['peak_mb']:.0f} MB + "
          f"{figures['children']} workers (largest {figures['children_peak_mb']:.0f} MB) = "
          f"{figures['total_peak_mb']:.0f} MB at most; load {figures['load_1min']:.2f}",
          flush=True)


def median_ms(fn: Callable[[], Any], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def inclusion_proof_ms(s: Session, repeat: int = 200) -> float:
    """Median time of one inclusion proof of a random log position in the latest signed tree
    (the log must be sealed)."""
    size = audit_sequencer.sealed_size(s)

    def prove() -> None:
        index = int.from_bytes(uuid.uuid4().bytes[:4], "big") % size
        queries.inclusion_proof(s, index=index, tree_size=size)
        s.rollback()

    return median_ms(prove, repeat)


def ig_query_ms(s: Session, *, subjects: int, seed: int, now: datetime,
                repeat: int = 200) -> float:
    """Median time of an IG officer's query (three organisations' reach) for one random
    claimant's events over the last 90 days, among the first `subjects` bench claimants."""
    orgs = frozenset(dataset.org_id(i) for i in range(3))

    def query() -> None:
        subject = dataset.subject_uuid(int.from_bytes(uuid.uuid4().bytes[:4], "big") % subjects,
                                       seed)
        queries.find_events(s, orgs=orgs, filters=queries.EventFilter(
            subject_id=subject, from_=now - timedelta(days=90), to=now), cursor=None, limit=200)
        s.rollback()

    return median_ms(query, repeat)


def run(url: str, n: int, every: int, workdir: Path, *, serial: bool) -> dict[str, Any]:
    instance = workdir / "instance"
    signer = audit_signer.AuditSigner.create_if_missing(instance / "audit-signing-key.pem")
    now = dataset.utcnow()
    results: dict[str, Any] = {"events": n}
    database = workdir / "bench.db"
    if url.startswith("sqlite") and database.exists():
        print(f"  reusing {database}", flush=True)
    else:
        results["build_s"] = build(url, n, every, signer, now)
        print(f"  {'build (bulk, sealed)':<34} {results['build_s']:7.2f} s", flush=True)
    engine = make_engine(url)
    # The app's sessions carry the audit event MAC key (audit/service.py); so must these.
    factory = sessionmaker(bind=engine, expire_on_commit=False,
                           info={audit.EVENT_KEY: signer.event_mac_key()})
    with factory() as s:
        for i in range(1000):
            # A millisecond apart, so they end about a second after now: a second apart they
            # ran 17 minutes ahead, and a verify rerun on a kept database within that time
            # found its own recorded outcome back-dated before them.
            audit.record(s, type="case_plan:plan:read", now=now + timedelta(milliseconds=i),
                         subject_id=dataset.subject_uuid(i, 1), decision="allow")
        s.commit()
    env = {"CASESHARE_INSTANCE_PATH": str(instance), "CASESHARE_DATABASE_URL": url}
    byte_compile()
    results["seal"], out = measured(env, "caseshare", "audit", "seal")
    show("audit seal (1,000 new events)", results["seal"])
    results["verify"], out = measured(env, "caseshare", "audit", "verify")
    show("audit verify", results["verify"])
    print(f"    {out}")
    if serial:
        results["verify_serial"], _ = measured(env, "caseshare", "audit", "verify",
                                               "--workers", "1")
        show("audit verify --workers 1", results["verify_serial"])
    with factory() as s:
        results["inclusion_proof_ms"] = inclusion_proof_ms(s)
        results["ig_query_ms"] = ig_query_ms(s, subjects=1000, seed=1, now=now)

        def append() -> None:
            audit.record(s, type="case_plan:plan:read", now=now, decision="allow")
            s.flush()

        results["append_ms"] = median_ms(append, 500)
        s.rollback()
    for key in ("inclusion_proof_ms", "ig_query_ms", "append_ms"):
        print(f"  {key:<34} {results[key]:7.3f} ms", flush=True)
    engine.dispose()
    return results


@contextmanager
def postgres_database(name: str = "bench") -> Iterator[str | None]:
    """A throwaway PostgreSQL server (tests/pg_server.py) with one empty database: its URL, or
    None (said on the console) when the PostgreSQL binaries are not installed."""
    from tests.pg_server import PostgresServer, find_bindir

    bindir = find_bindir()
    if bindir is None:
        print("  PostgreSQL binaries not found; skipped")
        yield None
        return
    server = PostgresServer(bindir)
    server.start()
    try:
        admin = create_engine(server.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name}"))
        admin.dispose()
        yield server.url(name)
    finally:
        server.stop()

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--checkpoint-every", type=int, default=100_000)
    parser.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--serial", action="store_true", help="also verify with one process")
    parser.add_argument("--out", type=Path, help="write the figures as JSON")
    parser.add_argument("--keep", type=Path, help="SQLite: build in (and keep) this directory; "
                        "a database already there is measured again without rebuilding")
    args = parser.parse_args()
    engines = ["sqlite", "postgresql"] if args.engine == "both" else [args.engine]
    everything: dict[str, Any] = {"date": datetime.now(UTC).isoformat(timespec="seconds"),
                                  "cpus": os.cpu_count(), "load_at_start": os.getloadavg()}
    for engine in engines:
        with tempfile.TemporaryDirectory(prefix="audit-bench-") as tmp:
            workdir = args.keep if args.keep and engine == "sqlite" else Path(tmp)
            workdir.mkdir(parents=True, exist_ok=True)
            print(f"{engine}: {args.events:,} audit events (load average "
                  f"{', '.join(f'{x:.2f}' for x in os.getloadavg())})", flush=True)
            if engine == "sqlite":
                everything[engine] = run(f"sqlite:///{workdir / 'bench.db'}", args.events,
                                         args.checkpoint_every, workdir, serial=args.serial)
                continue
            with postgres_database() as url:
                if url is not None:
                    everything[engine] = run(url, args.events, args.checkpoint_every, workdir,
                                             serial=args.serial)
    everything["load_at_end"] = os.getloadavg()
    if args.out:
        args.out.write_text(json.dumps(everything, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
