"""`seed-demo` tells a story over the past days through the real use cases, so the IG officer's
tools have a realistic log: reads by each agency, a refusal, a probe outside the case, a
referral, a withdrawal and break-glass overrides awaiting review (one overdue); the log seals
and verifies. Both engines."""

from __future__ import annotations

import uuid
from datetime import timedelta

from flask import Flask
from sqlalchemy import select

from caseshare.access import audit_trail
from caseshare.access import overrides as override_cases
from caseshare.audit.unusual import Thresholds
from caseshare.case_plan.models import Referral
from caseshare.demo import _ctx
from caseshare.identity import service as identity
from caseshare.reminders.models import Reminder
from caseshare.runtime import Runtime
from tests.audit_helpers import events
from tests.conftest import IG, Clock


def cli(app: Flask, *args: str) -> str:
    result = app.test_cli_runner().invoke(args=["caseshare", *args])
    assert result.exit_code == 0, result.output
    return str(result.output)


def test_seed_demo_leaves_a_realistic_verifiable_log(app: Flask, rt: Runtime,
                                                     clock: Clock) -> None:
    output = cli(app, "seed-demo")
    assert "two break-glass overrides awaiting IG review (one overdue)" in output
    log = events(rt)
    times = [e.occurred_at for e in log]
    assert times == sorted(times)  # nothing back-dated, in the order written
    assert times[0] <= clock.now - timedelta(days=6) + timedelta(hours=8)
    assert times[-1] <= clock.now

    reads = [e for e in log if e.type == "case_plan:plan:read" and e.decision == "allow"]
    assert {e.org for e in reads} == {"jcp-derby", "recovery-partnership", "derby-housing",
                                      "ca-derby"}
    assert len({e.occurred_at.date() for e in reads}) >= 4
    refused = [e for e in log if e.org == "derby-housing" and e.decision == "deny"
               and e.categories == ["substance_misuse"]]
    assert [e.reasons for e in refused] == [["category_not_in_protocol"]]
    assert [e.org for e in log if e.type == "access:subject:deny"] == ["ca-derby"]
    assert len([e for e in log if e.type == "consent:record:withdraw"]) == 1
    # The story's three claimants (the six months of MI history add forty more, with their
    # own referrals: tests/integration/test_demo_history.py checks those).
    story = {uuid.UUID(line.split()[3]) for line in output.splitlines()
             if line.startswith("claimant:")}
    assert len(story) == 3
    assert [e.org for e in log if e.type == "referral:referral:accept"
            and e.subject_id in story] == ["derby-housing", "ca-derby", "derby-housing"]
    with rt.session_factory() as s:
        referrals = s.scalars(select(Referral).where(Referral.subject_id.in_(story))
                              .order_by(Referral.created_at)).all()
        assert [(r.to_org, r.status, r.service_id, r.outcome) for r in referrals] == [
            ("derby-housing", "accepted", None, None),
            ("ca-derby", "completed", "ca-derby-budgeting", "budgeting_support_given"),
            ("derby-housing", "booked", "derby-housing-tenancy-support", None)]
        # The loop closed for Kerry; Lee's appointment is ahead, his reminder waiting to go.
        [reminder] = s.scalars(select(Reminder).where(Reminder.status == "pending")).all()
        assert reminder.referral_id == referrals[2].id
        assert clock.now < reminder.next_attempt_at < reminder.appointment_at

        grace = identity.get_staff_by_email(s, IG)
        with _ctx(s, rt, grace, "audit") as ctx:
            queue = override_cases.list_for_review(ctx, "pending_review")
        assert sorted(item.overdue for item in queue) == [False, True]
        with _ctx(s, rt, grace, "audit") as ctx:
            report = audit_trail.unusual_access(ctx, Thresholds())
        rules = {f.rule for f in report.findings}
        assert "out_of_hours" in rules
        # The Citizens Advice probe records no protocol: Citizens Advice's IG officer finds it.
        assert "outside_relationship" not in rules
        jo = identity.add_or_update_staff(s, protocols=rt.protocols,
                                          email="jo.patel@ca-derby.example", name="Jo Patel",
                                          org="ca-derby", roles=["ig_officer"], now=rt.now())
        s.commit()
        with _ctx(s, rt, jo, "audit") as ctx:
            report = audit_trail.unusual_access(ctx, Thresholds())
        assert "outside_relationship" in {f.rule for f in report.findings}

    cli(app, "audit", "seal")
    assert "ok" in cli(app, "audit", "verify").lower()
    # Seeding again changes nothing.
    before = len(events(rt))
    assert "already seeded" in cli(app, "seed-demo")
    assert len(events(rt)) == before
