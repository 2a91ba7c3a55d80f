"""A bounded soak: Caseshare under gunicorn (2 workers) at about 80% of its measured maximum.

1. Probe: closed-loop audited reads (the work coach reading Lee's case plan) from a few threads
   for a few seconds; the achieved rate is the maximum. It is measured at run time because the
   read path keeps getting faster; nothing here assumes a rate.
2. Soak: an open-loop, fixed-rate schedule at `fraction` of that maximum for `seconds`: request i
   is due at start + i / rate, whatever happened to the others, so a slow server shows up as
   latency and lag rather than as a quietly lower rate. The mix, by request number:
     75% audited reads that are allowed (coach and housing officer read Lee's plan: 200),
     20% denied reads (Citizens Advice reads Lee, no relationship; the coach probes a random id:
         both 404),
      5% writes (the Citizens Advice adviser adds a note to Kerry's plan: 201; Kerry's plan is
         never read by the load, so reads do not slow down as writes accumulate).
   Every request carries its own X-Request-ID, and the server must echo it.
3. While it runs, the resident memory (VmRSS) of each gunicorn worker and the machine's load
   average are sampled every second.
4. The probe again: the maximum after the soak against the maximum before it.

Figures: requests, errors (anything other than the expected status, or no response), p50/p99
latency per window (60 s windows for runs of 3 minutes or more), RSS per worker at the start and
end, and the audit count checked request by request against the database: each 200 has exactly
one allow event (and one deny event when it lists withheld categories), each 404 exactly one deny
event, each 201 exactly one allow event and its entry; no event carries a request id that got no
response.

Latency and memory are reported, not asserted, by the pytest wrapper (test_soak.py): a shared
machine makes any threshold either flaky or meaningless. The caller decides what to assert.
"""

from __future__ import annotations

import http.client
import json
import os
import statistics
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from caseshare.audit.models import AuditEvent
from caseshare.case_plan.models import PlanEntry

COACH = "sam.okafor@jcp-derby.example"
HOUSING = "priya.sharma@derby-housing.example"
ADVISER = "aisha.begum@ca-derby.example"
STAFF = (COACH, HOUSING, ADVISER)


@dataclass
class Target:
    port: int
    tokens: dict[str, str]
    lee: str
    kerry: str


@dataclass
class Op:
    name: str
    method: str
    path: str
    token: str
    expect: int
    body: dict[str, Any] | None = None


@dataclass
class Outcome:
    rid: str
    op: str
    due: float  # scheduled send time (monotonic seconds)
    sent: float
    done: float
    status: int | None
    withheld: bool = False
    entry_id: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def latency_ms(self) -> float:
        return (self.done - self.sent) * 1000


@dataclass
class SoakResult:
    max_rate: float
    target_rate: float
    seconds: float
    probe: list[Outcome]
    outcomes: list[Outcome]
    rss: list[tuple[float, dict[int, float]]] = field(default_factory=list)
    # The same closed-loop probe after the soak: if the service itself degraded, this drops;
    # if only the (shared) machine got busier, the load average says so.
    max_rate_after: float = 0.0
    load_average: list[float] = field(default_factory=list)


def plan_read(t: Target, who: str, purpose: str, subject: str | None = None) -> Op:
    subject = subject or t.lee
    return Op(f"read:{who.split('@')[0]}", "GET",
              f"/api/v1/subjects/{subject}/case-plan?purpose={purpose}", t.tokens[who], 200)


def mix(t: Target, i: int) -> Op:
    """The request due at slot i (a fixed 20-slot pattern: 15 allowed, 4 denied, 1 write)."""
    slot = i % 20
    if slot == 0:
        return Op("write:adviser", "POST",
                  f"/api/v1/subjects/{t.kerry}/case-plan/entries?purpose=budgeting_support",
                  t.tokens[ADVISER], 201,
                  {"kind": "note", "category": "finances", "title": f"soak note {i}"})
    if slot in (5, 15):
        return Op("deny:unrelated", "GET",
                  f"/api/v1/subjects/{t.lee}/case-plan?purpose=case_management",
                  t.tokens[ADVISER], 404)
    if slot in (10, 19):
        return Op("deny:unknown-id", "GET",
                  f"/api/v1/subjects/{uuid.uuid4()}/case-plan?purpose=case_management",
                  t.tokens[COACH], 404)
    if slot % 2:
        return plan_read(t, COACH, "case_management")
    return plan_read(t, HOUSING, "tenancy_sustainment")


