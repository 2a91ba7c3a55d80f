"""Reminders to staff, raised by the worker's jobs, each once only:

- consent expiring: 30 and 7 days before a current consent ends, to the case's lead worker
  (`cases.models.Case.lead_worker_id`), or the lead organisation's team when it names none;
  none for a closed case (nothing to renew);
- protocol review: 30 days before a protocol version in force reaches its `review_date`, and
  again once it has passed, to the IG officers of every party;
- override review overdue: an emergency access still `pending_review` after its
  `review_due_at`, to the IG officers of the organisation that used it.

Each is a notification (`Notification.once_key`, unique, e.g. `consent-expiring:<id>:7`: raised
inside a SAVEPOINT after a check, so a second worker racing the first loses at the unique index
and moves on) and, where the SMTP channel is configured, an e-mail to each active staff member
who sees it, sent after the notification is committed (at most once: a worker killed between
the two leaves the page's notification only). The e-mail holds a link to the notifications
page and codes only: never a claimant's name, NINO or free text.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from caseshare.cases.models import Case
from caseshare.identity.models import StaffMember
from caseshare.notifications import service as notifications
from caseshare.notifications.models import Notification
from caseshare.outbound.channel import Channel, Message, SendError
from caseshare.overrides.models import OverrideRecord
from caseshare.policy.models import ProtocolSet
from caseshare.subjects import renewals
from caseshare.uk_time import UK
from caseshare.unit_of_work import UnitOfWork

logger = logging.getLogger("caseshare.worker.staff_reminders")

CONSENT_THRESHOLDS = (30, 7)  # days before a consent ends
PROTOCOL_REVIEW_DAYS = 30
IG_OFFICER = "ig_officer"
CHUNK = 500

SUBJECTS = {
    "consent_expiring": "A consent ends soon",
    "protocol_review_due": "A protocol's review date is near or has passed",
    "override_review_overdue": "An emergency access review is overdue",
}

SessionFactory = Callable[[], Session]


@dataclass(frozen=True)
class Raised:
    """A reminder just raised: what the e-mails need (ids and codes)."""

    id: uuid.UUID
    type: str
    org: str
    role: str | None
    staff_id: uuid.UUID | None
    once_key: str


def raise_once(session: Session, *, once_key: str, type: str, org: str, now: datetime,
               role: str | None = None, staff_id: uuid.UUID | None = None,
               subject_id: uuid.UUID | None = None, consent_id: uuid.UUID | None = None,
               details: dict[str, object] | None = None) -> Raised | None:
    """Raise the notification unless one with `once_key` exists; None when it did."""
    if session.scalar(select(Notification.id).where(Notification.once_key == once_key)):
        return None
    try:
        with session.begin_nested():
            note = notifications.notify(session, type=type, org=org, now=now, role=role,
                                        staff_id=staff_id, subject_id=subject_id,
                                        consent_id=consent_id, details=dict(details or {}),
                                        once_key=once_key)
            session.flush()
    except IntegrityError:  # another worker raised it meanwhile
        return None
    return Raised(note.id, type, org, role, staff_id, once_key)


def _known_keys(session: Session, keys: Sequence[str]) -> set[str]:
    """Which of `keys` are already raised (in chunks, for long lists)."""
    found: set[str] = set()
    for start in range(0, len(keys), CHUNK):
        found.update(k for k in session.scalars(select(Notification.once_key).where(
            Notification.once_key.in_(keys[start:start + CHUNK]))) if k)
    return found


def consent_expiring(session: Session, now: datetime) -> list[Raised]:
    """Remind of every current consent ending within 30 days: the nearest threshold it has
    reached (30, then 7), once per consent and threshold."""
    rows = renewals.expiring_consents(session, now=now, days=max(CONSENT_THRESHOLDS),
                                      lead_org=None)
    if not rows:
        return []
    due = [(c, lead, _threshold(c.expires_at - now)) for c, _ws, _status, lead in rows]
    keys = [f"consent-expiring:{c.id}:{t}" for c, _lead, t in due]
    known = _known_keys(session, keys)
    subject_ids = list({c.subject_id for c, _lead, _t in due})
    cases = {case.subject_id: case for case in session.scalars(
        select(Case).where(Case.subject_id.in_(subject_ids)))}
    raised = []
    for (consent, lead, threshold), key in zip(due, keys, strict=True):
        case = cases.get(consent.subject_id)
        if key in known or (case is not None and case.status == "closed"):
            continue
        note = raise_once(
            session, once_key=key, type="consent_expiring", org=lead, now=now,
            staff_id=_lead_worker(session, case, lead), subject_id=consent.subject_id,
            consent_id=consent.id,
            details={"consent_id": str(consent.id), "threshold_days": threshold,
                     "expires_on": consent.expires_at.astimezone(UK).date().isoformat()})
        if note is not None:
            raised.append(note)
    return raised


def _threshold(left: timedelta) -> int:
    return min(t for t in CONSENT_THRESHOLDS if left <= timedelta(days=t))


def _lead_worker(session: Session, case: Case | None, lead_org: str) -> uuid.UUID | None:
    """The case's named lead worker while active in the lead organisation; None: the team."""
    if case is None or case.lead_worker_id is None:
        return None
    staff = session.get(StaffMember, case.lead_worker_id)
    if staff is None or not staff.active or staff.org_id != lead_org:
        return None
    return staff.id


