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
        """Commit `write` (a refusal's audit event) even if the block ends by raising."""
        self._kept.append(write)

    def __enter__(self) -> UnitOfWork:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is None:
            self.commit()
            return
        self.session.rollback()
        kept, self._kept = self._kept, []
        if kept:
            for write in kept:
                write(self.session)
            self.commit()

    def commit(self) -> None:
        """Commit what the block wrote; if that fails, roll back and refuse (503)."""
        try:
            self.session.commit()
        except SQLAlchemyError as exc:
            self.session.rollback()
            raise AuditWriteError("The action could not be recorded, so it was not done.") from exc
