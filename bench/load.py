"""Bulk loader: builds the benchmark data set straight into the database (not through the API).

    python -m bench.load --workdir /tmp/cs-bench --database-url sqlite:////tmp/cs-bench/cs.db \
        --scale 0.01

Writes generated protocol files and a consent form next to copies of the shipped ones (point
CASESHARE_POLICIES_DIR / CASESHARE_FORMS_DIR at them), migrates the schema, seeds the demo
partnership through the normal code path, then inserts subjects, consents, case plans and a
sealed audit history in batches, streaming (nothing holds the whole data set):

- worker processes generate the rows, seal every sealed field and wrap every data key with the
  real code, compute each past event's leaf hash and leaf MAC (bench/sealed_log.py), and encode
  the values for the database: on SQLite into a scratch file the parent copies with
  INSERT ... SELECT, on PostgreSQL as COPY text the parent writes in one call per table;
- the parent appends the leaves to the Merkle tree, storing its nodes and a signed checkpoint
  every CHECKPOINT_EVERY events, so `audit seal` and `audit verify` work on the result as on a
  log the app wrote itself;
- the load runs on one connection with load-only settings (SQLite: no journal, no fsync, a large
  cache, no foreign-key checks; PostgreSQL: no foreign-key triggers, no wait for each commit's
  flush), and the tables' secondary indexes are dropped first and built once at the end; SQLite
  is back in WAL mode afterwards.

A manifest (sample subjects and who may read them) is written for the runner.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import date, datetime
from multiprocessing.pool import Pool
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Date, Engine, Uuid, text
from sqlalchemy.dialects import postgresql, sqlite

import caseshare.models  # noqa: F401 (completes Base.metadata)
from bench import dataset, sealed_log
from bench.progress import Progress
from caseshare import create_app, migrate
from caseshare.audit.log import AuditSigner
from caseshare.crypto.keyring import LocalKeyring
from caseshare.db import Base, UTCDateTime
from caseshare.identity import service as identity

ROOT = Path(__file__).resolve().parent.parent
SUBJECT_BATCH = 500
AUDIT_BATCH = 10_000
SAMPLES = 4000  # sample subjects kept in the manifest for the load generator
CHECKPOINT_EVERY = 100_000  # a signed checkpoint every so many events of the loaded history
SQLITE_CACHE_KB = 512_000  # SQLite page cache during the load (the app keeps the default)
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
    (UUIDs, UTC timestamps, JSON), in the worker processes, so the parent only writes.

    Column by column rather than row by row, and timestamps and JSON lists are converted once
    per distinct value in the batch (most repeat: the same day offsets, the same purposes)."""
    out: Encoded = []
    for name, rows in batches:
        if not rows:
            continue
        columns = list(rows[0])
        table = Base.metadata.tables[name]
        values = []
        for column in columns:
            cells = [r[column] for r in rows]
            convert = _converter(table.c[column].type, dialect)
            values.append(cells if convert is None else list(map(convert, cells)))
        out.append((name, columns, list(zip(*values, strict=True))))
    return out


