"""The benchmark runner: `make bench` (full size) or `make bench-quick` (tiny, for CI).

First every engine's databases (SQLite, and a throwaway PostgreSQL server with durable
settings), full size and 10x smaller, are bulk-loaded at once from one generation of the data set
(bench/load.py load_many). Then for each engine in turn, with nothing else of the run going on:
  1. serve Caseshare and the minimal Flask endpoint (bench/hello.py) with the same gunicorn
     settings, and drive both with wrk at the same concurrency, interleaved, several rounds;
  2. time a denied read, a consent withdrawal and a case-plan write over HTTP, the decision
     alone in-process, `audit seal` + `audit verify` and `keys rotate` + `keys rewrap` as
     child processes (with their peak memory);
then write bench/results.json and BENCHMARKS.md. Nothing is installed here: wrk must be on PATH.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from bench import dataset
from bench.load import Target, Workdir, load_many
from tests.pg_server import PostgresServer, find_bindir

ROOT = Path(__file__).resolve().parent.parent
PURPOSE = "case_management"

DURABILITY = {
    "postgresql": "fsync=on, synchronous_commit=on: each audit commit is flushed before the reply",
    "sqlite": "WAL, synchronous=FULL (the app's default): each audit commit is flushed before "
              "the reply",
}

# ---------------------------------------------------------------------------------------------
# Servers


class DurablePostgres(PostgresServer):
    """The tests' throwaway server, but with fsync and synchronous commit ON: the benchmark
    must measure an audit commit that is durable before the response."""

    def start(self) -> None:
        if self.as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
        self._run("initdb", "-D", str(self.datadir), "-U", "postgres", "-A", "trust",
                  "-E", "UTF8", "--locale=C")
        opts = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                "-c fsync=on -c synchronous_commit=on -c full_page_writes=on "
                "-c max_connections=200 -c shared_buffers=256MB "
                # Fewer checkpoints while the data set loads; commits stay durable.
                "-c max_wal_size=4GB")
        self._run("pg_ctl", "-D", str(self.datadir), "-o", opts, "-w", "-t", "60",
                  "-l", str(self.root / "server.log"), "start")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Gunicorn:
    """`gunicorn -w 2` on loopback; the same settings for Caseshare and for the yardstick."""

    app: str
    env: dict[str, str]
    workers: int = 2
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    def start(self, log: Path) -> None:
        self.launch(log)
        self.wait_ready(log)

    def launch(self, log: Path) -> None:
        """Start it without waiting (servers boot side by side; see `wait_ready`)."""
        cmd = [sys.executable, "-m", "gunicorn", "--workers", str(self.workers),
               "--worker-class", "sync", "--bind", f"127.0.0.1:{self.port}",
               "--backlog", "2048", "--log-level", "warning", self.app]
        with log.open("ab") as out:
            self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=out, stderr=out)

    def wait_ready(self, log: Path) -> None:
        assert self.proc is not None
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn {self.app} exited; see {log}")
            try:
                status, _ = http_request("GET", self.port, "/healthz" if self.app == "wsgi:app"
                                         else "/hello")
                if status == 200 and len(self.worker_pids()) == self.workers:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"gunicorn {self.app} did not start; see {log}")

    def worker_pids(self) -> list[int]:
        assert self.proc is not None
        return children_of(self.proc.pid)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def children_of(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def proc_status_mb(pid: int, key: str) -> float | None:
    """VmRSS (resident now) or VmHWM (peak resident) of a process, in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class RssSampler(threading.Thread):
    """Samples the resident memory of the app workers while the load runs."""

    def __init__(self, server: Gunicorn, every: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.server, self.every = server, every
        self.samples: list[tuple[float, float]] = []  # (time, max worker RSS)
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            values = [proc_status_mb(p, "VmRSS") for p in self.server.worker_pids()]
            known = [v for v in values if v is not None]
            if known:
                self.samples.append((time.time(), max(known)))
            self._stop_event.wait(self.every)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def http_request(method: str, port: int, path: str, headers: dict[str, str] | None = None,
                 body: Any = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        payload = None if body is None else json.dumps(body).encode()
        all_headers = dict(headers or {})
        if payload is not None:
            all_headers["Content-Type"] = "application/json"
        conn.request(method, path, body=payload, headers=all_headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


# ---------------------------------------------------------------------------------------------
# Load generation (wrk)

WRK_DONE = """
done = function(summary, latency, requests)
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"non2xx":%d,"socket_errors":%d,'
    .. '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\\n',
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""


def wrk_script(path: Path, requests: list[tuple[str, int]] | None, tokens: list[str]) -> Path:
    """A wrk Lua script cycling through (path, token index) pairs, or plain GETs if None."""
    lines = []
    if requests:
        lines.append("local tokens = {" + ",".join(f'"Bearer {t}"' for t in tokens) + "}")
        lines.append("local reqs = {" + ",".join(f'{{"{p}",{i + 1}}}' for p, i in requests)
                     + "}")
        lines.append("local n = 0")
        lines.append("request = function()\n  n = n + 1\n  local r = reqs[(n % #reqs) + 1]\n"
                     "  return wrk.format('GET', r[1], {['Authorization'] = tokens[r[2]]})\n"
                     "end")
    lines.append(WRK_DONE)
    path.write_text("\n".join(lines))
    return path


def run_wrk(port: int, path: str, script: Path, *, duration: float, connections: int,
            threads: int) -> dict[str, Any]:
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration:g}s", "--timeout", "10s",
           "-s", str(script), f"http://127.0.0.1:{port}{path}"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("WRKJSON "))
    result: dict[str, Any] = json.loads(line.removeprefix("WRKJSON "))
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def summarise(rounds: list[dict[str, Any]]) -> dict[str, float]:
    requests = sum(r["requests"] for r in rounds)
    seconds = sum(r["duration_us"] for r in rounds) / 1e6
    return {
        "rps": requests / seconds,
        "p50_ms": statistics.median(r["p50_us"] for r in rounds) / 1000,
        "p99_ms": statistics.median(r["p99_us"] for r in rounds) / 1000,
        "non2xx": sum(r["non2xx"] for r in rounds),
        "socket_errors": sum(r["socket_errors"] for r in rounds),
    }


def percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered), p99


# ---------------------------------------------------------------------------------------------
# Child processes with their peak memory


def timed_child(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Run a command; return (seconds, its peak resident MB, stdout).

    The peak is the child's own VmHWM plus that of each of its worker processes (an upper bound
    on what they held at once), sampled every 20 ms until it exits. (wait4's ru_maxrss is not
    used: Linux carries the forking parent's resident size across exec into it, so a child of
    this large runner would report the runner's size.)"""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=err)
        peaks: dict[int, float] = {}
        while proc.poll() is None:
            for pid in [proc.pid, *children_of(proc.pid)]:
                peaks[pid] = max(peaks.get(pid, 0.0), proc_status_mb(pid, "VmHWM") or 0.0)
            time.sleep(0.02)
        peak = sum(peaks.values())
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd[3:])} failed: {err.read().decode()[-2000:]}")
        return seconds, peak, out.read().decode()