def send(port: int, op: Op, rid: str, due: float) -> Outcome:
    sent = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        headers = {"Authorization": f"Bearer {op.token}", "X-Request-ID": rid}
        data = None
        if op.body is not None:
            data = json.dumps(op.body)
            headers["Content-Type"] = "application/json"
        conn.request(op.method, op.path, body=data, headers=headers)
        resp = conn.getresponse()
        raw = resp.read()
        done = time.monotonic()
    except (OSError, http.client.HTTPException) as exc:
        return Outcome(rid, op.name, due, sent, time.monotonic(), None,
                       error=type(exc).__name__)
    finally:
        conn.close()
    out = Outcome(rid, op.name, due, sent, done, resp.status)
    body = json.loads(raw) if raw else None
    if resp.status != op.expect:
        out.error = f"status {resp.status}"
    elif resp.getheader("X-Request-ID") != rid:
        out.error = "request id not echoed"
    elif resp.status == 200:
        out.withheld = bool(body["withheld"])
    elif resp.status == 201:
        out.entry_id = str(body["id"])
    elif "entries" in body or body.get("status") != resp.status:
        out.error = "a denial that is not a bare problem document"
    return out


def measure_max(t: Target, seconds: float, threads: int = 4) -> tuple[float, list[Outcome]]:
    """Closed loop: `threads` clients each send the next audited read as soon as the last
    returns. Returns the achieved rate of successful reads per second."""
    outcomes: list[Outcome] = []
    lock = threading.Lock()
    op = plan_read(t, COACH, "case_management")
    start = time.monotonic()
    stop_at = start + seconds

    def client() -> None:
        mine = []
        while time.monotonic() < stop_at:
            now = time.monotonic()
            mine.append(send(t.port, op, f"soak-max-{uuid.uuid4().hex}", now))
        with lock:
            outcomes.extend(mine)

    workers = [threading.Thread(target=client) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = max(o.done for o in outcomes) - start
    return sum(1 for o in outcomes if o.ok) / elapsed, outcomes


def run(t: Target, *, seconds: float, probe_seconds: float, worker_pids: Any,
        fraction: float = 0.8, threads: int = 16) -> SoakResult:
    max_rate, probe = measure_max(t, probe_seconds)
    rate = max_rate * fraction
    total = int(rate * seconds)
    outcomes: list[Outcome] = []
    lock = threading.Lock()
    counter = iter(range(total))
    rss: list[tuple[float, dict[int, float]]] = []
    load: list[float] = []
    sampling = threading.Event()

    def sampler() -> None:
        while not sampling.is_set():
            rss.append((time.monotonic(), {p: m for p in worker_pids()
                                          if (m := vm_rss_mb(p)) is not None}))
            load.append(os.getloadavg()[0])
            sampling.wait(1.0)

    start = time.monotonic() + 0.5

    def client() -> None:
        mine = []
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            due = start + i / rate
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            mine.append(send(t.port, mix(t, i), f"soak-{i}-{uuid.uuid4().hex[:12]}", due))
        with lock:
            outcomes.extend(mine)

    watcher = threading.Thread(target=sampler, daemon=True)
    watcher.start()
    clients = [threading.Thread(target=client) for _ in range(threads)]
    for c in clients:
        c.start()
    for c in clients:
        c.join()
    sampling.set()
    watcher.join()
    after, probe_after = measure_max(t, probe_seconds)
    return SoakResult(max_rate, rate, seconds, probe + probe_after,
                      sorted(outcomes, key=lambda o: o.due), rss, after, load)


def vm_rss_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def check_audit(url: str, outcomes: list[Outcome]) -> dict[str, Any]:
    """Each response against its own audit events (by X-Request-ID), one by one."""
    engine = create_engine(url)
    try:
        with Session(engine) as s:
            rows = s.execute(select(AuditEvent.request_id, AuditEvent.decision, AuditEvent.type)
                             .where(AuditEvent.request_id.like("soak-%"))).all()
            written = {o.entry_id for o in outcomes if o.entry_id}
            stored = {str(i) for i in s.scalars(select(PlanEntry.id)).all()}
    finally:
        engine.dispose()
    by_rid: dict[str, Counter[str]] = {}
    for rid, decision, type_ in rows:
        by_rid.setdefault(rid, Counter())[f"{decision} {type_}"] += 1
    mismatched = []
    expected_allow = expected_deny = 0
    for o in outcomes:
        want: Counter[str] = Counter()
        if o.status == 200:
            want["allow case_plan:plan:read"] = 1
            if o.withheld:
                want["deny case_plan:plan:read"] = 1
        elif o.status == 404:
            want["deny access:subject:deny"] = 1
        elif o.status == 201:
            want["allow case_plan:entry:create"] = 1
        expected_allow += sum(v for k, v in want.items() if k.startswith("allow"))
        expected_deny += sum(v for k, v in want.items() if k.startswith("deny"))
        if by_rid.get(o.rid, Counter()) != want:
            mismatched.append((o.rid, o.status, dict(by_rid.get(o.rid, {}))))
    answered = {o.rid for o in outcomes}
    orphans = sorted(set(by_rid) - answered)
    return {
        "responses": len(outcomes),
        "allow_events": sum(1 for r in rows if r[1] == "allow"),
        "deny_events": sum(1 for r in rows if r[1] == "deny"),
        "expected_allow_events": expected_allow,
        "expected_deny_events": expected_deny,
        "responses_without_their_exact_events": len(mismatched),
        "first_mismatches": mismatched[:5],
        "events_without_a_response": len(orphans),
        "acknowledged_writes": len(written),
        "lost_writes": len(written - stored),
    }


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def summarise(result: SoakResult) -> dict[str, Any]:
    outs = result.outcomes
    t0 = outs[0].due if outs else 0.0
    window = 60.0 if result.seconds >= 180 else max(result.seconds / 4, 1.0)
    windows: dict[int, list[Outcome]] = {}
    for o in outs:
        windows.setdefault(int((o.due - t0) // window), []).append(o)
    per_window = [{"window": k, "requests": len(v),
                   "p50_ms": round(percentile([o.latency_ms for o in v], 50), 1),
                   "p99_ms": round(percentile([o.latency_ms for o in v], 99), 1)}
                  for k, v in sorted(windows.items())]
    # The last window can be a sliver (the schedule ends mid-window): compare full ones.
    full = [w for w in per_window if w["requests"] >= 0.5 * window * result.target_rate]
    first, last = (full[0], full[-1]) if full else ({}, {})
    lag = [max(0.0, o.sent - o.due) * 1000 for o in outs]
    return {
        "max_rate_per_s": round(result.max_rate, 1),
        "max_rate_after_per_s": round(result.max_rate_after, 1),
        "load_average_first_last": [round(result.load_average[0], 1),
                                    round(result.load_average[-1], 1)]
        if result.load_average else None,
        "load_average_max": round(max(result.load_average), 1) if result.load_average else None,
        "target_rate_per_s": round(result.target_rate, 1),
        "achieved_rate_per_s": round(len(outs) / max(outs[-1].done - t0, 1e-9), 1)
        if outs else 0.0,
        "seconds": result.seconds,
        "requests": len(outs),
        "probe_requests": len(result.probe),
        "errors": sum(1 for o in outs + result.probe if not o.ok),
        "first_errors": [(o.op, o.status, o.error) for o in outs + result.probe
                         if not o.ok][:5],
        "statuses": {str(k): v for k, v in Counter(o.status for o in outs).items()},
        "mix": dict(Counter(o.op for o in outs)),
        "window_seconds": window,
        "latency_per_window": per_window,
        "p99_first_ms": first.get("p99_ms"),
        "p99_last_ms": last.get("p99_ms"),
        "p99_last_over_first": round(last["p99_ms"] / first["p99_ms"], 2)
        if first and first["p99_ms"] else None,
        "schedule_lag_p99_ms": round(percentile(lag, 99), 1),
        **rss_figures(result.rss),
    }


def rss_figures(samples: list[tuple[float, dict[int, float]]]) -> dict[str, Any]:
    """Each worker's RSS: median of the first and last tenth of the samples (a single sample
    catches a request's transient allocations)."""
    if len(samples) < 2:
        return {"rss_samples": len(samples)}
    tenth = max(1, len(samples) // 10)
    pids = sorted(set(samples[0][1]) & set(samples[-1][1]))
    start = {p: statistics.median(s[p] for _, s in samples[:tenth] if p in s) for p in pids}
    end = {p: statistics.median(s[p] for _, s in samples[-tenth:] if p in s) for p in pids}
    return {
        "rss_samples": len(samples),
        "workers_throughout": len(pids),
        "rss_start_mb": [round(start[p], 1) for p in pids],
        "rss_end_mb": [round(end[p], 1) for p in pids],
        "rss_growth_mb": [round(end[p] - start[p], 1) for p in pids],
    }
