"""The unit of work commits once on success, rolls back on an exception, and commits only the
writes kept for a refusal (its audit event) when the block raises. Real SQLite, no app."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import (
    Column,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    insert,
    select,
)
from sqlalchemy.orm import Session

from caseshare.errors import AuditWriteError, NotFoundError
from caseshare.unit_of_work import UnitOfWork, Write

metadata = MetaData()
rows = Table("rows", metadata, Column("id", Integer, primary_key=True),
             Column("kind", String, nullable=False))
links = Table("links", metadata, Column("id", Integer, primary_key=True),
              Column("row_id", Integer, ForeignKey("rows.id", deferrable=True,
                                                   initially="DEFERRED")))


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    engine = create_engine(f"sqlite:///{tmp_path / 'uow.db'}")
    event.listen(engine, "connect",
                 lambda conn, _record: conn.execute("PRAGMA foreign_keys=ON"))
    metadata.create_all(engine)
    with Session(engine) as s:
        yield s
    engine.dispose()


def kinds(s: Session) -> list[str]:
    s.rollback()  # read what is committed, in a fresh transaction
    return list(s.scalars(select(rows.c.kind).order_by(rows.c.id)))


def write(kind: str) -> Write:
    return lambda s: s.execute(insert(rows).values(kind=kind))


def test_a_block_that_ends_normally_is_committed_once(session: Session) -> None:
    with UnitOfWork(session) as uow:
        write("data")(session)
        uow.keep_if_raised(write("refusal"))  # not raised: nothing kept beyond the block
    assert kinds(session) == ["data"]


def test_a_refusal_commits_exactly_its_kept_write_and_is_raised_again(session: Session) -> None:
    with pytest.raises(NotFoundError), UnitOfWork(session) as uow:
        write("data")(session)
        uow.keep_if_raised(write("refusal"))
        raise NotFoundError("No such claimant.")
    assert kinds(session) == ["refusal"]


def test_kept_writes_are_written_in_the_order_given(session: Session) -> None:
    with pytest.raises(NotFoundError), UnitOfWork(session) as uow:
        uow.keep_if_raised(write("suspension"))
        uow.keep_if_raised(write("refusal"))
        raise NotFoundError()
    assert kinds(session) == ["suspension", "refusal"]


def test_an_error_without_a_kept_write_leaves_nothing(session: Session) -> None:
    with pytest.raises(ValueError), UnitOfWork(session):
        write("data")(session)
        raise ValueError("not a refusal")
    assert kinds(session) == []


def test_a_kept_write_that_cannot_be_recorded_is_a_503_and_discloses_nothing(
    session: Session
) -> None:
    def broken(s: Session) -> object:
        return s.execute(insert(rows).values(kind=None))  # NOT NULL: the write fails

    with pytest.raises(AuditWriteError), UnitOfWork(session) as uow:
        write("data")(session)
        uow.keep_if_raised(broken)
        raise NotFoundError()
    assert kinds(session) == []


def test_a_commit_that_fails_is_a_503_and_rolls_back(session: Session) -> None:
    # A deferred foreign key is checked at COMMIT: the block's writes succeed, the commit fails.
    with pytest.raises(AuditWriteError), UnitOfWork(session):
        write("data")(session)
        session.execute(insert(links).values(row_id=999))
    assert kinds(session) == []
