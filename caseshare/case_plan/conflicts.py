"""Lost write races become a ConflictError (409), whichever way the engine reports them."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from caseshare.errors import ConflictError


def flush_or_conflict(session: Session, conflict: Callable[[], ConflictError], *,
                      unique: bool = False) -> None:
    """Flush; if another session won the race, roll back and raise `conflict()`.

    - StaleDataError: a versioned UPDATE matched no row (the version moved on; PostgreSQL, or
      SQLite when the other writer committed before this transaction read).
    - OperationalError "database is locked" on SQLite: a transaction that read before another
      writer committed may not write (WAL snapshot isolation); nothing was written.
    - IntegrityError, when `unique` is set: a concurrent insert took the unique key first.
    """
    try:
        session.flush()
    except StaleDataError as exc:
        session.rollback()
        raise conflict() from exc
    except IntegrityError as exc:
        if not unique:
            raise
        session.rollback()
        raise conflict() from exc
    except OperationalError as exc:
        if "database is locked" not in str(exc.orig):
            raise
        session.rollback()
        raise conflict() from exc
