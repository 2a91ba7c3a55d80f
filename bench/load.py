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

`load_many` loads several databases from one generation of the rows (the benchmark runner loads
SQLite and PostgreSQL, each at full size and 10x smaller, at once): each batch is sealed once and
encoded once per dialect in the workers, and one thread per database writes it (SQLite and
psycopg write without holding the GIL). The databases share one set of keys.

A manifest (sample subjects and who may read them) is written for the runner.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import queue
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import date, datetime
from multiprocessing.pool import Pool
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Date, Engine, LargeBinary, String, Uuid, make_url, text
from sqlalchemy.dialects import postgresql, sqlite

import caseshare.models  # noqa: F401 (completes Base.metadata)
from bench import dataset, sealed_log
from bench.progress import Progress
from caseshare import create_app, migrate
from caseshare.audit.signer import AuditSigner
from caseshare.crypto.keyring import LocalKeyring
from caseshare.db import Base, UTCDateTime
from caseshare.identity import service as identity
from caseshare.runtime import Runtime

ROOT = Path(__file__).resolve().parent.parent
SUBJECT_BATCH = 500
AUDIT_BATCH = 10_000
SAMPLES = 4000  # sample subjects kept in the manifest for the load generator


def sample_stride(subjects: int) -> int:
    """Keep every n-th subject, n about subjects / SAMPLES but prime to 30: a subject's protocol
    and organisations follow n mod 50 and n mod 12 (dataset.case_orgs_of), so a stride sharing a
    factor with them (25 at full size) would sample 2 protocols and 6 lead organisations instead
    of all 50 and 150, and the full-size and 10x smaller reads would not be the same mix."""
    stride = max(1, subjects // SAMPLES)
    while math.gcd(stride, 30) != 1:
        stride -= 1
    return stride
CHECKPOINT_EVERY = 100_000  # a signed checkpoint every so many events of the loaded history
# Generated batches not yet written everywhere (bounds the parent's memory, about 7 MB a batch):
# enough for the workers to keep generating while the other databases are being set up.
IN_FLIGHT = 32
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
                "CASESHARE_FORMS_DIR": str(self.forms),
                # The generated protocols declare none of the shipped assessment forms' own.
                "CASESHARE_ASSESSMENT_FORMS_DIR": str(self.root / "assessment_forms")}


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
    users: int = 1  # databases still to copy it (set by the parent); the last one deletes it


@dataclass
class CopyText:
    """Rows as PostgreSQL COPY text (tab-separated, escaped), made in a worker process, so the
    parent hands each table's rows to COPY in one write instead of one call per row."""

    tables: list[tuple[str, list[str], int, bytes]]  # (table, columns, rows, COPY text)


Batch = Encoded | Staged | CopyText

_STAGED_LOCK = threading.Lock()  # Staged.users, counted down by the databases' threads