def first_int(output: str) -> int | None:
    match = re.search(r"\d[\d,]*", output)
    return int(match.group().replace(",", "")) if match else None


def flask_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "flask", "--app", "wsgi", "caseshare", *args]


# ---------------------------------------------------------------------------------------------
# One engine


@dataclass
class Options:
    scale: float
    rounds: int
    duration: float
    connections: int
    threads: int
    jobs: int
    keep: bool
    compare: bool = True
    samples_for_reads: int = 2000
    http_only: bool = False


def issue_tokens(workdir: Workdir, url: str, orgs: list[str]) -> dict[str, str]:
    from caseshare import create_app
    from caseshare.identity import service as identity
    from caseshare.identity import tokens

    app = create_app({"instance_path": workdir.instance, "database_url": url,
                      "policies_dir": workdir.policies, "forms_dir": workdir.forms})
    rt = app.extensions["caseshare"]
    out = {}
    for org in sorted(set(orgs)):
        roles = [dataset.role_of(org)]
        token, _claims = tokens.issue(
            rt.token_keys, issuer=rt.settings.issuer, audience=rt.settings.audience,
            subject=str(dataset.staff_id(org)), client_id="bench", org=org, roles=roles,
            scopes=identity.scopes_for(roles),
            purposes=identity.purposes_for(rt.protocols, org, roles), actor_type="staff",
            now=rt.now(), ttl_seconds=4 * 3600)
        out[org] = token
    rt.engine.dispose()
    return out


