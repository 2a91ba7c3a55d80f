"""A worker process for tests/integration/jobs/test_runner.py: runs the test job `partial`,
which writes part of its work in a unit of work it never commits, prints `blocked` and waits
to be killed. Usage: python -m tests.integration.jobs.blocking_job DATABASE_URL INSTANCE_PATH
NOW_ISO (the test app's instance path: its audit event key)."""

from __future__ import annotations

import sys
import time
from datetime import datetime

from sqlalchemy.orm import Session

from caseshare import create_app
from caseshare.jobs.runner import Job, Runner
from tests.integration.jobs.partial_work import JOB_NAME, TRIGGER, write_part


def blocking(session_factory: object, now: datetime) -> dict[str, int]:
    factory = session_factory
    assert callable(factory)
    with factory() as s:
        assert isinstance(s, Session)
        write_part(s, now)
        s.flush()  # written, not committed
        print("blocked", flush=True)
        time.sleep(600)
    return {}


def main() -> None:
    url, instance, now = sys.argv[1], sys.argv[2], datetime.fromisoformat(sys.argv[3])
    app = create_app({"instance_path": instance, "database_url": url, "clock": lambda: now})
    runtime = app.extensions["caseshare"]
    runner = Runner(session_factory=runtime.session_factory, clock=lambda: now,
                    jobs=[Job(JOB_NAME, TRIGGER, blocking)])
    runner.run_all(now)


if __name__ == "__main__":
    main()
