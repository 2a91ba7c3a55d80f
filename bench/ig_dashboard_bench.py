"""IG dashboard figures at scale: bulk-load N realistic audit events over a year, then time
the dashboard's counts (decisions per day for 14 days, denials per
organisation, seal state) and one audit search page.

    python -m bench.ig_dashboard_bench [--events 1000000] [--engine sqlite|postgresql|both]

Figures are printed per engine; nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import sessionmaker

from bench.audit_bench import median_ms, postgres_database
from caseshare import migrate
from caseshare.audit import canonical as audit_canonical
from caseshare.audit import merkle as audit_merkle
from caseshare.audit import queries, stats
from caseshare.audit.models import AuditEvent
from caseshare.db import make_engine

ORGS = ["jcp-derby", "derby-housing", "ca-derby", "recovery-partnership"]
REACH = frozenset(ORGS[:3])  # Derby Housing's agreements: not the Recovery Partnership
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
        row["leaf_hash"] = audit_merkle.leaf_hash(audit_canonical.canonical_bytes(event))  # type: ignore[arg-type]
        yield row


@contextmanager
def timed(label: str, results: dict[str, float]) -> Iterator[None]:
    """Wall time, and this process's CPU time (database server excluded)."""
    start, cpu = time.perf_counter(), time.process_time()
    yield
    results[label] = time.perf_counter() - start
    results[f"{label} (cpu)"] = time.process_time() - cpu
    print(f"  {label:<44} {results[label]:9.2f} s  (this process's cpu "
          f"{results[f'{label} (cpu)']:.2f} s)", flush=True)


def run(url: str, n: int) -> dict[str, float]:
    migrate.upgrade(url)
    engine = make_engine(url)
    factory = sessionmaker(bind=engine, expire_on_commit=False)
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
    first_day = (END - timedelta(days=13)).date()
    since = END - timedelta(days=14)
    with factory() as s:
        def per_day() -> None:
            stats.access_per_day(s, orgs=REACH, first_day=first_day, days=14)
            s.rollback()

        def denials() -> None:
            stats.denials_per_org(s, orgs=REACH, since=since, until=END)
            s.rollback()

        def seal_state() -> None:
            stats.seal_state(s)
            s.rollback()

        def search_page() -> None:
            queries.find_events(s, orgs=REACH, filters=queries.EventFilter(
                decision="deny", from_=since, to=END), cursor=None, limit=50)
            s.rollback()

        results["decisions per day, 14 days (median ms)"] = median_ms(per_day, 20)
        results["denials per organisation, 14 days (median ms)"] = median_ms(denials, 20)
        results["seal state (median ms)"] = median_ms(seal_state, 20)
        results["search page, denials over 14 days (median ms)"] = median_ms(search_page, 20)
    for key in [k for k in results if "median" in k]:
        print(f"  {key:<48} {results[key]:9.2f} ms", flush=True)
    engine.dispose()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    engines = ["sqlite", "postgresql"] if args.engine == "both" else [args.engine]
    for engine in engines:
        with tempfile.TemporaryDirectory(prefix="ig-bench-") as tmp:
            print(f"{engine}: {args.events:,} audit events", flush=True)
            if engine == "sqlite":
                run(f"sqlite:///{Path(tmp) / 'bench.db'}", args.events)
                continue
            with postgres_database() as url:
                if url is not None:
                    run(url, args.events)
    return 0


if __name__ == "__main__":
    sys.exit(main())
