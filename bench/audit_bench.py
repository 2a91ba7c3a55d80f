"""Audit log benchmark: bulk-load N events, seal, verify, prove, query, append.

    python -m bench.audit_bench [--events 1000000] [--engine sqlite|postgresql|both]

Targets (issue 6, 2-core machine, 1,000,000 events): full verify < 10 s; one inclusion proof
< 10 ms; an IG query by subject over 90 days < 50 ms; appending an event adds < 1 ms median to a
request. Figures are printed per engine; nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import create_engine, insert, text
from sqlalchemy.orm import sessionmaker

from caseshare import migrate
from caseshare.audit import log as audit_log
from caseshare.audit import queries
from caseshare.audit import service as audit
from caseshare.audit.models import AuditEvent
from caseshare.db import make_engine

ORGS = ["jcp-derby", "derby-housing", "ca-derby", "recovery-partnership"]
TYPES = ["case_plan:plan:read", "subject:identity:read", "case_plan:entry:create",
         "consent:record:create", "access:subject:deny"]
CATEGORIES = ["employment", "housing_tenancy", "finances", "substance_misuse", "identity"]
END = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
SPAN = timedelta(days=365)


def fake_rows(n: int, subjects: list[uuid.UUID], actors: list[str]) -> Iterator[dict[str, Any]]:
    """Realistic events in time order over a year, hashed exactly as `audit.record` hashes."""
    step = SPAN / n
    for i in range(n):
        decision = "deny" if i % 7 == 0 else "allow"
        event = SimpleNamespace(
            event_uuid=uuid.uuid4(), occurred_at=END - SPAN + step * i, type=TYPES[i % 5],
            actor=actors[i % len(actors)], org=ORGS[i % 4], role="work_coach",
            purpose="case_management", subject_id=subjects[(i * 7919) % len(subjects)],
            categories=[CATEGORIES[i % 5]], decision=decision,
            reasons=["consent_expired"] if decision == "deny" else [], consent_id=uuid.uuid4(),
            protocol="derby-local-support@1", override_id=None, request_id=uuid.uuid4().hex,
            details={"entries": [str(uuid.uuid4())]},
        )
        row = dict(vars(event))
        row["leaf_hash"] = audit_log.leaf_hash(audit_log.canonical_bytes(event))  # type: ignore[arg-type]
        yield row


@contextmanager
def timed(label: str, results: dict[str, float]) -> Iterator[None]:
    """Wall time, and this process's CPU time: on a shared machine the second shows what the
    work costs when it has a core to itself (database server and worker processes excluded)."""
    start, cpu = time.perf_counter(), time.process_time()
    yield
    results[label] = time.perf_counter() - start
    results[f"{label} (cpu)"] = time.process_time() - cpu
    print(f"  {label:<44} {results[label]:9.2f} s  (this process's cpu "
          f"{results[f'{label} (cpu)']:.2f} s)", flush=True)


def median_ms(fn: Callable[[], Any], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def run(url: str, n: int, workdir: Path) -> dict[str, float]:
    migrate.upgrade(url)
    engine = make_engine(url)
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    signer = audit_log.AuditSigner.create_if_missing(workdir / "audit-key.pem")
    subjects = [uuid.uuid4() for _ in range(5000)]
    actors = [str(uuid.uuid4()) for _ in range(200)]
    results: dict[str, float] = {}

    with timed(f"bulk insert {n:,} events", results), factory() as s:
        batch: list[dict[str, Any]] = []
        for row in fake_rows(n, subjects, actors):
            batch.append(row)
            if len(batch) == 20_000:
                s.execute(insert(AuditEvent), batch)
                batch = []
        if batch:
            s.execute(insert(AuditEvent), batch)
        s.commit()
    with timed("first seal (sequence + tree of all events)", results), factory() as s:
        audit_log.seal(s, signer, END)
    with factory() as s:
        for i in range(1000):
            audit.record(s, type="case_plan:plan:read", now=END + timedelta(seconds=i),
                         subject_id=subjects[i], decision="allow")
        s.commit()
    with timed("incremental seal of 1,000 new events", results), factory() as s:
        audit_log.seal(s, signer, END + timedelta(hours=1))
    with timed("full verify, one process", results), factory() as s:
        outcome = audit_log.verify(s, signer.public_key(), mac_key=signer.mac_key())
    assert outcome.ok, outcome.problem
    workers = os.cpu_count() or 1
    with timed(f"full verify, {workers} worker processes", results), factory() as s:
        outcome = audit_log.verify(s, signer.public_key(), mac_key=signer.mac_key(),
                                   workers=workers)
    assert outcome.ok, outcome.problem
    size = outcome.events

    with factory() as s:
        def prove() -> None:
            index = int.from_bytes(uuid.uuid4().bytes[:4], "big") % size
            queries.inclusion_proof(s, index=index, tree_size=size)
            s.rollback()

        results["inclusion proof (median ms)"] = median_ms(prove, 200)

        def query() -> None:
            subject = subjects[int.from_bytes(uuid.uuid4().bytes[:2], "big") % len(subjects)]
            queries.find_events(s, orgs=frozenset(ORGS[:3]), filters=queries.EventFilter(
                subject_id=subject, from_=END - timedelta(days=90), to=END),
                cursor=None, limit=200)
            s.rollback()

        results["IG query by subject over 90 days (median ms)"] = median_ms(query, 200)

        def append() -> None:
            audit.record(s, type="case_plan:plan:read", now=END, subject_id=subjects[0],
                         decision="allow")
            s.flush()

        results["append one event in a request (median ms)"] = median_ms(append, 500)
        s.rollback()
    for key in [k for k in results if "median" in k]:
        print(f"  {key:<44} {results[key]:9.3f} ms", flush=True)
    engine.dispose()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    engines = ["sqlite", "postgresql"] if args.engine == "both" else [args.engine]
    for engine in engines:
        with tempfile.TemporaryDirectory(prefix="audit-bench-") as tmp:
            workdir = Path(tmp)
            print(f"{engine}: {args.events:,} audit events", flush=True)
            if engine == "sqlite":
                run(f"sqlite:///{workdir / 'bench.db'}", args.events, workdir)
                continue
            from tests.pg_server import PostgresServer, find_bindir

            bindir = find_bindir()
            if bindir is None:
                print("  PostgreSQL binaries not found; skipped")
                continue
            server = PostgresServer(bindir)
            server.start()
            try:
                admin = create_engine(server.url(), isolation_level="AUTOCOMMIT")
                with admin.connect() as conn:
                    conn.execute(text("CREATE DATABASE bench"))
                admin.dispose()
                run(server.url("bench"), args.events, workdir)
            finally:
                server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