def _converter(type_: Any, dialect: str) -> Callable[[Any], Any] | None:
    if dialect == "postgresql":
        # COPY (text format) takes text for everything: made here, it pickles to the parent
        # several times faster than UUID and datetime objects, and COPY writes it as it is.
        if isinstance(type_, JSON):
            return _once(json.dumps)
        if isinstance(type_, Uuid):
            return _text
        if isinstance(type_, (UTCDateTime, Date)):
            return _once(_isoformat)
        return None
    process = type_._cached_bind_processor(_DIALECTS[dialect])
    if process is not None and isinstance(type_, (JSON, UTCDateTime, Date)):
        return _once(process)
    return process  # type: ignore[no-any-return]


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _isoformat(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _once(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`process`, remembered per distinct (hashable, or list of hashable) value."""
    seen: dict[Any, Any] = {}

    def convert(value: Any) -> Any:
        key = (tuple(value),) if type(value) is list else value
        try:
            return seen[key]
        except KeyError:
            result = seen[key] = process(value)
            return result
        except TypeError:  # unhashable (a dict of details): not remembered
            return process(value)

    return convert


@dataclass
class Staged:
    """Rows a worker process wrote into a scratch SQLite file of its own, for the parent to
    copy with INSERT ... SELECT: binding parameters row by row costs about 8 us a row, and done
    in the parent it held up the whole SQLite load; the copy is about 2 us a row, all in C."""

    path: str
    tables: list[tuple[str, list[str], int]]  # (table, columns, rows)


@dataclass
class CopyText:
    """Rows as PostgreSQL COPY text (tab-separated, escaped), made in a worker process, so the
    parent hands each table's rows to COPY in one write instead of one call per row."""

    tables: list[tuple[str, list[str], int, bytes]]  # (table, columns, rows, COPY text)


Batch = Encoded | Staged | CopyText

_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_field(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return value.translate(_COPY_ESCAPES)
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, bytes):
        return "\\\\x" + value.hex()
    return str(value).translate(_COPY_ESCAPES)


def copy_text(encoded: Encoded) -> CopyText:
    """Encoded rows (text or native values, see `_converter`) as COPY text per table."""
    return CopyText([
        (name, columns, len(rows),
         "".join("\t".join(map(_copy_field, row)) + "\n" for row in rows).encode())
        for name, columns, rows in encoded if rows])


def stage(encoded: Encoded, directory: str) -> Staged:
    """Write encoded rows to a new scratch file in `directory` (tables without types, keys or
    indexes: the values keep the storage classes the bind processors gave them)."""
    handle, path = tempfile.mkstemp(suffix=".db", dir=directory)
    os.close(handle)  # an empty file is a new SQLite database
    scratch = sqlite3.connect(path, isolation_level=None)
    try:
        for pragma in ("journal_mode=OFF", "synchronous=OFF"):
            scratch.execute(f"PRAGMA {pragma}")
        scratch.execute("BEGIN")
        for name, columns, rows in encoded:
            scratch.execute(f"CREATE TABLE {name} ({', '.join(columns)})")
            marks = ", ".join("?" for _ in columns)
            scratch.executemany(f"INSERT INTO {name} VALUES ({marks})", rows)
        scratch.execute("COMMIT")
    finally:
        scratch.close()
    return Staged(path, [(name, columns, len(rows)) for name, columns, rows in encoded if rows])


def row_counts(batch: Batch) -> dict[str, int]:
    if isinstance(batch, Staged):
        return {name: n for name, _columns, n in batch.tables}
    if isinstance(batch, CopyText):
        return {name: n for name, _columns, n, _text in batch.tables}
    return {name: len(rows) for name, _columns, rows in batch}


class Inserter:
    """Appends batches on one connection held for the whole load, one transaction each:
    COPY (of COPY text, or row by row) on PostgreSQL; INSERT ... SELECT from a staged file, or
    DB-API executemany, on SQLite.

    With `bulk`, the connection is set up for loading only: on SQLite no rollback journal, no
    fsync, a large page cache and no foreign-key checks (the rows are generated consistent);
    on PostgreSQL no foreign-key triggers (session_replication_role). `close` puts SQLite back
    in the app's WAL mode. Nothing else may use the database meanwhile (SQLite leaves WAL mode
    only on its one connection)."""

    def __init__(self, engine: Engine, *, bulk: bool = False) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self.bulk = bulk
        self.deferred: list[tuple[str, str]] = []  # (index name, its CREATE statement)
        # Where worker processes stage SQLite rows (see Staged).
        self.scratch = (tempfile.mkdtemp(prefix="caseshare-load-")
                        if bulk and self.dialect == "sqlite" else None)
        if bulk:
            engine.dispose()  # no other pooled connection may hold the file in WAL mode
        self.raw = engine.raw_connection()
        cursor = self.raw.cursor()
        if self.dialect == "sqlite":
            if bulk:
                cursor.execute("PRAGMA journal_mode=OFF")
                for pragma in ("synchronous=OFF", "foreign_keys=OFF", "temp_store=MEMORY",
                               f"cache_size=-{SQLITE_CACHE_KB}"):
                    cursor.execute(f"PRAGMA {pragma}")
        else:
            # The load itself need not wait for each batch's WAL flush; the server keeps
            # fsync on for the requests measured afterwards.
            cursor.execute("SET synchronous_commit TO off")
            if bulk:
                cursor.execute("SET maintenance_work_mem = '256MB'")
                self.raw.commit()
                from psycopg.errors import InsufficientPrivilege

                try:  # superusers only (the runner's throwaway server): else FKs are checked
                    cursor.execute("SET session_replication_role = replica")
                except InsufficientPrivilege:
                    self.raw.rollback()
        cursor.close()
        self.raw.commit()

    def insert(self, batch: Batch) -> None:
        if isinstance(batch, Staged):
            self._copy_staged(batch)
            return
        if isinstance(batch, CopyText):
            self._copy_text(batch)
            return
        encoded = [(name, columns, rows) for name, columns, rows in batch if rows]
        if not encoded:
            return
        cursor = self.raw.cursor()
        if self.dialect == "sqlite":
            cursor.execute("BEGIN")
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
        self.raw.commit()
        cursor.close()

    def worker_state(self, **state: Any) -> dict[str, Any]:
        """The pool's `init_worker` state for batches this inserter takes."""
        return {**state, "dialect": self.dialect,
                **({"scratch": self.scratch} if self.scratch else {})}

    def _copy_text(self, batch: CopyText) -> None:
        cursor = self.raw.cursor()
        for name, columns, _count, payload in batch.tables:
            with cursor.copy(  # type: ignore[attr-defined]
                f"COPY {name} ({', '.join(columns)}) FROM STDIN"
            ) as copy:
                copy.write(payload)
        self.raw.commit()
        cursor.close()

    def _copy_staged(self, staged: Staged) -> None:
        cursor = self.raw.cursor()
        cursor.execute("ATTACH DATABASE ? AS staged", (staged.path,))
        try:
            cursor.execute("BEGIN")
            for name, columns, _count in staged.tables:
                listed = ", ".join(columns)
                cursor.execute(f"INSERT INTO main.{name} ({listed}) SELECT {listed} "
                               f"FROM staged.{name}")
            self.raw.commit()
        finally:
            cursor.execute("DETACH DATABASE staged")
            cursor.close()
            os.unlink(staged.path)

    def defer_indexes(self, tables: Iterable[str]) -> None:
        """Drop the secondary indexes of these tables (not those behind primary keys or unique
        constraints) until `restore_indexes`: building an index once from sorted data is much
        faster than a million random inserts into it."""
        cursor = self.raw.cursor()
        names = list(tables)
        if self.dialect == "sqlite":
            marks = ", ".join("?" for _ in names)
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND "
                           f"sql IS NOT NULL AND tbl_name IN ({marks})", names)
        else:
            cursor.execute(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
                "FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid "
                "WHERE t.relname = ANY(%s) AND NOT EXISTS "
                "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)", (names,))
        found = [(str(name), str(sql)) for name, sql in cursor.fetchall()]
        for name, _sql in found:
            cursor.execute(f"DROP INDEX {name}")
        self.raw.commit()
        cursor.close()
        self.deferred.extend(found)

    def restore_indexes(self) -> None:
        cursor = self.raw.cursor()
        bar = Progress("indexes", len(self.deferred))
        for _name, sql in self.deferred:
            cursor.execute(sql)
            self.raw.commit()
            bar.advance(1)
        bar.close()
        cursor.close()
        self.deferred = []

    def close(self) -> None:
        if self.deferred:
            self.restore_indexes()
        if self.bulk and self.dialect == "sqlite":
            cursor = self.raw.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")  # the app's setting, kept in the file
            cursor.close()
        # Closed, not pooled: its load-only settings must not serve anything else.
        self.raw.invalidate()
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)


