"""UTCDateTime reads the same aware UTC datetimes on SQLite by its fast path as by SQLAlchemy's
own parser, and anything not in the stored form still takes the general path."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Column, MetaData, Table, create_engine, insert, select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.types import TypeDecorator

from caseshare.db import UTCDateTime

DIALECT = sqlite.dialect()
TYPE = UTCDateTime().dialect_impl(DIALECT)  # as SQLAlchemy resolves it for SQLite
FAST = TYPE.result_processor(DIALECT, None)


def _general(value: str) -> datetime | None:
    # SQLAlchemy's own path: the impl's SQLite parser, then process_result_value.
    process = TypeDecorator.result_processor(TYPE, DIALECT, None)
    assert process is not None
    result: datetime | None = process(value)
    return result


@given(st.datetimes())  # naive, as SQLite stores them
def test_the_stored_form_reads_as_sqlalchemy_reads_it(value: datetime) -> None:
    stored = value.isoformat(sep=" ", timespec="microseconds")  # SQLAlchemy's storage format
    got = FAST(stored)
    assert got == _general(stored) == value.replace(tzinfo=UTC)
    assert got.tzinfo is UTC


def test_other_forms_take_the_general_path() -> None:
    assert FAST(None) is None
    assert FAST("2026-01-27 12:21:14") == datetime(2026, 1, 27, 12, 21, 14, tzinfo=UTC)


def test_round_trip_through_sqlite() -> None:
    engine = create_engine("sqlite://")
    table = Table("t", MetaData(), Column("at", UTCDateTime()))
    table.create(engine)
    value = datetime(2026, 11, 23, 13, 30, 1, 250, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(insert(table), [{"at": value}])
        conn.execute(text("INSERT INTO t (at) VALUES ('2026-11-23 13:30:01')"))
        assert conn.scalars(select(table.c.at)).all() == [
            value, datetime(2026, 11, 23, 13, 30, 1, tzinfo=UTC)]