_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_field(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return _copy_str(value)
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


def copy_tables(batches: list[tuple[str, list[dict[str, Any]]]]) -> CopyText:
    """Rows straight to COPY text, column by column with a conversion chosen once per column
    from its type (the same text `copy_text(encode(batches, "postgresql"))` makes, in about half
    the time: most of a subject batch's cost on PostgreSQL was choosing per cell)."""
    out = []
    for name, rows in batches:
        if not rows:
            continue
        columns = list(rows[0])
        table = Base.metadata.tables[name]
        cells = [_copy_column(table.c[c].type, [r[c] for r in rows]) for c in columns]
        out.append((name, columns, len(rows),
                    ("\n".join(map("\t".join, zip(*cells, strict=True))) + "\n").encode()))
    return CopyText(out)


def _copy_column(type_: Any, values: list[Any]) -> list[str]:
    null = "\\N"
    if isinstance(type_, Uuid):
        return [null if v is None else str(v) for v in values]
    if isinstance(type_, LargeBinary):
        return [null if v is None else "\\\\x" + v.hex() for v in values]
    if isinstance(type_, String) and not isinstance(type_, JSON):
        return [null if v is None else _copy_str(v) for v in values]
    if isinstance(type_, JSON):
        return list(map(_once(lambda v: _copy_field(json.dumps(v))), values))
    if isinstance(type_, (UTCDateTime, Date)):
        return list(map(_once(lambda v: _copy_field(_isoformat(v))), values))
    return list(map(_copy_field, values))


def _copy_str(value: str) -> str:
    # Most values need no escape; looking is cheaper than translating.
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_COPY_ESCAPES)
    return value


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

    def __init__(self, engine: Engine, *, bulk: bool = False, progress: bool = True) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self.bulk, self.progress = bulk, progress
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
        return {**state, "dialects": [self.dialect],
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
            with _STAGED_LOCK:
                staged.users -= 1
                last = staged.users <= 0
            if last:
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
        bar = Progress("indexes", len(self.deferred)) if self.progress else None
        for _name, sql in self.deferred:
            cursor.execute(sql)
            self.raw.commit()
            if bar is not None:
                bar.advance(1)
        if bar is not None:
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
    """Keys: dialects (each batch is encoded for every one); scratch (where SQLite rows are
    staged); mac_key (audit history); keyring_path and bi_key (subjects)."""
    _WORKER.update(state)
    if "keyring_path" in state:
        _WORKER["keyring"] = LocalKeyring(Path(state["keyring_path"]))


SUBJECT_TABLES = ("subjects", "case_members", "consents", "case_plans", "plan_entries")
AUDIT_TABLES = ("audit_events", "audit_tree_nodes")

Shipped = dict[str, Batch]  # dialect -> the same rows, encoded for it


def _ship(tables: list[tuple[str, list[dict[str, Any]]]]) -> Shipped:
    """What goes back to the parent, for each dialect the pool serves: COPY text on PostgreSQL,
    a staged file on SQLite (when the pool was given a scratch directory), else the rows."""
    out: Shipped = {}
    for dialect in _WORKER["dialects"]:
        if dialect == "postgresql":
            out[dialect] = copy_tables(tables)
            continue
        encoded = encode(tables, dialect)
        scratch = _WORKER.get("scratch")
        out[dialect] = encoded if scratch is None else stage(encoded, scratch)
    return out


def _subject_job(spec: dataset.BatchSpec) -> tuple[Shipped, list[dict[str, Any]]]:
    batch = dataset.subject_batch(spec, _WORKER["keyring"], _WORKER["bi_key"])
    return _ship([(t, batch[t]) for t in SUBJECT_TABLES]), batch["samples"]


AuditSpan = tuple[int, int, int, dataset.Sizes, datetime, int]  # first, count, total, ...


def _audit_job(span: AuditSpan) -> tuple[Shipped, list[bytes], datetime]:
    """One batch of past events as the sequencer left them, and their leaf hashes in order."""
    rows = sealed_log.sealed_events(*span, _WORKER["mac_key"])
    return (_ship([("audit_events", rows)]), [row["leaf_hash"] for row in rows],
            rows[-1]["occurred_at"])


def _job(job: tuple[str, Any]) -> Any:
    kind, arg = job
    return _subject_job(arg) if kind == "subjects" else _audit_job(arg)


def load_history(pool: Pool, inserter: Inserter, signer: AuditSigner, sizes: dataset.Sizes,
                 now: datetime, seed: int, *, every: int = CHECKPOINT_EVERY) -> float:
    """The sealed audit history (sizes.audit_events events at log positions 0 on, their tree
    nodes and a signed checkpoint every `every` events), generated and MACed in the pool (set up
    by `init_worker` with `inserter.worker_state(mac_key=...)`). Returns the seconds it took."""
    tree = sealed_log.TreeBuilder(signer, sizes.audit_events, every)
    bar = Progress("audit events", sizes.audit_events)
    for shipped, leaves, last_time in pool.imap(_audit_job, _audit_spans(sizes, now, seed)):
        inserter.insert(shipped[inserter.dialect])
        tree.add(leaves, last_time)
        inserter.insert(encode([("audit_tree_nodes", tree.take_nodes())], inserter.dialect))
        bar.advance(len(leaves))
    inserter.insert(encode([("audit_tree_nodes", tree.take_nodes(0)),
                            ("audit_checkpoints", tree.take_checkpoints())], inserter.dialect))
    return bar.close()


def _audit_spans(sizes: dataset.Sizes, now: datetime, seed: int) -> list[AuditSpan]:
    return [(first, count, sizes.audit_events, sizes, now, seed)
            for first, count in _chunks(sizes.audit_events, AUDIT_BATCH)]


def _chunks(total: int, size: int) -> Iterator[tuple[int, int]]:
    for first in range(0, total, size):
        yield first, min(size, total - first)


def subject_chunks(ends: Iterable[int], size: int = SUBJECT_BATCH) -> list[tuple[int, int]]:
    """(first, count) batches of subjects 0..max(ends)-1 that never straddle one of `ends`, so
    a database of fewer subjects takes whole batches (the first ones)."""
    out: list[tuple[int, int]] = []
    first = 0
    for end in sorted(set(ends)):
        out.extend((first + f, c) for f, c in _chunks(end - first, size))
        first = end
    return out


@dataclass(frozen=True)
class Target:
    """One database to load: its work directory (rule files, keys, manifest), its URL, and the
    scale of the issue's full data set."""

    workdir: Workdir
    database_url: str
    scale: float


class _Ticket:
    """A generated batch on its way into `users` databases: its place in the pipeline (and its
    memory) is freed once the last of them has written it."""

    def __init__(self, users: int, slots: threading.Semaphore | None) -> None:
        self.users, self.slots = users, slots
        self._lock = threading.Lock()

    def done(self) -> None:
        with self._lock:
            self.users -= 1
            last = self.users == 0
        if last and self.slots is not None:
            self.slots.release()


class _Sink(threading.Thread):
    """Writes one database's batches in order, on a connection of its own, then builds its
    deferred indexes and statistics. One thread per database, so the databases load at once:
    the rows are made in the worker processes, and SQLite (INSERT ... SELECT) and psycopg (COPY)
    do their work without holding the GIL."""

    def __init__(self, staff: list[dict[str, Any]], failed: threading.Event) -> None:
        super().__init__(daemon=True)
        self.staff, self.failed = staff, failed
        # Batches wait here until the database is set up and the thread started (`begin`).
        self.queue: queue.Queue[tuple[Batch, _Ticket] | None] = queue.Queue()
        self.error: BaseException | None = None
        self.timings: dict[str, float] = {}

    def begin(self, rt: Runtime) -> None:
        self.rt = rt
        self.start()

    def run(self) -> None:
        try:
            inserter = Inserter(self.rt.engine, bulk=True, progress=False)
            inserter.insert(encode([("staff_members", self.staff)], inserter.dialect))
            inserter.defer_indexes(SUBJECT_TABLES + AUDIT_TABLES)
            while (item := self.queue.get()) is not None:
                try:
                    inserter.insert(item[0])
                finally:
                    item[1].done()
            if self.failed.is_set():
                inserter.raw.invalidate()
                if inserter.scratch is not None:
                    shutil.rmtree(inserter.scratch, ignore_errors=True)
                return
            t0 = time.perf_counter()
            inserter.close()  # builds the deferred indexes
            t1 = time.perf_counter()
            finish(self.rt.engine)
            self.timings = {"indexes": t1 - t0, "analyze": time.perf_counter() - t1}
        except BaseException as exc:  # reported by the main thread
            self.error = exc
            self.failed.set()
            while (item := self.queue.get()) is not None:
                item[1].done()
        finally:
            self.rt.engine.dispose()


def finish(engine: Engine) -> None:
    """Statistics for the planner. On PostgreSQL a VACUUM too (autovacuum would otherwise do it
    on every freshly loaded table a minute or so later, in the middle of a measurement) and a
    CHECKPOINT (the load's dirty pages written now rather than by a timed checkpoint during the
    measurements)."""
    if engine.dialect.name != "postgresql":
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
        return
    from psycopg.errors import InsufficientPrivilege
    from sqlalchemy.exc import ProgrammingError

    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM (ANALYZE)"))
        try:
            conn.execute(text("CHECKPOINT"))
        except ProgrammingError as exc:  # not a superuser: the server checkpoints in time
            if not isinstance(exc.orig, InsufficientPrivilege):
                raise


def _form_hash(rt: Runtime) -> str:
    form = rt.forms.get(dataset.FORM_ID, 1)
    assert form is not None, "the generated consent form is missing"
    return form.text_hash("en")


def _prepare(target: Target, sizes: dataset.Sizes, now: datetime,
             keys_from: Path | None) -> Runtime:
    """Rule files, schema and the demo partnership (through the normal code path); the keys
    copied from `keys_from`, so that every database can take the same sealed rows."""
    workdir, url = target.workdir, target.database_url
    dataset.write_rule_files(sizes, workdir.policies, workdir.forms, ROOT)
    if keys_from is not None:
        shutil.copytree(keys_from, workdir.instance, dirs_exist_ok=True)
    migrate.upgrade(url)
    app = create_app({"instance_path": workdir.instance, "database_url": url,
                      "policies_dir": workdir.policies, "forms_dir": workdir.forms})
    rt: Runtime = app.extensions["caseshare"]
    from caseshare.demo import seed as seed_demo

    with rt.session_factory() as s:
        for _line in seed_demo(s, rt):
            pass
        identity.sync_organisations(s, protocols=rt.protocols, now=now)
        s.commit()
    return rt


def load(workdir: Workdir, database_url: str, scale: float, *, jobs: int = 2, seed: int = 1,
         protocols: int | None = None) -> dict[str, Any]:
    return load_many([Target(workdir, database_url, scale)], jobs=jobs, seed=seed,
                     protocols=protocols)[0]


def load_many(targets: list[Target], *, jobs: int = 2, seed: int = 1,
              protocols: int | None = None) -> list[dict[str, Any]]:
    """Load several databases (e.g. SQLite and PostgreSQL, each at full size and 10x smaller)
    from one generation of the data set, all at once: every batch of rows is made, sealed and
    encoded once per dialect in the worker processes and written into each database that holds
    it by that database's thread. The databases share one set of keys (copied from the first
    target's instance directory), so the same sealed fields, wrapped data keys and leaf MACs
    are valid in all of them; a smaller database takes the first batches of subjects, and each
    size of audit history is generated once for the databases of that size. Returns one report
    per target, in order (load_s is the wall time of the whole shared load)."""
    started = time.perf_counter()
    now = dataset.utcnow()
    sizes = [dataset.Sizes.scaled(t.scale, protocols) for t in targets]
    # The first database is set up now (its keys are everyone's); the others while the workers
    # generate the first batches.
    first = _prepare(targets[0], sizes[0], now, None)
    signer = first.audit_signer
    text_hash = _form_hash(first)
    dialect_of = [make_url(t.database_url).get_backend_name() for t in targets]
    staff = [{"id": dataset.staff_id(org), "email": dataset.staff_email(org),
              "name": f"Bench staff {org[-3:]}", "org_id": org, "roles": [dataset.role_of(org)],
              "active": True, "created_at": now, "updated_at": now}
             for org in (dataset.org_id(n) for n in range(sizes[0].organisations))]

    # The pool's work in order: every batch of subjects (for the largest database), then each
    # size of audit history; `routes` says which databases take each result.
    largest = max(sizes, key=lambda s: s.subjects)
    jobs_list: list[tuple[str, Any]] = []
    routes: list[list[int]] = []
    for i, (first_n, count) in enumerate(subject_chunks(s.subjects for s in sizes)):
        jobs_list.append(("subjects", dataset.BatchSpec(i, first_n, count, largest, now,
                                                        text_hash, seed)))
        routes.append([t for t, s in enumerate(sizes) if first_n < s.subjects])
    histories = list(dict.fromkeys(sizes))  # distinct sizes, in order
    trees = [sealed_log.TreeBuilder(signer, h.audit_events, CHECKPOINT_EVERY) for h in histories]
    history_of_job = [-1] * len(jobs_list)  # which history an audit job belongs to
    for h, history in enumerate(histories):
        spans = _audit_spans(history, now, seed)
        jobs_list.extend(("audit", span) for span in spans)
        routes.extend([t for t, s in enumerate(sizes) if s == history] for _ in spans)
        history_of_job.extend(h for _ in spans)

    scratch = tempfile.mkdtemp(prefix="caseshare-load-")
    failed = threading.Event()
    slots = threading.Semaphore(IN_FLIGHT)
    counts = [dict.fromkeys(("subjects", "case_members", "consents", "case_plans",
                             "plan_entries", "audit_events"), 0) for _ in targets]
    samples: list[list[dict[str, Any]]] = [[] for _ in targets]
    every = [sample_stride(s.subjects) for s in sizes]

    def feed() -> Iterator[tuple[str, Any]]:
        """Jobs for the pool, no more than IN_FLIGHT ahead of the slowest database."""
        for job in jobs_list:
            while not slots.acquire(timeout=0.5):
                if failed.is_set():
                    return
            if failed.is_set():
                return
            yield job

    def send(users: list[int], shipped: Shipped, ticket: _Ticket) -> None:
        for batch in shipped.values():
            if isinstance(batch, Staged):
                batch.users = sum(dialect_of[t] == "sqlite" for t in users)
        for t in users:
            sinks[t].queue.put((shipped[dialect_of[t]], ticket))

    def send_rows(users: list[int], tables: list[tuple[str, list[dict[str, Any]]]]) -> None:
        if users and any(rows for _name, rows in tables):
            wanted = {dialect_of[t] for t in users}
            send(users, {d: encode(tables, d) for d in wanted}, _Ticket(len(users), None))

    ctx = multiprocessing.get_context("fork")
    state = {"keyring_path": str(first.settings.keyring_path),
             "bi_key": first.keyring.blind_index_key(), "mac_key": signer.mac_key(),
             "dialects": sorted(set(dialect_of)), "scratch": scratch}
    sinks = [_Sink(staff, failed) for _ in targets]
    try:
        with ctx.Pool(jobs, init_worker, (state,)) as pool:
            results = pool.imap(_job, feed())
            # The threads start after the fork: the workers must not inherit them.
            sinks[0].begin(first)
            for t in range(1, len(targets)):
                rt = _prepare(targets[t], sizes[t], now, targets[0].workdir.instance)
                if _form_hash(rt) != text_hash:
                    raise ValueError("the databases loaded together must share one rule set")
                sinks[t].begin(rt)
            bar = Progress("subjects", largest.subjects)
            subjects_s = audit_started = 0.0
            history_bars: dict[int, Progress] = {}
            for j, result in enumerate(results):
                kind, users = jobs_list[j][0], routes[j]
                if kind == "subjects":
                    shipped, batch_samples = result
                    send(users, shipped, _Ticket(len(users), slots))
                    for t in users:
                        for name, n in row_counts(shipped[dialect_of[t]]).items():
                            counts[t][name] += n
                        samples[t].extend(x for x in batch_samples if x["n"] % every[t] == 0)
                    bar.advance(len(batch_samples))
                    continue
                if not history_bars:
                    subjects_s = bar.close()
                    audit_started = time.perf_counter()
                h = history_of_job[j]
                if h not in history_bars:
                    history_bars[h] = Progress("audit events", histories[h].audit_events)
                shipped, leaves, last_time = result
                send(users, shipped, _Ticket(len(users), slots))
                trees[h].add(leaves, last_time)
                send_rows(users, [("audit_tree_nodes", trees[h].take_nodes())])
                for t in users:
                    counts[t]["audit_events"] += len(leaves)
                history_bars[h].advance(len(leaves))
                if history_bars[h].done == histories[h].audit_events:
                    history_bars[h].close()
                    send_rows(users, [("audit_tree_nodes", trees[h].take_nodes(0)),
                                      ("audit_checkpoints", trees[h].take_checkpoints())])
            audit_s = time.perf_counter() - audit_started
        generated = time.perf_counter()
    except BaseException:
        failed.set()  # the databases' threads stop without finishing
        raise
    finally:
        started_sinks = [sink for sink in sinks if sink.ident is not None]
        for sink in started_sinks:
            sink.queue.put(None)
        for sink in started_sinks:
            sink.join()
        if failed.is_set():
            shutil.rmtree(scratch, ignore_errors=True)
    try:
        errors = [sink.error for sink in sinks if sink.error is not None]
        if errors:
            raise RuntimeError("loading a database failed") from errors[0]
        written = time.perf_counter()
        # Written to disk now, not by the kernel's writeback during the measurements.
        os.sync()
        sync_s = time.perf_counter() - written
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    load_s = time.perf_counter() - started
    reports = []
    for t, target in enumerate(targets):
        report = {
            "sizes": asdict(sizes[t]), "counts": counts[t], "scale": target.scale,
            "seed": seed, "database_url": target.database_url, "loaded_at": now.isoformat(),
            "load_s": round(load_s, 2), "load_databases": len(targets),
            "load_subjects_s": round(subjects_s, 2), "load_audit_s": round(audit_s, 2),
            "load_write_wait_s": round(written - generated, 2),
            "load_indexes_s": round(sinks[t].timings["indexes"], 2),
            "analyze_s": round(sinks[t].timings["analyze"], 2),
            "load_sync_s": round(sync_s, 2),
            "staff": {dataset.org_id(n): dataset.staff_email(dataset.org_id(n))
                      for n in range(sizes[t].organisations)},
            "samples": samples[t],
        }
        target.workdir.manifest.write_text(json.dumps(report))
        reports.append(report)
    return reports


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