def decision_timings(workdir: Workdir, url: str, samples: list[dict[str, Any]],
                     calls: int = 20_000) -> tuple[float, float]:
    """caseshare.access.decision.evaluate alone, on real facts read from the data set."""
    import uuid

    from caseshare import create_app
    from caseshare.access.decision import evaluate
    from caseshare.facts import Principal
    from caseshare.identity import service as identity
    from caseshare.subjects import service as subjects

    app = create_app({"instance_path": workdir.instance, "database_url": url,
                      "policies_dir": workdir.policies, "forms_dir": workdir.forms})
    rt = app.extensions["caseshare"]
    cases = []
    with rt.session_factory() as s:
        for sample in samples[:200]:
            subject = subjects.get_subject(s, uuid.UUID(sample["subject_id"]))
            org = sample["lead"]
            roles = frozenset({dataset.role_of(org)})
            principal = Principal(
                actor_id=str(dataset.staff_id(org)), actor_type="staff", org=org, roles=roles,
                scopes=frozenset(identity.scopes_for(roles)),
                purposes=frozenset(identity.purposes_for(rt.protocols, org, roles)))
            cases.append((principal, subjects.subject_facts(s, subject)))
    categories = sorted(rt.protocols.categories)
    now = rt.now()
    timings = []
    clock = time.perf_counter_ns
    for i in range(calls):
        principal, facts = cases[i % len(cases)]
        t0 = clock()
        evaluate(principal, PURPOSE, "read", categories, facts, rt.protocols, now)
        timings.append((clock() - t0) / 1000)
    rt.engine.dispose()
    return percentiles(timings)


def audit_query_timings(workdir: Workdir, url: str, report: dict[str, Any]) -> tuple[float, float]:
    """bench.audit_bench's inclusion proof and IG query by subject, on the loaded log once
    `audit seal` has signed it: medians in ms."""
    from bench import audit_bench
    from caseshare import create_app

    app = create_app({"instance_path": workdir.instance, "database_url": url,
                      "policies_dir": workdir.policies, "forms_dir": workdir.forms})
    rt = app.extensions["caseshare"]
    with rt.session_factory() as s:
        proof = audit_bench.inclusion_proof_ms(s)
        query = audit_bench.ig_query_ms(s, subjects=report["counts"]["subjects"],
                                        seed=report["seed"],
                                        now=datetime.fromisoformat(report["loaded_at"]))
    rt.engine.dispose()
    return proof, query


def http_latencies(port: int, calls: list[tuple[str, str, str, Any]],
                   expect: int) -> tuple[float, float, int]:
    """Sequential requests (no other load): median and p99 in ms, and how many were wrong."""
    timings, wrong = [], 0
    for method, path, token, body in calls:
        t0 = time.perf_counter()
        status, _ = http_request(method, port, path, {"Authorization": f"Bearer {token}"}, body)
        timings.append((time.perf_counter() - t0) * 1000)
        wrong += status != expect
    p50, p99 = percentiles(timings)
    return p50, p99, wrong


@dataclass
class EngineSetup:
    """Where one engine's full-size and 10x smaller data sets live."""

    engine: str
    workdir: Workdir
    url: str
    small_dir: Workdir
    small_url: str
    server: PostgresServer | None = None

    def stop(self, keep: bool) -> None:
        if self.server is not None:
            self.server.stop()
        if not keep:
            shutil.rmtree(self.workdir.root, ignore_errors=True)
            shutil.rmtree(self.small_dir.root, ignore_errors=True)


def setup_engine(engine: str, base: Path) -> EngineSetup:
    """The engine's databases, empty (a throwaway durable server for PostgreSQL)."""
    workdir, small_dir = Workdir(base / engine), Workdir(base / f"{engine}-small")
    for w in (workdir, small_dir):
        w.root.mkdir(parents=True, exist_ok=True)
    if engine != "postgresql":
        return EngineSetup(engine, workdir, f"sqlite:///{workdir.root / 'caseshare.db'}",
                           small_dir, f"sqlite:///{small_dir.root / 'caseshare.db'}")
    bindir = find_bindir()
    if bindir is None:
        raise RuntimeError("PostgreSQL binaries not found (apt-get install postgresql)")
    server = DurablePostgres(bindir)
    server.start()
    setup = EngineSetup(engine, workdir, server.url("caseshare"), small_dir,
                        server.url("caseshare_small"), server)
    try:
        admin = create_engine(server.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("CREATE DATABASE caseshare"))
            conn.execute(text("CREATE DATABASE caseshare_small"))
        admin.dispose()
    except BaseException:
        setup.stop(keep=False)
        raise
    return setup