# Worker-process state: set once per worker by the pool initialiser.
_WORKER: dict[str, Any] = {}


def init_worker(state: dict[str, Any]) -> None:
    """Keys: dialect; mac_key (audit history); keyring_path and bi_key (subjects)."""
    _WORKER.update(state)
    if "keyring_path" in state:
        _WORKER["keyring"] = LocalKeyring(Path(state["keyring_path"]))


SUBJECT_TABLES = ("subjects", "case_members", "consents", "case_plans", "plan_entries")
AUDIT_TABLES = ("audit_events", "audit_tree_nodes")


def _ship(encoded: Encoded) -> Batch:
    """What goes back to the parent: COPY text on PostgreSQL, a staged file on SQLite (when the
    pool was given a scratch directory), else the rows."""
    if _WORKER["dialect"] == "postgresql":
        return copy_text(encoded)
    scratch = _WORKER.get("scratch")
    return encoded if scratch is None else stage(encoded, scratch)


def _subject_job(spec: dataset.BatchSpec) -> tuple[Batch, list[dict[str, Any]]]:
    batch = dataset.subject_batch(spec, _WORKER["keyring"], _WORKER["bi_key"])
    return (_ship(encode([(t, batch[t]) for t in SUBJECT_TABLES], _WORKER["dialect"])),
            batch["samples"])


