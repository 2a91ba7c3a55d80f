"""Bulk loader: builds the benchmark data set straight into the database (not through the API).

    python -m bench.load --workdir /tmp/cs-bench --database-url sqlite:////tmp/cs-bench/cs.db \
        --scale 0.01

Writes generated protocol files and a consent form next to copies of the shipped ones (point
CASESHARE_POLICIES_DIR / CASESHARE_FORMS_DIR at them), migrates the schema, seeds the demo
partnership through the normal code path, then inserts subjects, consents, case plans and audit
events in batches: SQLAlchemy Core executemany on SQLite, COPY on PostgreSQL. Sealing and key
wrapping run in worker processes while the parent inserts, so nothing holds the whole data set.
A manifest (sample subjects and who may read them) is written for the runner.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.dialects import postgresql, sqlite

import caseshare.models  # noqa: F401 (completes Base.metadata)
from bench import dataset
from bench.progress import Progress
from caseshare import create_app, migrate
from caseshare.crypto.keyring import LocalKeyring
from caseshare.db import Base
from caseshare.identity import service as identity

ROOT = Path(__file__).resolve().parent.parent
SUBJECT_BATCH = 500
AUDIT_BATCH = 10_000
SAMPLES = 4000  # sample subjects kept in the manifest for the load generator
_DIALECTS = {"sqlite": sqlite.dialect(), "postgresql": postgresql.dialect()}


@dataclass
class Workdir:
    root: Path

    @property
    def policies(self) -> Path:
        return self.root / "policies"

    @property
    def forms(self) -> Path:
        return self.root / "consent_forms"

    @property
    def instance(self) -> Path:
        return self.root / "instance"

    @property
    def manifest(self) -> Path:
        return self.root / "manifest.json"

    def env(self, database_url: str) -> dict[str, str]:
        """The environment that makes `flask --app wsgi` / gunicorn use this data set."""
        return {"CASESHARE_INSTANCE_PATH": str(self.instance),
                "CASESHARE_DATABASE_URL": database_url,
                "CASESHARE_POLICIES_DIR": str(self.policies),
                "CASESHARE_FORMS_DIR": str(self.forms)}


Encoded = list[tuple[str, list[str], list[tuple[Any, ...]]]]  # (table, columns, rows)


def encode(batches: list[tuple[str, list[dict[str, Any]]]], dialect: str) -> Encoded:
    """Turn rows into database values with SQLAlchemy's own bind processors for the dialect
    (UUIDs, UTC timestamps, JSON), in the worker processes, so the parent only writes."""
    out: Encoded = []
    for name, rows in batches:
        if not rows:
            continue
        columns = list(rows[0])
        if dialect == "postgresql":
            # COPY adapts native Python values itself; only JSON needs saying.
            from psycopg.types.json import Jsonb

            out.append((name, columns, [tuple(Jsonb(v) if isinstance(v, (list, dict)) else v
                                              for v in r.values()) for r in rows]))
            continue
        table = Base.metadata.tables[name]
        processors = [table.c[c].type._cached_bind_processor(_DIALECTS[dialect]) for c in columns]
        out.append((name, columns, [
            tuple(p(v) if p else v for p, v in zip(processors, r.values(), strict=True))
            for r in rows]))
    return out


class Inserter:
    """Appends encoded rows: COPY on PostgreSQL, DB-API executemany on SQLite; one transaction
    per batch."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name

    def insert(self, encoded: Encoded) -> None:
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            if self.dialect == "sqlite":
                cursor.execute("BEGIN")
            else:
                # The load itself need not wait for each batch's WAL flush; the server keeps
                # fsync on for the requests measured afterwards.
                cursor.execute("SET synchronous_commit TO off")
            for name, columns, rows in encoded:
                if self.dialect == "postgresql":
                    with cursor.copy(  # type: ignore[attr-defined]
                        f"COPY {name} ({', '.join(columns)}) FROM STDIN"
                    ) as copy:
                        for row in rows:
                            copy.write_row(row)
                else:
                    marks = ", ".join("?" for _ in columns)
                    cursor.executemany(
                        f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({marks})", rows)
            raw.commit()
        finally:
            raw.close()


# Worker-process state: set once per worker by the pool initialiser.
_WORKER: dict[str, Any] = {}


def _init_worker(keyring_path: str, bi_key: bytes, dialect: str) -> None:
    _WORKER.update(keyring=LocalKeyring(Path(keyring_path)), bi_key=bi_key, dialect=dialect)


SUBJECT_TABLES = ("subjects", "case_members", "consents", "case_plans", "plan_entries")


def _subject_job(spec: dataset.BatchSpec) -> tuple[Encoded, list[dict[str, Any]]]:
    batch = dataset.subject_batch(spec, _WORKER["keyring"], _WORKER["bi_key"])
    return encode([(t, batch[t]) for t in SUBJECT_TABLES], _WORKER["dialect"]), batch["samples"]


def _audit_job(args: tuple[int, int, int, dataset.Sizes, datetime, int]) -> Encoded:
    return encode([("audit_events", dataset.audit_batch(*args))], _WORKER["dialect"])


def _chunks(total: int, size: int) -> Iterator[tuple[int, int]]:
    for first in range(0, total, size):
        yield first, min(size, total - first)


def load(workdir: Workdir, database_url: str, scale: float, *, jobs: int = 2, seed: int = 1,
         protocols: int | None = None) -> dict[str, Any]:
    started = time.perf_counter()
    sizes = dataset.Sizes.scaled(scale, protocols)
    dataset.write_rule_files(sizes, workdir.policies, workdir.forms, ROOT)
    migrate.upgrade(database_url)
    app = create_app({"instance_path": workdir.instance, "database_url": database_url,
                      "policies_dir": workdir.policies, "forms_dir": workdir.forms})
    rt = app.extensions["caseshare"]
    now = dataset.utcnow()

    from caseshare.demo import seed as seed_demo

    with rt.session_factory() as s:
        for _line in seed_demo(s, rt):
            pass
        identity.sync_organisations(s, protocols=rt.protocols, now=now)
        s.commit()
    inserter = Inserter(rt.engine)
    inserter.insert(encode([("staff_members", [
        {"id": dataset.staff_id(org), "email": dataset.staff_email(org),
         "name": f"Bench staff {org[-3:]}", "org_id": org, "roles": [dataset.role_of(org)],
         "active": True, "created_at": now, "updated_at": now}
        for org in (dataset.org_id(n) for n in range(sizes.organisations))])], inserter.dialect))

    form = rt.forms.get(dataset.FORM_ID, 1)
    specs = [dataset.BatchSpec(i, first, count, sizes, now, form.text_hash("en"), seed)
             for i, (first, count) in enumerate(_chunks(sizes.subjects, SUBJECT_BATCH))]
    every = max(1, sizes.subjects // SAMPLES)
    samples: list[dict[str, Any]] = []
    counts = dict.fromkeys(("subjects", "case_members", "consents", "case_plans",
                            "plan_entries", "audit_events"), 0)
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(jobs, _init_worker, (str(rt.settings.keyring_path),
                                      rt.keyring.blind_index_key(), inserter.dialect)) as pool:
        bar = Progress("subjects", sizes.subjects)
        for encoded, batch_samples in pool.imap(_subject_job, specs):
            inserter.insert(encoded)
            for name, _columns, rows in encoded:
                counts[name] += len(rows)
            samples.extend(x for x in batch_samples if x["n"] % every == 0)
            bar.advance(len(batch_samples))
        subjects_s = bar.close()
        bar = Progress("audit events", sizes.audit_events)
        jobs_args = [(first, count, sizes.audit_events, sizes, now, seed)
                     for first, count in _chunks(sizes.audit_events, AUDIT_BATCH)]
        for encoded in pool.imap(_audit_job, jobs_args):
            inserter.insert(encoded)
            done = sum(len(rows) for _name, _columns, rows in encoded)
            counts["audit_events"] += done
            bar.advance(done)
        audit_s = bar.close()
    analyze_started = time.perf_counter()
    with rt.engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    analyze_s = time.perf_counter() - analyze_started
    rt.engine.dispose()
    report = {
        "sizes": asdict(sizes), "counts": counts, "scale": scale, "seed": seed,
        "database_url": database_url, "loaded_at": now.isoformat(),
        "load_s": round(time.perf_counter() - started, 2),
        "load_subjects_s": round(subjects_s, 2), "load_audit_s": round(audit_s, 2),
        "analyze_s": round(analyze_s, 2),
        "staff": {dataset.org_id(n): dataset.staff_email(dataset.org_id(n))
                  for n in range(sizes.organisations)},
        "samples": samples,
    }
    workdir.manifest.write_text(json.dumps(report))
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--database-url", default=None,
                        help="default: a SQLite file in the work directory")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    workdir = Workdir(args.workdir)
    workdir.root.mkdir(parents=True, exist_ok=True)
    url = args.database_url or f"sqlite:///{workdir.root / 'caseshare.db'}"
    report = load(workdir, url, args.scale, jobs=args.jobs, seed=args.seed)
    print(json.dumps({k: v for k, v in report.items() if k not in ("samples", "staff")},
                     indent=2))
    print("environment for this data set:", file=sys.stderr)
    for key, value in workdir.env(url).items():
        print(f"  export {key}={value}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