def load_all(setups: list[EngineSetup], opts: Options
             ) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
    """Every engine's data sets from one generation of the rows, loaded at once (bench/load.py
    load_many): no measurement runs meanwhile. Returns (full report, smaller report or None)
    per engine."""
    targets = [Target(s.workdir, s.url, opts.scale) for s in setups]
    if opts.compare:
        targets += [Target(s.small_dir, s.small_url, opts.scale / 10) for s in setups]
    names = ", ".join(s.engine for s in setups)
    print(f"loading the data set (scale {opts.scale:g}) into {names}"
          + (f", and the 10x smaller one (scale {opts.scale / 10:g})" if opts.compare else ""),
          file=sys.stderr)
    reports = load_many(targets, jobs=opts.jobs)
    n = len(setups)
    return [(reports[i], reports[n + i] if opts.compare else None) for i in range(n)]


def bench_engine(setup: EngineSetup, opts: Options, base: Path, report: dict[str, Any],
                 small_report: dict[str, Any] | None) -> dict[str, Any]:
    """One engine's measurements on its loaded data sets, nothing else running."""
    engine, workdir, url = setup.engine, setup.workdir, setup.url
    log = base / f"{engine}.log"
    # Where this engine's run time goes (phase -> wall seconds), reported as phases_s.
    phases: dict[str, float] = {}
    last = [time.perf_counter()]

    def phase(name: str) -> None:
        now = time.perf_counter()
        phases[name] = round(now - last[0], 1)
        last[0] = now

    servers: list[Gunicorn] = []
    try:
        result: dict[str, Any] = {"engine": engine, "scale": opts.scale, **report["counts"],
                                  "load_s": report["load_s"], "durability": DURABILITY[engine],
                                  "phases_s": phases,
                                  **{k: report[k] for k in (
                                      "load_databases", "load_subjects_s", "load_audit_s",
                                      "load_write_wait_s", "load_indexes_s", "analyze_s",
                                      "load_sync_s")}}
        small = None
        if small_report is not None:
            small = (setup.small_dir, setup.small_url, small_report)
            result["small_subjects"] = small_report["counts"]["subjects"]
        result.update(measure_http(engine, opts, base, workdir, url, report, log, servers,
                                   small))
        for s in servers:
            s.stop()
        phase("http")
        if opts.http_only:
            return result
        print(f"[{engine}] decision, audit verify, rewrap", file=sys.stderr)
        samples = report["samples"]
        result["decision_p50_us"], result["decision_p99_us"] = (
            round(v, 1) for v in decision_timings(workdir, url, samples))
        phase("decision")
        env = {**os.environ, **workdir.env(url)}
        seal_s, seal_mb, _ = timed_child(flask_cmd("audit", "seal"), env)
        verify_s, verify_mb, out = timed_child(flask_cmd("audit", "verify"), env)
        result.update(audit_seal_s=round(seal_s, 2), audit_seal_peak_mb=round(seal_mb, 1),
                      audit_verify_s=round(verify_s, 2), verify_peak_mb=round(verify_mb, 1),
                      audit_events=first_int(out))
        phase("audit_seal_verify")
        result["inclusion_proof_ms"], result["ig_query_ms"] = (
            round(v, 3) for v in audit_query_timings(workdir, url, report))
        phase("audit_queries")
        rotate_s, _, _ = timed_child(flask_cmd("keys", "rotate"), env)
        rewrap_s, rewrap_mb, out = timed_child(flask_cmd("keys", "rewrap"), env)
        result.update(rewrap_s=round(rotate_s + rewrap_s, 2), rewrap_peak_mb=round(rewrap_mb, 1),
                      rewrapped_keys=first_int(out))
        phase("rewrap")
        return result
    finally:
        for s in servers:
            s.stop()


