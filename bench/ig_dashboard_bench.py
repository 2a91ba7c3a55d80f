"""IG dashboard figures at scale: bulk-load N audit events over a year (bench.audit_bench's
realistic rows), then time the dashboard's counts (decisions per day for 14 days, denials per
organisation, seal state) and one audit search page.

    python -m bench.ig_dashboard_bench [--events 1000000] [--engine sqlite|postgresql|both]

Figures are printed per engine; nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, text
from sqlalchemy.orm import sessionmaker

from bench.audit_bench import END, ORGS, fake_rows, median_ms, timed
from caseshare import migrate
from caseshare.audit import queries, stats
from caseshare.audit.models import AuditEvent
from caseshare.db import make_engine

REACH = frozenset(ORGS[:3])  # Derby Housing's agreements: not the Recovery Partnership


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
                run(server.url("bench"), args.events)
            finally:
                server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