AuditSpan = tuple[int, int, int, dataset.Sizes, datetime, int]  # first, count, total, ...


def _audit_job(span: AuditSpan) -> tuple[Batch, list[bytes], datetime]:
    """One batch of past events as the sequencer left them, and their leaf hashes in order."""
    rows = sealed_log.sealed_events(*span, _WORKER["mac_key"])
    return (_ship(encode([("audit_events", rows)], _WORKER["dialect"])),
            [row["leaf_hash"] for row in rows], rows[-1]["occurred_at"])


def load_history(pool: Pool, inserter: Inserter, signer: AuditSigner, sizes: dataset.Sizes,
                 now: datetime, seed: int, *, every: int = CHECKPOINT_EVERY) -> float:
    """The sealed audit history (sizes.audit_events events at log positions 0 on, their tree
    nodes and a signed checkpoint every `every` events), generated and MACed in the pool (set up
    by `init_worker` with mac_key and dialect). Returns the seconds it took."""
    tree = sealed_log.TreeBuilder(signer, sizes.audit_events, every)
    spans = [(first, count, sizes.audit_events, sizes, now, seed)
             for first, count in _chunks(sizes.audit_events, AUDIT_BATCH)]
    bar = Progress("audit events", sizes.audit_events)
    for encoded, leaves, last_time in pool.imap(_audit_job, spans):
        inserter.insert(encoded)
        tree.add(leaves, last_time)
        inserter.insert(encode([("audit_tree_nodes", tree.take_nodes())], inserter.dialect))
        bar.advance(len(leaves))
    inserter.insert(encode([("audit_tree_nodes", tree.take_nodes(0)),
                            ("audit_checkpoints", tree.take_checkpoints())], inserter.dialect))
    return bar.close()


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
    signer, keyring_path = rt.audit_signer, str(rt.settings.keyring_path)
    bi_key, form = rt.keyring.blind_index_key(), rt.forms.get(dataset.FORM_ID, 1)
    inserter = Inserter(rt.engine, bulk=True)
    inserter.insert(encode([("staff_members", [
        {"id": dataset.staff_id(org), "email": dataset.staff_email(org),
         "name": f"Bench staff {org[-3:]}", "org_id": org, "roles": [dataset.role_of(org)],
         "active": True, "created_at": now, "updated_at": now}
        for org in (dataset.org_id(n) for n in range(sizes.organisations))])], inserter.dialect))
    inserter.defer_indexes(SUBJECT_TABLES + AUDIT_TABLES)

    specs = [dataset.BatchSpec(i, first, count, sizes, now, form.text_hash("en"), seed)
             for i, (first, count) in enumerate(_chunks(sizes.subjects, SUBJECT_BATCH))]
    every = max(1, sizes.subjects // SAMPLES)
    samples: list[dict[str, Any]] = []
    counts = dict.fromkeys(("subjects", "case_members", "consents", "case_plans",
                            "plan_entries", "audit_events"), 0)
    ctx = multiprocessing.get_context("fork")
    state = inserter.worker_state(keyring_path=keyring_path, bi_key=bi_key,
                                  mac_key=signer.mac_key())
    with ctx.Pool(jobs, init_worker, (state,)) as pool:
        bar = Progress("subjects", sizes.subjects)
        for encoded, batch_samples in pool.imap(_subject_job, specs):
            inserter.insert(encoded)
            for name, n in row_counts(encoded).items():
                counts[name] += n
            samples.extend(x for x in batch_samples if x["n"] % every == 0)
            bar.advance(len(batch_samples))
        subjects_s = bar.close()
        audit_s = load_history(pool, inserter, signer, sizes, now, seed)
        counts["audit_events"] = sizes.audit_events
    index_started = time.perf_counter()
    inserter.close()
    index_s = time.perf_counter() - index_started
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
        "load_indexes_s": round(index_s, 2),
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
