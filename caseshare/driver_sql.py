"""The few statements every audited read runs, straight on the driver's cursor.

Through `Session.execute` a SELECT pays for SQLAlchemy's machinery on every call (ORM compile
state, cache key, execution context, result metadata, row objects): about 30 to 60 microseconds
of Python per statement beyond the driver's own work and the type conversion of the results. A
`DriverSelect` is compiled once per dialect into its SQL text, its parameter order and the bind
and result processors SQLAlchemy itself would apply, so the rows come back with the same Python
types on every engine (UUIDs, timezone-aware UTC datetimes, dates, booleans, JSON).

It runs on the session's own connection, in the session's transaction (begun as usual, BEGIN
IMMEDIATE on SQLite), after pending ORM changes are flushed as `Session.execute` would, and a
driver error goes through SQLAlchemy's own handling: it is raised as `sqlalchemy.exc.DBAPIError`
(so the request fails closed with 503 as before) and a lost connection is invalidated. Only
plain SELECTs of columns belong here; `before_cursor_execute` and other execution events do not
see these statements.

A `DriverInsert` is the same for an INSERT of one table's columns, run with `executemany`; the
audit events of a read are written with it (`db.write_after_snapshot`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Select, Table, insert
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.types import TypeEngine

Processor = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    positional: bool
    # (name, processor, literal value or None) in the order the driver takes them
    binds: tuple[tuple[str, Processor | None, Any], ...]
    # (column index, processor, whether its values are immutable and may be shared) for each
    # column that needs converting
    convert: tuple[tuple[int, Processor, bool], ...]


class DriverSelect:
    """A column SELECT built once and run on the driver's cursor (see the module's docstring)."""

    def __init__(self, statement: Select[*tuple[Any, ...]]) -> None:
        self.statement = statement
        self._compiled: dict[tuple[str, str], _Compiled] = {}

    def rows(self, session: Session, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        if session.autoflush:
            session.flush()  # cheap when nothing is pending
        connection = session.connection()
        dialect = connection.dialect
        compiled = self._compiled.get((dialect.name, dialect.driver)) or self._compile(dialect)
        raw = run_on_driver(connection, [(compiled.sql, _values(compiled, params), False)])
        if not compiled.convert:
            return [tuple(row) for row in raw]
        return _convert(raw, compiled.convert)

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = self.statement.compile(dialect=dialect)
        positional = bool(compiled.positional)
        binds = _binds(compiled, dialect)
        columns = list(self.statement.selected_columns)
        if len(columns) != len(compiled._result_columns):
            raise TypeError("DriverSelect takes a SELECT of columns only")
        convert = []
        for index, column in enumerate(columns):
            process = column.type._cached_result_processor(dialect, None)
            if process is not None:
                convert.append((index, process, _immutable(column.type)))
        entry = _Compiled(compiled.string, positional, binds, tuple(convert))
        self._compiled[(dialect.name, dialect.driver)] = entry
        return entry


class DriverInsert:
    """An INSERT of `columns` into `table`, built once per dialect like a `DriverSelect` (its
    SQL text and the bind processors SQLAlchemy itself would apply), for `executemany` on the
    driver's cursor (see `run_on_driver`)."""

    def __init__(self, table: Table, columns: Sequence[str]) -> None:
        self.table = table
        self.columns = tuple(columns)
        self._compiled: dict[tuple[str, str], _Compiled] = {}

    def prepared(self, dialect: Dialect,
                 rows: Sequence[Mapping[str, Any]]) -> tuple[str, list[Any]]:
        """The statement's SQL text and each row's parameters, converted for the driver."""
        compiled = self._compiled.get((dialect.name, dialect.driver)) or self._compile(dialect)
        return compiled.sql, [_values(compiled, row) for row in rows]

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = insert(self.table).compile(dialect=dialect, column_keys=list(self.columns))
        entry = _Compiled(compiled.string, bool(compiled.positional), _binds(compiled, dialect),
                          ())
        self._compiled[(dialect.name, dialect.driver)] = entry
        return entry


def run_on_driver(connection: Connection, steps: Sequence[tuple[str, Any, bool]]) -> list[Any]:
    """Run statements in order on the connection's driver cursor, each `(sql, parameters,
    many)`; `many` runs `executemany` over a list of rows' parameters. Returns the rows of the
    last statement (none if it returns none). A driver error goes through SQLAlchemy's own
    handling: it is raised as `sqlalchemy.exc.DBAPIError`, and a lost connection is
    invalidated."""
    cursor = connection.connection.cursor()
    sql, params = "", None
    try:
        for sql, params, many in steps:
            if many:
                cursor.executemany(sql, params)
            else:
                cursor.execute(sql, params)
        return cast(list[Any], cursor.fetchall()) if cursor.description is not None else []
    except Exception as exc:
        connection._handle_dbapi_exception(exc, sql, params, cursor, None)
    finally:
        cursor.close()


def _binds(compiled: SQLCompiler,
           dialect: Dialect) -> tuple[tuple[str, Processor | None, Any], ...]:
    positional = bool(compiled.positional)
    names = list(compiled.positiontup or ()) if positional else list(compiled.binds)
    binds = []
    for name in names:
        bind = compiled.binds[name]
        # A literal in the statement (`decision == "granted"`) is a bind with its value; a
        # named `bindparam` (or an INSERT's column) is taken from the parameters of each call.
        literal = None if bind.required or bind.callable is not None else bind.value
        binds.append((name, bind.type._cached_bind_processor(dialect), literal))
    return tuple(binds)


def _values(compiled: _Compiled, params: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
    given = [(name, process, params[name] if literal is None else literal)
             for name, process, literal in compiled.binds]
    if compiled.positional:
        return tuple(v if p is None else p(v) for _n, p, v in given)
    return {n: v if p is None else p(v) for n, p, v in given}


_IMMUTABLE = (uuid.UUID, datetime, date, str, bytes, int, bool)


def _immutable(type_: TypeEngine[Any]) -> bool:
    try:
        return issubclass(type_.python_type, _IMMUTABLE)
    except NotImplementedError:
        return False


def _convert(raw: Sequence[Sequence[Any]],
             convert: tuple[tuple[int, Processor, bool], ...]) -> list[tuple[Any, ...]]:
    """Apply the result processors column by column. A joined row repeats its parent's values
    (the plan's id on every entry row, often the same timestamps), so an immutable result is
    converted once per distinct value."""
    if not raw:
        return []
    columns: list[Sequence[Any]] = list(zip(*raw, strict=True))
    for index, process, shared in convert:
        values = columns[index]
        if shared:
            converted = {value: process(value) for value in set(values) if value is not None}
            converted[None] = None
            columns[index] = [converted[value] for value in values]
        else:
            columns[index] = [None if value is None else process(value) for value in values]
    return list(zip(*columns, strict=True))
