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
