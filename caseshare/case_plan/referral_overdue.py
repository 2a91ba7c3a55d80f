"""The referral response standard's enforcement, run by the worker: a referral still not
accepted or declined after its `respond_by` raises one `referral_overdue` notification to the
receiving organisation's team, with an audit event. Each referral is claimed with a
conditional UPDATE before it is notified, so two workers (or a rerun) never notify twice.
The caller's unit of work commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from caseshare.audit import service as audit
from caseshare.audit.event_types import EventType
from caseshare.case_plan import referrals
from caseshare.notifications import service as notifications


def notify_overdue(session: Session, *, now: datetime) -> int:
    """Notify the receiver of every newly overdue referral once; how many were notified."""
    notified = 0
    for referral in referrals.overdue_unnotified(session, now):
        if not referrals.claim_overdue_notice(session, referral.id, now):
            continue
        details = {"referral_id": str(referral.id)}
        notifications.notify(session, type="referral_overdue", org=referral.to_org, now=now,
                             subject_id=referral.subject_id, details=details)
        audit.write(session, audit.new_event(
            type=EventType.REFERRAL_REFERRAL_OVERDUE, now=now, subject_id=referral.subject_id,
            decision="allow", details={**details, "to_org": referral.to_org,
                                       "respond_by": referral.respond_by}))
        notified += 1
    return notified
