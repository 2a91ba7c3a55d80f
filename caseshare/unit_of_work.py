"""The unit of work: the one place a transaction is committed (cosmicpython's pattern).

A use case takes a session and never commits; whoever called it (a request's access context, a
CLI command, the worker) runs it inside `with UnitOfWork(session) as uow:`. The block's writes
are committed together when it ends normally and rolled back when it raises. A refusal is the
exception: its audit event must be committed although the block raises, so the use case hands
that write to `keep_if_raised`; after the rollback it alone is written and committed, then the
refusal is re-raised. If the commit fails, nothing is disclosed: `AuditWriteError` (503).
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import NoReturn, Self

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from caseshare.errors import AuditWriteError

Write = Callable[[Session], object]


class UnitOfWork:
    """One transaction on `session`, committed once (see the module's docstring)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._kept: list[Write] = []

    def keep_if_raised(self, write: Write) -> None:
        """Commit `write` (a refusal's audit event) even if the block ends by raising. The kept
        writes run in the order given, after the rollback, in one transaction of their own."""
        self._kept.append(write)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is None:
            self._kept = []
            self.commit()
            return
        self.rollback()
        kept, self._kept = self._kept, []
        if kept:
            try:
                for write in kept:
                    write(self.session)
            except SQLAlchemyError as failed:
                self._not_recorded(failed)
            self.commit()

    def write_pending(self) -> None:
        """Write what was held back until the commit: nothing here. A request context reading
        from a snapshot holds its audit events until then (access/context.py)."""

    def commit(self) -> None:
        """Commit what the block wrote; if that fails, roll back and refuse (503)."""
        try:
            self.write_pending()
            self.session.commit()
        except SQLAlchemyError as exc:
            self._not_recorded(exc)

    def rollback(self) -> None:
        """Undo what the block wrote (and anything held back for the commit)."""
        self.session.rollback()

    def _not_recorded(self, exc: SQLAlchemyError) -> NoReturn:
        self.session.rollback()
        raise AuditWriteError("The action could not be recorded, so it was not done.") from exc
