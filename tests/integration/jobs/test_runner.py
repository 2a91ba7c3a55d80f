"""The worker's job runner (caseshare/jobs/runner.py) on both engines: two runners at once run
each job once per due time; a worker killed midway leaves no half-done work and the next run
does it once; staff reminders are raised once (twice run, two runners) and reach the mail
server without personal data."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from caseshare.cases.models import Case
from caseshare.consent.models import Consent
from caseshare.identity.models import StaffMember
from caseshare.jobs.models import JobRun
from caseshare.jobs.runner import Every, Job, Runner
from caseshare.jobs.worker import Worker
from caseshare.notifications.models import Notification
from caseshare.outbound.mail_sink import MailSink
from caseshare.outbound.smtp import SmtpChannel
from caseshare.runtime import Runtime
from tests.audit_helpers import events
from tests.conftest import COACH, ROOT, Clock, Demo
from tests.integration.jobs import partial_work

NINO = re.compile(r"\b[A-Z]{2}\d{6}[A-D]\b")


def _worker(rt: Runtime, clock: Clock, channel: SmtpChannel | None = None) -> Worker:
    return Worker(session_factory=rt.session_factory, signer=rt.audit_signer, clock=clock,
                  protocols=rt.protocols, keyring=rt.keyring, staff_channel=channel)


def _runs(rt: Runtime, job: str) -> list[JobRun]:
    with rt.session_factory() as s:
        return list(s.scalars(select(JobRun).where(JobRun.job == job)
                              .order_by(JobRun.started_at)))


def _at_once(runners: list[Callable[[], Any]]) -> list[Any]:
    """Start the calls together on their own threads; their results."""
    barrier = threading.Barrier(len(runners))
    results: list[Any] = [None] * len(runners)

    def go(i: int) -> None:
        barrier.wait()
        results[i] = runners[i]()

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(runners))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    return results


def test_two_runners_at_once_run_each_job_once_per_due_time(
    rt: Runtime, demo: Demo, clock: Clock
) -> None:
    work: list[str] = []

    def counted(_sf: Any, now: datetime) -> dict[str, int]:
        work.append(now.isoformat())
        time.sleep(0.05)  # held a moment, so the other runner meets the lock
        return {"done": 1}

    jobs = [Job("counted", Every(3600), counted), *_worker(rt, clock).jobs()]
    first, second = (Runner(session_factory=rt.session_factory, clock=clock, jobs=jobs)
                     for _ in range(2))
    outcomes = _at_once([first.run_all, second.run_all])
    for job in jobs:
        if not job.recorded:
            continue
        assert sorted([outcomes[0][job.name], outcomes[1][job.name]])[0] == "done", job.name
        assert {outcomes[0][job.name], outcomes[1][job.name]} - {"done"} <= {
            "skipped", "not_due"}, (job.name, outcomes)
        assert [r.outcome for r in _runs(rt, job.name)] == ["done"], job.name
    assert len(work) == 1
    [audited] = [e for e in events(rt, type="operations:job:run")
                 if e.details["job"] == "counted"]
    assert audited.details == {"job": "counted", "counts": {"done": 1}, "outcome": "done"}

    # The next due time runs it again, once; until then, no runner does.
    assert first.run_job(jobs[0]) == "not_due"
    clock.advance(hours=1)
    assert _at_once([lambda: first.run_job(jobs[0]), lambda: second.run_job(jobs[0])]) \
        .count("done") == 1
    assert len(work) == 2 and len(_runs(rt, "counted")) == 2


def test_a_failed_run_is_recorded_audited_by_its_kind_and_retried(
    rt: Runtime, demo: Demo, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[int] = []

    def flaky(_sf: Any, _now: datetime) -> dict[str, int]:
        calls.append(1)
        if len(calls) == 1:
            raise ValueError("claimant QQ123456C")  # personal data in the text: never shown
        return {"done": 0}

    job = Job("flaky", Every(3600), flaky)
    runner = Runner(session_factory=rt.session_factory, clock=clock, jobs=[job])
    assert runner.run_job(job) == "failed"
    assert runner.run_job(job) == "done"  # a failed run does not count as the due time's
    assert [(r.outcome, r.counts) for r in _runs(rt, "flaky")] == [
        ("failed", {"error": "ValueError"}), ("done", {"done": 0})]
    [audited] = [e for e in events(rt, type="operations:job:run")
                 if e.details["job"] == "flaky"]  # the quiet run is not audited
    assert audited.details == {"job": "flaky", "counts": {}, "outcome": "failed",
                               "error": "ValueError"}
    assert "flaky: failed (ValueError)" in caplog.text and "QQ123456C" not in caplog.text


def _count_partial(rt: Runtime) -> int:
    with rt.session_factory() as s:
        return int(s.scalar(select(func.count()).select_from(Notification).where(
            Notification.once_key.in_(partial_work.KEYS))) or 0)


def test_a_worker_killed_midway_leaves_no_half_done_work_and_the_next_run_does_it_once(
    rt: Runtime, demo: Demo, clock: Clock
) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.integration.jobs.blocking_job",
         str(rt.settings.database_url), str(rt.settings.instance_path),
         clock.now.isoformat()],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "blocked"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    assert _count_partial(rt) == 0 and _runs(rt, "partial") == []

    job = Job(partial_work.JOB_NAME, partial_work.TRIGGER, partial_work.complete)
    runner = Runner(session_factory=rt.session_factory, clock=clock, jobs=[job])
    deadline = time.time() + 30
    outcome = runner.run_job(job)
    # PostgreSQL frees the dead session's lock once it sees the connection closed.
    while outcome == "skipped" and time.time() < deadline:
        time.sleep(0.1)
        outcome = runner.run_job(job)
    assert outcome == "done"
    assert runner.run_job(job) == "not_due"
    assert _count_partial(rt) == len(partial_work.KEYS)
    assert [(r.outcome, r.counts) for r in _runs(rt, "partial")] == [("done", {"written": 3})]


def _staff_id(session: Session, email: str) -> uuid.UUID:
    staff = session.scalar(select(StaffMember).where(StaffMember.email == email))
    assert staff is not None
    return staff.id


def test_consent_expiring_is_raised_once_to_the_lead_worker_and_emailed_without_personal_data(
    rt: Runtime, demo: Demo, clock: Clock, smtp_sink: MailSink, smtp_channel: SmtpChannel
) -> None:
    with rt.session_factory() as s:
        sam = _staff_id(s, COACH)
        ends = min(s.scalars(select(Consent.expires_at).where(
            Consent.subject_id == demo.lee, Consent.decision == "granted")))
        case = s.get(Case, demo.lee) or Case(subject_id=demo.lee)  # the demo may open it
        case.lead_worker_id, case.updated_at = sam, clock.now
        s.add(case)
        s.commit()
    clock.now = ends - timedelta(days=6)

    worker = _worker(rt, clock, smtp_channel)
    [job] = [j for j in worker.jobs() if j.name == "consent_expiring"]
    runners = [Runner(session_factory=rt.session_factory, clock=clock, jobs=[job])
               for _ in range(2)]
    _at_once([lambda: runners[0].run_job(job), lambda: runners[1].run_job(job)])
    clock.advance(hours=1, seconds=1)  # the next due time: it runs, and raises nothing new
    assert runners[0].run_job(job) == "done"

    with rt.session_factory() as s:
        notes = list(s.scalars(select(Notification).where(
            Notification.type == "consent_expiring")))
    keys = [n.once_key for n in notes]
    assert keys and len(keys) == len(set(keys))
    lee = [n for n in notes if n.subject_id == demo.lee]
    assert lee and all(n.staff_id == sam and n.details["threshold_days"] == 7 for n in lee)
    assert {n.once_key for n in lee} == {f"consent-expiring:{n.consent_id}:7" for n in lee}
    runs = _runs(rt, "consent_expiring")
    assert [r.counts["raised"] for r in runs] == [len(notes), 0]
    assert runs[0].counts["emailed"] >= len(lee) and runs[0].counts["email_failed"] == 0

    mails = smtp_sink.received
    assert len(mails) == runs[0].counts["emailed"]
    to_sam = [m for m in mails if m.rcpt_tos == (COACH,)]
    assert len(to_sam) == len(lee)
    for mail in mails:
        text = mail.message.as_string()
        assert "/notifications" in mail.body and "consent-expiring:" in mail.body
        assert not NINO.search(text)
        for word in ("Lee", "Marsh", "Kerry", "Dunn", "Rhian", "Price"):
            assert word not in text

    # A second round at the same time changes nothing (and sends nothing).
    assert runners[1].run_job(job) == "not_due"
    assert len(smtp_sink.received) == len(mails)


def test_protocol_reviews_are_raised_once_per_version_threshold_and_party(
    rt: Runtime, demo: Demo, clock: Clock
) -> None:
    worker = _worker(rt, clock)
    [job] = [j for j in worker.jobs() if j.name == "protocol_review"]
    runner = Runner(session_factory=rt.session_factory, clock=clock, jobs=[job])
    clock.now = datetime(2026, 12, 5, 9, 0, tzinfo=clock.now.tzinfo)
    assert runner.run_job(job) == "done"
    clock.advance(days=1)
    assert runner.run_job(job) == "done"
    with rt.session_factory() as s:
        notes = list(s.scalars(select(Notification).where(
            Notification.type == "protocol_review_due")))
    soon = {p.ref: p for p in rt.protocols.protocols
            if p.in_force(clock.now.date())
            and clock.now.date() >= p.review_date - timedelta(days=30)}
    assert soon, "the demo has a protocol due for review in December 2026"
    assert sorted(n.once_key or "" for n in notes) == sorted(
        f"protocol-review:{ref}:30:{party.id}" for ref, p in soon.items() for party in p.parties)
    assert all(n.role == "ig_officer" and n.subject_id is None for n in notes)
    assert [r.counts["raised"] for r in _runs(rt, "protocol_review")] == [len(notes), 0]
