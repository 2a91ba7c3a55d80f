"""Online backup of the embedded SQLite database (the SQLite backup API copies a consistent
snapshot while the service keeps serving). PostgreSQL is backed up with its own tools; see
docs/backup.md."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupError(Exception):
    pass


def sqlite_path(database_url: str) -> Path:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise BackupError("online backup here is for the embedded SQLite database; "
                          "back up PostgreSQL with pg_dump (docs/backup.md)")
    return Path(url.database)


def backup_sqlite(database_url: str, target: Path) -> int:
    """Copy a consistent snapshot to `target` (0600). Returns the number of pages copied."""
    source_path = sqlite_path(database_url)
    if target.exists():
        raise BackupError(f"{target} exists; choose a new file")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    pages = 0

    def progress(_status: int, remaining: int, total: int) -> None:
        nonlocal pages
        pages = total

    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
    dest = sqlite3.connect(target)
    try:
        with dest:
            source.backup(dest, pages=1024, progress=progress)
        check = dest.execute("PRAGMA integrity_check").fetchone()
        if not check or check[0] != "ok":
            raise BackupError("the backup failed its integrity check")
    finally:
        dest.close()
        source.close()
    return pages
