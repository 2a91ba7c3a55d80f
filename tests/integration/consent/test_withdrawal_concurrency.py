"""Withdrawal takes effect for the very next request of any partner, under concurrent load:
no read that started after the withdrawal committed discloses data under it.

Reader threads, each with its own client (and so its own database connections), read the case
plan in a loop while another client withdraws consent. A read counts as "started after the
commit" if it started after the withdrawal response arrived (the commit precedes the response).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from flask import Flask

from caseshare.runtime import Runtime
from tests.audit_helpers import events
from tests.conftest import COACH, Demo, issue_token

PLAN = "/api/v1/subjects/{}/case-plan?purpose=case_management"
READERS = 4


@dataclass
class Read:
    started: float
    status: int
    disclosed: bool
    request_id: str


def test_no_read_started_after_the_withdrawal_committed_discloses_data_under_it(
    engine: str, app: Flask, rt: Runtime, demo: Demo
) -> None:
    # On SQLite each read decides from a snapshot taken without the write lock and commits its
    # audit event afterwards (RequestContext.read_from_snapshot): the same guarantee must hold.
    headers = {"Authorization": f"Bearer {issue_token(rt, COACH)}"}
    url = PLAN.format(demo.lee)
    stop = threading.Event()
    reads: list[list[Read]] = [[] for _ in range(READERS)]
    failures: list[BaseException] = []

    def reader(log: list[Read]) -> None:
        client = app.test_client()
        try:
            while not stop.is_set():
                started = time.monotonic()
                r = client.get(url, headers=headers)
                body: dict[str, Any] = r.json or {}
                log.append(Read(started, r.status_code, "recovery group" in r.get_data(
                    as_text=True) or any(e.get("category") == "substance_misuse"
                                         for e in body.get("entries", [])),
                    r.headers.get("X-Request-ID", "")))
        except BaseException as exc:  # surfaced in the main thread
            failures.append(exc)

    threads = [threading.Thread(target=reader, args=(log,)) for log in reads]
    for t in threads:
        t.start()
    try:
        _wait(lambda: all(len(log) >= 3 for log in reads))
        writer = app.test_client()
        consent_id = writer.get(f"/api/v1/subjects/{demo.lee}/consents?purpose=case_management",
                                headers=headers).json["items"][0]["id"]
        w = writer.post(f"/api/v1/consents/{consent_id}/withdrawal?purpose=case_management",
                        json={"channel": "phone"}, headers=headers)
        committed = time.monotonic()
        assert w.status_code == 200 and w.json["status"] == "withdrawn"
        _wait(lambda: all(sum(r.started > committed for r in log) >= 3 for log in reads))
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
    assert not failures, failures

    everything = [r for log in reads for r in log]
    assert all(r.status == 200 for r in everything)
    before = [r for r in everything if r.started < committed]
    after = [r for r in everything if r.started > committed]
    assert any(r.disclosed for r in before)  # the test can see a disclosure when there is one
    assert len(after) >= 3 * READERS
    assert not [r for r in after if r.disclosed]
    # And each later read was audited as a denial for the withdrawn consent.
    denied = {e.request_id for e in events(rt, type="case_plan:plan:read", decision="deny")
              if "consent_withdrawn" in e.reasons}
    assert {r.request_id for r in after} <= denied


def _wait(condition: Any, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for concurrent readers"
        time.sleep(0.01)
