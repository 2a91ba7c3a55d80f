"""Benchmark of the access decision on a large generated partnership.

    python bench/decision_bench.py [--decisions N] [--seed S]

Builds 50 protocol versions over 500 organisations with 1,000 grants in total (compiled exactly
as the loader compiles the files in policies/), then times `evaluate` alone: no database, no
consent lookup (the subject's consents are already in memory, as the pipeline hands them over).
Prints the median and 99th percentile in microseconds, wall and thread CPU time, for a
one-category decision (explain, a write, one entry) and for a whole-plan read (every category),
on the first request of each kind of caller and in the steady state.
Target (issue 3): median < 50 us, p99 < 200 us.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from caseshare.access.decision import evaluate
from caseshare.facts import ConsentFacts, Principal, SubjectFacts
from caseshare.policy.models import (
    Category,
    Flow,
    Grant,
    OverrideRule,
    Party,
    Protocol,
    ProtocolSet,
)

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
N_PROTOCOLS, N_ORGS, N_GRANTS = 50, 500, 1000
PURPOSES = [f"purpose_{i}" for i in range(8)]
CATEGORIES = [Category(f"category_{i}", f"Category {i}", special=i % 5 == 0) for i in range(16)]
ROLES = [f"role_{i}" for i in range(6)]


def generate(rnd: random.Random) -> list[Protocol]:
    orgs = [f"org-{i:03d}" for i in range(N_ORGS)]
    protocols = []
    for n in range(N_PROTOCOLS):
        # Every organisation is party to at least one protocol; most to two or three.
        members = orgs[n * 10:(n + 1) * 10] + rnd.sample(orgs, 15)
        parties = sorted(set(members))
        purposes = rnd.sample(PURPOSES, 4)
        categories = rnd.sample(CATEGORIES, 10)
        codes = [c.code for c in categories]
        flows = tuple(
            Flow(id=f"f{i}", from_orgs=frozenset(rnd.sample(parties, 8)),
                 to_orgs=frozenset(rnd.sample(parties, 8)),
                 purposes=frozenset(rnd.sample(purposes, 2)),
                 categories=frozenset(rnd.sample(codes, 5)),
                 consent=rnd.choice(["consent", "explicit", "none"]), max_consent_days=365)
            for i in range(8)
        )
        grants = tuple(
            Grant(index=i, roles=frozenset(rnd.sample(ROLES, 2)),
                  parties=frozenset(rnd.sample(parties, 5)),
                  purposes=frozenset(rnd.sample(purposes, 2)),
                  read=frozenset(rnd.sample(codes, 6)), write=frozenset(rnd.sample(codes, 3)))
            for i in range(N_GRANTS // N_PROTOCOLS)
        )
        protocols.append(Protocol(
            id=f"protocol-{n:02d}", version=1, title=f"Protocol {n}", type="ISP",
            framework="local", status="active", effective_from=NOW.date() - timedelta(days=90),
            review_date=NOW.date() + timedelta(days=200),
            expires_on=NOW.date() + timedelta(days=400),
            parties=tuple(Party(o, o, "local_gov", True) for o in parties),
            purposes=frozenset(purposes), categories=tuple(categories), flows=flows,
            grants=grants, override=OverrideRule(permitted=False), source_file=f"{n}.yaml",
            content_hash="0" * 64,
        ))
    return protocols


def requests(rnd: random.Random, protocols: list[Protocol], n: int) -> list[tuple[
        Principal, str, list[str], SubjectFacts]]:
    """Requests by people who hold a grant (the common case), for subjects in their case."""
    out = []
    for _ in range(n):
        protocol = rnd.choice(protocols)
        grant = rnd.choice(protocol.grants)
        org = rnd.choice(sorted(grant.parties))
        principal = Principal(actor_id=str(uuid.uuid4()), actor_type="staff", org=org,
                              roles=frozenset({rnd.choice(sorted(grant.roles))}))
        purpose = rnd.choice(sorted(grant.purposes))
        consents = tuple(
            ConsentFacts(
                id=uuid.uuid4(),
                recipients=frozenset([*rnd.sample(sorted(protocol.index.parties), 6), org]),
                purposes=frozenset({purpose}),
                categories=frozenset(rnd.sample([c.code for c in CATEGORIES], 8)),
                excluded=frozenset(), explicit=rnd.random() < 0.5, verified=True,
                valid_from=NOW - timedelta(days=30), expires_at=NOW + timedelta(days=150))
            for _ in range(3)
        )
        subject = SubjectFacts(uuid.uuid4(), frozenset({org}), consents)
        out.append((principal, purpose, sorted(grant.read), subject))
    return out


def percentiles(samples: list[float]) -> str:
    samples.sort()
    return (f"median {statistics.median(samples):7.1f}  p99 "
            f"{samples[int(len(samples) * 0.99)]:7.1f}")


def measure(label: str, calls: list[tuple[Principal, str, list[str], SubjectFacts]],
            protocols: ProtocolSet, categories_of: str) -> None:
    """Wall time, and the thread's CPU time (what the decision costs when the machine is busy
    with other work: the wall p99 then mostly measures the scheduler, not the decision)."""
    wall, cpu = [], []
    permitted = 0
    everything = sorted(protocols.categories)
    for principal, purpose, categories, subject in calls:
        wanted = [categories[0]] if categories_of == "one" else everything
        start_cpu, start = time.thread_time_ns(), time.perf_counter_ns()
        decision = evaluate(principal, purpose, "read", wanted, subject, protocols, NOW)
        wall.append((time.perf_counter_ns() - start) / 1000)
        cpu.append((time.thread_time_ns() - start_cpu) / 1000)
        permitted += len(decision.permitted)
    print(f"{label:<46} wall us: {percentiles(wall)}   cpu us: {percentiles(cpu)}   "
          f"[{len(calls)} decisions, {permitted} categories permitted]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    rnd = random.Random(args.seed)
    compile_start = time.perf_counter()
    protocols = generate(rnd)
    compile_ms = (time.perf_counter() - compile_start) * 1000
    build_start = time.perf_counter()
    compiled = ProtocolSet.build(protocols)
    build_ms = (time.perf_counter() - build_start) * 1000
    orgs = len(compiled.by_party)
    grants = sum(len(p.grants) for p in protocols)
    print(f"protocols {len(protocols)}, organisations {orgs}, grants {grants}, "
          f"categories {len(compiled.categories)} (generated and compiled in {compile_ms:.0f} ms, "
          f"set built in {build_ms:.1f} ms)")
    calls = requests(rnd, protocols, args.decisions)
    # The protocol layer's answer for a kind of caller (org, roles, purpose, category) is
    # worked out on its first request and then looked up: measure both.
    n = len(compiled.categories)
    measure("one category, first request of its kind", calls, compiled, "one")
    measure("one category, steady state", calls, compiled, "one")
    measure(f"whole plan ({n} categories), first of its kind", calls, compiled, "all")
    measure(f"whole plan ({n} categories), steady state", calls, compiled, "all")
    print(f"protocol-layer routes cached: {len(compiled.routes)}")


if __name__ == "__main__":
    main()
