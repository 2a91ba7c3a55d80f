"""Table: one row per run of a scheduled job (which job, which worker, when, how it ended and
what it counted). Written in the job's own unit of work, so a run killed midway leaves no row
and its work is done again by the next run, never half-recorded."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from caseshare.db import Base, uuid_pk


class JobRun(Base):
    __tablename__ = "job_runs"
    __table_args__ = (Index("ix_job_runs_job_started", "job", "started_at"),)

    id: Mapped[uuid_pk]
    job: Mapped[str] = mapped_column(String(64))
    worker: Mapped[str] = mapped_column(String(64))  # host:pid of the worker process
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime]
    outcome: Mapped[str] = mapped_column(String(16))  # done | failed | skipped (lock held)
    counts: Mapped[dict[str, Any]]


class JobLock(Base):
    """Table: who holds a job's lock on SQLite (caseshare/jobs/runner.py). Claimed in a write
    transaction (SQLite's write lock serialises the claimants), cleared when the run ends; a
    holder whose process is gone (same host) or whose lease ran out counts as free, so a
    worker killed midway never blocks its job. PostgreSQL uses an advisory lock instead and
    leaves this table empty."""

    __tablename__ = "job_locks"

    job: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(128))  # host:pid:runner, None: free
    taken_at: Mapped[datetime | None]
    lease_until: Mapped[datetime | None]