def measure_http(engine: str, opts: Options, base: Path, workdir: Workdir, url: str,
                 report: dict[str, Any], log: Path, servers: list[Gunicorn],
                 small: tuple[Workdir, str, dict[str, Any]] | None = None) -> dict[str, Any]:
    samples = report["samples"]
    # Reads use most samples; withdrawals and writes use others, so reads stay allowed.
    reads = samples[: max(1, min(opts.samples_for_reads, len(samples) * 3 // 4))]
    spare = samples[len(reads):] or samples
    env = {**os.environ, **workdir.env(url),
           # The limiter still runs on every request; its limit must not be what is measured.
           "CASESHARE_RATELIMIT_DEFAULT": "100000000 per minute",
           "CASESHARE_RATELIMIT_PER_ADDRESS": "100000000 per minute",  # wrk is one address
           "CASESHARE_SQLITE_SYNCHRONOUS": "FULL"}  # durable, whatever the caller's environment
    app_server, hello_server = Gunicorn("wsgi:app", env), Gunicorn("bench.hello:app", env)
    small_server = None
    if small is not None:
        # The same read on a 10x smaller data set, served alongside: does cost grow with size?
        small_server = Gunicorn("wsgi:app", {**env, **small[0].env(small[1])})
    # The servers boot side by side while the tokens are issued (nothing is measured yet).
    booting = [x for x in (app_server, hello_server, small_server) if x is not None]
    servers.extend(booting)
    for server_ in booting:
        server_.launch(log)
    orgs = [s["lead"] for s in samples] + [s["outsider"] for s in samples]
    tokens = issue_tokens(workdir, url, orgs)
    token_list = sorted(tokens)
    index = {org: i for i, org in enumerate(token_list)}
    scripts = base / f"{engine}-wrk"
    scripts.mkdir(exist_ok=True)
    plan = f"/api/v1/subjects/{{}}/case-plan?purpose={PURPOSE}"
    read_script = wrk_script(scripts / "read.lua",
                             [(plan.format(s["subject_id"]), index[s["lead"]]) for s in reads],
                             [tokens[o] for o in token_list])
    deny_script = wrk_script(scripts / "deny.lua",
                             [(plan.format(s["subject_id"]), index[s["outsider"]])
                              for s in reads], [tokens[o] for o in token_list])
    hello_script = wrk_script(scripts / "hello.lua", None, [])
    small_script = None
    if small is not None:
        small_dir, small_url, small_report = small
        small_reads = small_report["samples"][: len(reads)]
        small_tokens = issue_tokens(small_dir, small_url, [s["lead"] for s in small_reads])
        small_orgs = sorted(small_tokens)
        small_script = wrk_script(
            scripts / "read-small.lua",
            [(plan.format(s["subject_id"]), small_orgs.index(s["lead"])) for s in small_reads],
            [small_tokens[o] for o in small_orgs])
    for server_ in booting:
        server_.wait_ready(log)

    first = reads[0]
    status, body = http_request("GET", app_server.port, plan.format(first["subject_id"]),
                                {"Authorization": f"Bearer {tokens[first['lead']]}"})
    if status != 200:
        raise RuntimeError(f"the benchmark read returned {status}: {body[:300]!r}")
    entries = len(json.loads(body)["entries"])
    status, _ = http_request("GET", app_server.port, plan.format(first["subject_id"]),
                             {"Authorization": f"Bearer {tokens[first['outsider']]}"})
    if status != 404:
        raise RuntimeError(f"the denied read returned {status}, expected 404")

    def drive(server: Gunicorn, path: str, script: Path, duration: float) -> dict[str, Any]:
        return run_wrk(server.port, path, script, duration=duration,
                       connections=opts.connections, threads=opts.threads)

    print(f"[{engine}] warm-up", file=sys.stderr)
    drive(hello_server, "/hello", hello_script, 2)
    drive(app_server, "/", read_script, 3)
    if small_server is not None and small_script is not None:
        drive(small_server, "/", small_script, 3)
    rss_start = max(proc_status_mb(p, "VmRSS") or 0 for p in app_server.worker_pids())
    sampler = RssSampler(app_server)
    sampler.start()
    rounds: dict[str, list[dict[str, Any]]] = {"hello": [], "read": [], "small": []}
    targets = {"hello": (hello_server, "/hello", hello_script),
               "read": (app_server, "/", read_script)}
    if small_server is not None and small_script is not None:
        targets["small"] = (small_server, "/", small_script)
    names = list(targets)
    for r in range(opts.rounds):
        # Rotate the order each round so no endpoint always runs first.
        for which in names[r % len(names):] + names[: r % len(names)]:
            server_, path_, script_ = targets[which]
            rounds[which].append(drive(server_, path_, script_, opts.duration))
            print(f"[{engine}] round {r + 1}/{opts.rounds} {which}: "
                  f"{rounds[which][-1]['rps']:.0f} req/s", file=sys.stderr)
    hello_rounds, read_rounds = rounds["hello"], rounds["read"]
    sampler.stop()
    rss_end = sampler.samples[-1][1] if sampler.samples else None
    worker_peak = max(proc_status_mb(p, "VmHWM") or 0 for p in app_server.worker_pids())
    denied_round = drive(app_server, "/", deny_script, max(2.0, opts.duration / 2))
    denied = summarise([denied_round])

    # Sequential latencies of the other operations, on a quiet server.
    n_ops = min(100, len(spare))
    withdrawals = [("POST", f"/api/v1/consents/{s['consent_id']}/withdrawal?purpose={PURPOSE}",
                    tokens[s["lead"]], {"channel": "phone", "reason": "benchmark"})
                   for s in spare[:n_ops]]
    writes = [("POST", f"/api/v1/subjects/{s['subject_id']}/case-plan/entries?purpose={PURPOSE}",
               tokens[s["lead"]], {"kind": "action", "category": "employment",
                                   "title": "Book a mock interview",
                                   "detail": "Work coach to arrange with the local employer."})
              for s in spare[:n_ops]]
    write_p50, write_p99, write_wrong = http_latencies(app_server.port, writes, 201)
    withdraw_p50, withdraw_p99, withdraw_wrong = http_latencies(app_server.port, withdrawals, 200)

    read, hello = summarise(read_rounds), summarise(hello_rounds)
    size_effect: dict[str, Any] = {}
    if rounds["small"]:
        small_summary = summarise(rounds["small"])
        size_effect = {
            "read_small_rps": round(small_summary["rps"], 1),
            "read_small_p50_ms": round(small_summary["p50_ms"], 2),
            "read_small_non2xx": small_summary["non2xx"],
            # Target: within 20 % (0.8 to 1.2).
            "read_full_vs_small": round(read["rps"] / small_summary["rps"], 3),
            "read_small_rounds_rps": [round(r["rps"], 1) for r in rounds["small"]],
        }
    return {
        **size_effect,
        "read_rps": round(read["rps"], 1), "hello_rps": round(hello["rps"], 1),
        "read_vs_hello": round(read["rps"] / hello["rps"], 3),
        "read_p50_ms": round(read["p50_ms"], 2), "read_p99_ms": round(read["p99_ms"], 2),
        "hello_p50_ms": round(hello["p50_ms"], 2), "hello_p99_ms": round(hello["p99_ms"], 2),
        "read_non2xx": read["non2xx"], "read_socket_errors": read["socket_errors"],
        "read_entries_per_response": entries,
        "read_rounds_rps": [round(r["rps"], 1) for r in read_rounds],
        "hello_rounds_rps": [round(r["rps"], 1) for r in hello_rounds],
        "denied_read_rps": round(denied["rps"], 1),
        "denied_read_p50_ms": round(denied["p50_ms"], 2),
        "denied_read_p99_ms": round(denied["p99_ms"], 2),
        # Every denied read must be refused (wrk counts any status >= 400); one was checked to
        # be a 404 before the load.
        "denied_read_requests": denied_round["requests"],
        "denied_read_refused": denied_round["non2xx"],
        "case_plan_write_p50_ms": round(write_p50, 2),
        "case_plan_write_p99_ms": round(write_p99, 2), "case_plan_write_failed": write_wrong,
        "consent_withdrawal_p50_ms": round(withdraw_p50, 2),
        "consent_withdrawal_p99_ms": round(withdraw_p99, 2),
        "consent_withdrawal_failed": withdraw_wrong, "sequential_ops": n_ops,
        "worker_rss_mb": round(worker_peak, 1),
        "worker_rss_start_mb": round(rss_start, 1),
        "worker_rss_end_mb": None if rss_end is None else round(rss_end, 1),
    }


# ---------------------------------------------------------------------------------------------
# Report


def machine() -> dict[str, Any]:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    models = [line.split(":", 1)[1].strip() for line in cpuinfo.splitlines()
              if line.startswith("model name")]
    free = subprocess.run(["free", "-m"], capture_output=True, text=True).stdout.strip()
    return {"cpu": models[0] if models else platform.processor(), "cores": len(models),
            "free_m": free, "kernel": platform.release(),
            "python": platform.python_version(), "load_average_at_start": os.getloadavg()}


def other_runs(out: Path) -> list[tuple[str, dict[str, Any]]]:
    """Other kept results (e.g. a full-size run of one engine) shown below the main table."""
    if out.resolve().parent != ROOT / "bench":
        return []
    runs = [(p.name, json.loads(p.read_text()))
            for p in sorted(out.parent.glob("results-*.json")) if p.resolve() != out.resolve()]
    # Only this runner's documents: the audit and sequencer benchmarks keep theirs here too.
    return [(name, doc) for name, doc in runs
            if isinstance(doc, dict) and {"results", "machine", "command"} <= doc.keys()]


def merge(previous: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """Results of engines run separately, each with its own run's command, date and machine."""
    runs = {r["engine"]: r for r in previous.get("results", [])}
    for result in current["results"]:
        result["run"] = {k: current[k] for k in ("generated_at", "command", "total_s",
                                                 "settings")}
        result["run"]["load_average"] = [current["machine"]["load_average_at_start"],
                                         current["machine"]["load_average_at_end"]]
        runs[result["engine"]] = result
    return {**current, "command": "; ".join(sorted({r.get("run", current)["command"]
                                                    for r in runs.values()})),
            "results": [runs[e] for e in ("sqlite", "postgresql") if e in runs]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Caseshare benchmark (see BENCHMARKS.md)")
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per wrk round")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--jobs", type=int, default=2, help="loader worker processes")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results.json")
    parser.add_argument("--markdown", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--no-compare", dest="compare", action="store_false",
                        help="skip the same read on a 10x smaller data set")
    parser.add_argument("--http-only", action="store_true",
                        help="measure the HTTP figures only (no decision, audit or rewrap runs)")
    parser.add_argument("--merge", action="store_true",
                        help="keep other engines' results already in --out (separate runs)")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is not installed: sudo apt-get install -y wrk", file=sys.stderr)
        return 2
    opts = Options(args.scale, args.rounds, args.duration, args.connections, args.threads,
                   args.jobs, args.keep, args.compare, http_only=args.http_only)
    started = time.perf_counter()
    info = machine()
    base = Path(tempfile.mkdtemp(prefix="caseshare-bench-"))
    results = []
    setups: list[EngineSetup] = []
    # Where the run's time goes before the engines' own phases (phases_s in each result).
    run_phases: dict[str, float] = {}
    try:
        t0 = time.perf_counter()
        for engine in args.engines.split(","):
            setups.append(setup_engine(engine.strip(), base))
        run_phases["servers"] = round(time.perf_counter() - t0, 1)
        t0 = time.perf_counter()
        loaded = load_all(setups, opts)
        run_phases["load"] = round(time.perf_counter() - t0, 1)
        for setup, (report, small_report) in zip(setups, loaded, strict=True):
            t0 = time.perf_counter()
            result = bench_engine(setup, opts, base, report, small_report)
            result["engine_total_s"] = round(time.perf_counter() - t0, 1)
            results.append(result)
            print(json.dumps(result, indent=2), file=sys.stderr)
    finally:
        for setup in setups:
            setup.stop(opts.keep)
    command = "python -m bench.run " + " ".join(argv if argv is not None else sys.argv[1:])
    document = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command.strip(),
        "total_s": round(time.perf_counter() - started, 1),
        "phase_s": run_phases,
        "settings": {"scale": args.scale, "rounds": args.rounds, "duration_s": args.duration,
                     "connections": args.connections, "wrk_threads": args.threads,
                     "gunicorn_workers": 2, "gunicorn_worker_class": "sync"},
        "machine": {**info, "load_average_at_end": os.getloadavg()},
        "results": results,
    }
    if args.merge and args.out.exists():
        document = merge(json.loads(args.out.read_text()), document)
    args.out.write_text(json.dumps(document, indent=2) + "\n")
    from bench.report import markdown
    from bench.report import write as write_markdown

    write_markdown(args.markdown, markdown(document, other_runs(args.out)))
    print(f"wrote {args.out} and {args.markdown} in {document['total_s']} s", file=sys.stderr)
    if not args.keep:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
