"""Declarative base, shared column types, engine and session factory.

Domain packages import only the SQLAlchemy parts of this module; the per-request session lives in
`caseshare.request_db` so that nothing here depends on Flask.
"""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Annotated, Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Engine,
    MetaData,
    String,
    TypeDecorator,
    create_engine,
    event,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect, Row
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, mapped_column, sessionmaker
from sqlalchemy.pool import StaticPool
from sqlalchemy.sql.expression import Executable

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every engine (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        """On SQLite, a value in the exact form SQLAlchemy stores ('YYYY-MM-DD HH:MM:SS.ffffff',
        naive UTC) is parsed by `datetime.fromisoformat` (C), UTC offset included, instead of
        SQLAlchemy's parser, `process_result_value` and `replace(tzinfo=...)`, with the same
        result (`timezone.utc`): every timestamp a read loads comes through here
        (docs/performance.md). Anything else takes the general path."""
        general = super().result_processor(dialect, coltype)
        if dialect.name != "sqlite" or general is None:
            return general

        def process(value: Any) -> datetime | None:
            if type(value) is str and len(value) == 26 and value[10] == " " and value[19] == ".":
                return datetime.fromisoformat(value + "+00:00")
            result: datetime | None = general(value)
            return result

        return process


JSONType = JSON().with_variant(JSONB(), "postgresql")

uuid_pk = Annotated[uuid.UUID, mapped_column(primary_key=True, default=uuid.uuid4)]
utc_ts = Annotated[datetime, mapped_column(UTCDateTime())]
org_id = Annotated[str, mapped_column(String(64))]
code = Annotated[str, mapped_column(String(64))]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 (SQLAlchemy reads it as a class attribute)
        datetime: UTCDateTime(),
        date: Date(),
        dict[str, Any]: JSONType,
        list[str]: JSONType,
        list[dict[str, Any]]: JSONType,
    }


def make_engine(url: str, *, read_only: bool = False, synchronous: str = "FULL") -> Engine:
    """An engine for `url`. `read_only` engines (verification workers) never take SQLite's
    write lock, so they can read alongside the writer in WAL mode."""
    if url.startswith("sqlite"):
        if url in ("sqlite://", "sqlite:///:memory:"):
            engine = create_engine(
                url, connect_args={"check_same_thread": False}, poolclass=StaticPool
            )
        else:
            engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", functools.partial(_sqlite_pragmas,
                                                          synchronous=synchronous))
        # pysqlite's own transaction handling defers BEGIN; emit it ourselves so that reads and
        # writes in one unit of work see one snapshot and SERIALIZABLE semantics hold.
        event.listen(engine, "begin", _sqlite_begin_deferred if read_only else _sqlite_begin)
        return engine
    engine = create_engine(url, pool_size=10, max_overflow=10)
    event.listen(engine, "checkin", _stamp_checkin)
    event.listen(engine, "checkout", functools.partial(_ping_if_idle, engine.dialect))
    return engine


# A pooled PostgreSQL connection is checked with a round trip before use only when it has been
# idle this long. `pool_pre_ping` checks it on every checkout: one extra round trip per request
# (its cost: docs/performance.md). A connection used moments ago is alive unless
# the server went away in that moment; then the request's first statement fails, the request
# fails closed (503, nothing disclosed) and SQLAlchemy, seeing a disconnect, discards every
# pooled connection, so the next request connects afresh.
PING_AFTER_IDLE_S = 1.0


def _stamp_checkin(_dbapi_connection: Any, record: Any) -> None:
    record.info["checked_in_at"] = time.monotonic()


def _ping_if_idle(dialect: Dialect, dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    checked_in_at = record.info.get("checked_in_at")
    if checked_in_at is None or time.monotonic() - checked_in_at < PING_AFTER_IDLE_S:
        return  # new, or in use moments ago
    try:
        dialect.do_ping(dbapi_connection)  # the same ping pool_pre_ping sends
        dbapi_connection.rollback()  # leave no transaction open, as the pool hands it over
    except Exception as exc:  # whatever the driver raises for a dead connection
        # The pool discards this connection and checks out another (SQLAlchemy's documented
        # contract for DisconnectionError raised by a checkout listener).
        raise DisconnectionError("idle connection failed its ping") from exc


def _sqlite_pragmas(dbapi_connection: Any, _record: Any, *, synchronous: str) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    if synchronous not in ("FULL", "EXTRA", "NORMAL"):  # it goes into the statement text
        raise ValueError(synchronous)
    cursor.execute(f"PRAGMA synchronous={synchronous}")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    # IMMEDIATE: take the write lock at the start. Nearly every unit of work writes (each read
    # writes its audit event), and a deferred transaction that read first cannot upgrade to a
    # writer once another connection has committed (SQLITE_BUSY at once, busy_timeout does not
    # apply), so concurrent audited reads failed closed under gunicorn with 2 workers.
    # A read snapshot (`begin_snapshot`) writes nothing, so it needs no lock.
    if connection.get_execution_options().get(_SNAPSHOT):
        _sqlite_begin_deferred(connection)
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


_SNAPSHOT = "caseshare_snapshot"


def begin_snapshot(session: Session) -> bool:
    """Begin `session`'s transaction as a read snapshot that takes no write lock, where that
    applies: SQLite, and no transaction already under way. The caller must write nothing in it
    (a snapshot that writes fails as soon as another connection has committed). On PostgreSQL
    reads take no lock anyway, so nothing is done there."""
    if session.in_transaction() or session.get_bind().dialect.name != "sqlite":
        return False
    session.connection(execution_options={_SNAPSHOT: True})
    return True


def rows(session: Session, statement: Executable,
         params: Mapping[str, Any]) -> Sequence[Row[*tuple[Any, ...]]]:
    """The rows of a Core SELECT of columns, run on the session's own connection in its
    transaction, after pending ORM changes are flushed as `Session.execute` would flush them.
    For the statements every request runs: `Connection.execute` skips the ORM's per-statement
    execution step, which a column SELECT does not need (docs/performance.md)."""
    if session.autoflush:
        session.flush()  # nothing to do when nothing is pending
    return session.connection().execute(statement, params).all()


def write_after_snapshot(session: Session, statement: Executable,
                         values: Sequence[Mapping[str, Any]]) -> None:
    """End the read snapshot `begin_snapshot` began, then run `statement` over `values` in a
    short BEGIN IMMEDIATE transaction of its own, committed (flushed to the disk) before this
    returns. All on the session's own connection: SQLAlchemy's transaction on it stays open
    meanwhile, so the caller's `session.commit()` finds nothing left to commit (pysqlite, which
    `make_engine` leaves to us for BEGIN, commits nothing outside a transaction), and
    `session.rollback()` ends a write that failed half way."""
    if not values:
        return
    connection = session.connection()
    connection.exec_driver_sql("COMMIT")
    connection.exec_driver_sql("BEGIN IMMEDIATE")
    connection.execute(statement, list(values))
    connection.exec_driver_sql("COMMIT")


def _sqlite_begin_deferred(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN")


def make_session_factory(engine: Engine,
                         info: Mapping[str, Any] | None = None) -> sessionmaker[Session]:
    """Sessions on `engine`; each starts with a copy of `info` (the app passes the audit event
    MAC key there, audit/service.py)."""
    return sessionmaker(bind=engine, expire_on_commit=False, info=dict(info or {}))