def protocol_review(session: Session, protocols: ProtocolSet, now: datetime) -> list[Raised]:
    """Remind every party's IG officers of a protocol version in force whose review date is
    within 30 days (`30`) or has passed (`passed`), once per version, threshold and party."""
    today = now.astimezone(UK).date()
    raised = []
    for protocol in protocols.protocols:
        if not protocol.in_force(today):
            continue
        if today >= protocol.review_date:
            threshold = "passed"
        elif today >= protocol.review_date - timedelta(days=PROTOCOL_REVIEW_DAYS):
            threshold = "30"
        else:
            continue
        for party in protocol.parties:
            note = raise_once(
                session, once_key=f"protocol-review:{protocol.ref}:{threshold}:{party.id}",
                type="protocol_review_due", org=party.id, role=IG_OFFICER, now=now,
                details={"protocol": protocol.ref, "threshold": threshold,
                         "review_date": protocol.review_date.isoformat()})
            if note is not None:
                raised.append(note)
    return raised


def override_review_overdue(session: Session, now: datetime) -> list[Raised]:
    """Remind the overriding organisation's IG officers of each emergency access whose review
    is overdue, once per override."""
    overdue = list(session.scalars(select(OverrideRecord).where(
        OverrideRecord.status == "pending_review", OverrideRecord.review_due_at < now)))
    keys = [f"override-review-overdue:{o.id}" for o in overdue]
    known = _known_keys(session, keys)
    raised = []
    for override, key in zip(overdue, keys, strict=True):
        if key in known:
            continue
        note = raise_once(
            session, once_key=key, type="override_review_overdue", org=override.org_id,
            role=IG_OFFICER, now=now, subject_id=override.subject_id,
            details={"override_id": str(override.id),
                     "review_due_at": override.review_due_at.isoformat()})
        if note is not None:
            raised.append(note)
    return raised


# -- e-mail ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mail:
    to: str
    staff_id: uuid.UUID
    raised: Raised


def recipients(session: Session, raised: Iterable[Raised]) -> list[Mail]:
    """One e-mail per active staff member who sees each notification (its organisation, role
    and staff member, as the pages select them)."""
    out = []
    by_org: dict[str, list[StaffMember]] = {}
    for note in raised:
        if note.org not in by_org:
            by_org[note.org] = list(session.scalars(select(StaffMember).where(
                StaffMember.org_id == note.org, StaffMember.active.is_(True))))
        for staff in by_org[note.org]:
            if note.role is not None and note.role not in (staff.roles or []):
                continue
            if note.staff_id is not None and note.staff_id != staff.id:
                continue
            out.append(Mail(staff.email, staff.id, note))
    return out


def message(mail: Mail, public_url: str) -> Message:
    """The e-mail: what kind of reminder, a link to the notifications page and the reminder's
    code. Nothing about the claimant: the page shows that to whoever may see it."""
    note = mail.raised
    subject = f"Caseshare: {SUBJECTS.get(note.type, 'A new notification')}"
    body = (f"{SUBJECTS.get(note.type, 'A new notification')}.\n\n"
            "Sign in to Caseshare and open your notifications to see what it is about and "
            f"what to do next:\n{public_url.rstrip('/')}/notifications\n\n"
            f"Reminder reference: {note.once_key}\n")
    return Message(kind="email", to=mail.to, language="en", subject=subject, body=body,
                   reference=f"{note.id}.{mail.staff_id}", fields={})


def send(channel: Channel | None, mails: Sequence[Mail]) -> tuple[int, int]:
    """Send the e-mails; (sent, failed). A failure is logged by its code only."""
    if channel is None or not mails:
        return 0, 0
    public_url = os.environ.get("CASESHARE_PUBLIC_URL", "http://127.0.0.1:5000")
    sent = failed = 0
    for mail in mails:
        try:
            channel.send(message(mail, public_url))
            sent += 1
        except SendError as exc:
            failed += 1
            logger.warning("staff reminder e-mail %s not sent (%s)", mail.raised.id, exc.code)
    return sent, failed


Pass = Callable[[Session, datetime], list[Raised]]


def job(reminders: Pass, channel: Channel | None) -> Callable[[SessionFactory, datetime],
                                                              dict[str, int]]:
    """A job function: raise the due reminders in one unit of work, then e-mail them."""

    def run(session_factory: SessionFactory, now: datetime) -> dict[str, int]:
        with session_factory() as s, UnitOfWork(s):
            raised = reminders(s, now)
            mails = recipients(s, raised) if channel is not None else []
        sent, failed = send(channel, mails)
        return {"raised": len(raised), "emailed": sent, "email_failed": failed}

    return run
