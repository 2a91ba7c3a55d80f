"""Contact preferences and the reminder outbox: record and withdraw a preference, schedule a
reminder for a booked appointment, and send the due ones. Use cases on a session; they never
commit (the request's unit of work, or the worker's two per reminder, do).

Never lost, never duplicated, never sent before its audit event is committed:
- `schedule_reminder` is idempotent: one row per (referral, appointment time), a unique key, so
  calling it again (a retried request) finds the same row; a new time for the same referral
  (rebooked) supersedes the referral's pending row, and booking an earlier time again brings
  its row back (pending) and supersedes the rest: the latest booking is the one reminded of.
- Sending is three steps (caseshare/jobs/reminders.py runs them). `claim` (transaction 1): a
  conditional UPDATE (pending, due) takes a lease (attempts + 1, next_attempt_at = now +
  LEASE) and records the audit event `reminders:message:send_attempt` (codes and ids only);
  the worker commits both. Then the channel sends, outside any transaction (no row or write
  lock is held while a mail server or Notify answers). `finish` (transaction 2) marks the row
  sent, or schedules the retry, and records `reminders:message:send` with the result.
- Two workers never send the same row at once: the second's UPDATE matches nothing (the row
  is no longer due). `finish` only changes the row if it still holds the attempt it claimed.
- A crash after the send and before transaction 2 leaves the row pending with its lease: it is
  sent again once the lease ends (at least once, never lost). The repeat carries the same
  reference (the row's id: the SMTP Message-ID, Notify's `reference`), so it can be recognised.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from caseshare.audit import service as audit
from caseshare.audit.event_types import EventType
from caseshare.case_plan.models import Referral
from caseshare.crypto.keyring import KeyProvider
from caseshare.crypto.sealing import FieldRef, open_sealed, seal
from caseshare.errors import ConflictError
from caseshare.facts import Principal
from caseshare.outbound.channel import Kind, Message, SendError
from caseshare.reminders.messages import reminder_text
from caseshare.reminders.models import ContactPreference, Reminder
from caseshare.subjects import service as subjects

CHANNELS = ("sms", "email")
LANGUAGES = ("en", "cy")
METHODS = ("verbal_in_person", "verbal_phone", "wet_signature", "e_signature", "online",
           "interpreter")
REMIND_BEFORE = timedelta(hours=24)  # a reminder goes a day before the appointment
MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(minutes=1)  # then doubling: 1, 2, 4 ... minutes
LONGEST_RETRY = timedelta(hours=1)
LEASE = timedelta(minutes=5)  # a claimed row is not tried again before this (a crash mid-send)


# --- contact preferences ---------------------------------------------------------------

def address_ref(preference: ContactPreference) -> FieldRef:
    return FieldRef(preference.subject_id, "contact_preference", str(preference.id), "address",
                    "contact")


def current_preference(session: Session, subject_id: uuid.UUID) -> ContactPreference | None:
    """The claimant's current contact preference (agreed and not ended), if any."""
    return session.scalar(select(ContactPreference).where(
        ContactPreference.subject_id == subject_id, ContactPreference.ended_at.is_(None)))


def latest_preference(session: Session, subject_id: uuid.UUID) -> ContactPreference | None:
    """The current preference, or else the one that ended last (None: never recorded)."""
    current = current_preference(session, subject_id)
    if current is not None:
        return current
    # With none current, the newest record was withdrawn (a replaced one has a newer one).
    return session.scalar(select(ContactPreference)
                          .where(ContactPreference.subject_id == subject_id,
                                 ContactPreference.ended_reason == "withdrawn")
                          .order_by(ContactPreference.ended_at.desc()).limit(1))


def record_preference(session: Session, *, subject_id: uuid.UUID, channel: str, address: str,
                      language: str, method: str, principal: Principal, data_key: bytes,
                      dek_version: int, now: datetime) -> tuple[ContactPreference,
                                                                ContactPreference | None]:
    """Record the claimant's agreement to be contacted; the current one, if any, is ended as
    `replaced`. Returns (the new preference, the one it replaced)."""
    before = current_preference(session, subject_id)
    if before is not None:
        before.ended_at, before.ended_reason = now, "replaced"
        before.ended_by = principal.actor_uuid
        session.flush()
    preference = ContactPreference(id=uuid.uuid4(), subject_id=subject_id, channel=channel,
                                   address=b"", language=language, method=method,
                                   agreed_at=now, recorded_by=principal.actor_uuid,
                                   recorded_org=principal.org)
    preference.address = seal(data_key, dek_version, address_ref(preference), address)
    session.add(preference)
    session.flush()
    return preference, before


def withdraw_preference(session: Session, *, subject_id: uuid.UUID, principal: Principal,
                        now: datetime) -> tuple[ContactPreference, list[uuid.UUID]]:
    """End the current preference at once (`withdrawn`) and cancel every pending reminder for
    the claimant. Returns the preference and the cancelled reminders' ids; 409 when there is
    no current preference."""
    preference = current_preference(session, subject_id)
    if preference is None:
        raise ConflictError("The claimant has not agreed to be contacted, or has already "
                            "withdrawn.")
    preference.ended_at, preference.ended_reason = now, "withdrawn"
    preference.ended_by = principal.actor_uuid
    pending = list(session.scalars(select(Reminder).where(
        Reminder.subject_id == subject_id, Reminder.status == "pending")))
    for reminder in pending:
        reminder.status, reminder.last_error = "cancelled", "preference_withdrawn"
    session.flush()
    return preference, [r.id for r in pending]


def open_address(preference: ContactPreference, data_key: bytes) -> str:
    return open_sealed(data_key, address_ref(preference), preference.address)


def masked(channel: str, address: str) -> str:
    """Enough for an operator to tell messages apart, not enough to contact anyone:
    "j•••@example.org", "•••••••789"."""
    if channel == "email":
        local, _, domain = address.partition("@")
        return f"{local[:1]}•••@{domain}"
    digits = "".join(ch for ch in address if ch.isdigit())
    return "•" * max(len(digits) - 3, 3) + digits[-3:]


# --- the outbox --------------------------------------------------------------------------

def reminder_key(referral_id: uuid.UUID, appointment_at: datetime) -> str:
    """One key per referral and appointment time (to the second, in UTC)."""
    return f"{referral_id}@{appointment_at.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"


def location_ref(reminder: Reminder) -> FieldRef:
    return FieldRef(reminder.subject_id, "reminder", str(reminder.id), "location", "contact")


def schedule_reminder(session: Session, *, subject_id: uuid.UUID, referral_id: uuid.UUID,
                      appointment_at: datetime, location: str | None, now: datetime,
                      keyring: KeyProvider) -> Reminder | None:
    """Schedule the reminder for a booked appointment (REMIND_BEFORE it, or now if that has
    passed); None for an appointment already past. Safe to call again: the same referral and
    time finds the same row. A new time supersedes the referral's pending reminder; a time
    booked before (its row superseded, cancelled or failed) is pending again, with the new
    location, and the others are superseded: the latest booking is the one reminded of (a sent
    reminder stays sent). Whether the claimant agreed to be contacted is checked when it is
    due, so a preference recorded after booking still gets the reminder. `location` is sealed
    under the claimant's data key (it can say which service they go to)."""
    key = reminder_key(referral_id, appointment_at)
    existing = session.scalar(select(Reminder).where(Reminder.key == key))
    if existing is not None and existing.status == "pending":
        return existing
    if existing is None and appointment_at <= now:
        return None
    if existing is not None and (existing.status == "sent" or appointment_at <= now):
        _supersede_others(session, referral_id, keep=existing.id)
        return existing
    subject = subjects.get_subject(session, subject_id)
    data_key = subjects.data_key(subject, keyring)
    if existing is not None:
        _supersede_others(session, referral_id, keep=existing.id)
        existing.status, existing.attempts, existing.last_error = "pending", 0, None
        existing.next_attempt_at = max(appointment_at - REMIND_BEFORE, now)
        existing.location = (seal(data_key, subject.dek_version, location_ref(existing), location)
                             if location else None)
        session.flush()
        return existing
    _supersede_others(session, referral_id, keep=None)
    reminder = Reminder(id=uuid.uuid4(), key=key, subject_id=subject_id, referral_id=referral_id,
                        appointment_at=appointment_at, status="pending", attempts=0,
                        next_attempt_at=max(appointment_at - REMIND_BEFORE, now),
                        created_at=now)
    if location:
        reminder.location = seal(data_key, subject.dek_version, location_ref(reminder), location)
    try:
        with session.begin_nested():  # a concurrent call for the same appointment wins: use it
            session.add(reminder)
    except IntegrityError:
        return session.scalar(select(Reminder).where(Reminder.key == key))
    return reminder


def _supersede_others(session: Session, referral_id: uuid.UUID, keep: uuid.UUID | None) -> None:
    """The referral's pending reminders other than `keep` are superseded (rebooked)."""
    query = update(Reminder).where(Reminder.referral_id == referral_id,
                                   Reminder.status == "pending")
    if keep is not None:
        query = query.where(Reminder.id != keep)
    session.execute(query.values(status="superseded", last_error="rebooked")
                    .execution_options(synchronize_session="fetch"))


def cancel_for_referral(session: Session, referral_id: uuid.UUID) -> int:
    """Cancel the referral's pending reminder (withdrawn, completed or suspended: there is no
    appointment to remind the claimant of); returns how many were cancelled."""
    result = session.execute(update(Reminder)
                             .where(Reminder.referral_id == referral_id,
                                    Reminder.status == "pending")
                             .values(status="cancelled", last_error="referral_ended"))
    return int(getattr(result, "rowcount", 0) or 0)


def due_reminders(session: Session, now: datetime, limit: int = 10) -> list[uuid.UUID]:
    """Pending reminders whose time has come, oldest first (at most `limit`: a worker round
    stays short, so sealing in the same loop is not held up)."""
    return list(session.scalars(
        select(Reminder.id).where(Reminder.status == "pending", Reminder.next_attempt_at <= now)
        .order_by(Reminder.next_attempt_at, Reminder.id).limit(limit)))


def forget_recipients(session: Session, subject_id: uuid.UUID) -> None:
    """On the claimant's erasure: the masked recipient goes from their reminders and any still
    pending is cancelled (the ids, times and statuses stay, as the rest of the tombstone)."""
    session.execute(update(Reminder).where(Reminder.subject_id == subject_id,
                                           Reminder.status == "pending")
                    .values(status="cancelled", last_error="subject_erased")
                    .execution_options(synchronize_session="fetch"))
    session.execute(update(Reminder).where(Reminder.subject_id == subject_id)
                    .values(recipient=None).execution_options(synchronize_session="fetch"))


def retry_after(attempts: int) -> timedelta:
    """The pause before the next attempt after `attempts` failed ones: 1, 2, 4 ... minutes, at
    most an hour."""
    return min(FIRST_RETRY * (1 << max(attempts - 1, 0)), LONGEST_RETRY)


@dataclass(frozen=True)
class Outcome:
    """What one round did with one reminder: `sent`, `retry` (pending again), `failed`,
    `cancelled` (no contact preference, erased claimant), `skipped` (not due or claimed by
    another worker), `error` (an unexpected error, deferred as a retry). `code`: the error
    code, if any."""

    result: str
    code: str | None = None


@dataclass(frozen=True)
class Claimed:
    """A reminder claimed for one attempt: the message to send once the claim is committed."""

    reminder_id: uuid.UUID
    attempt: int
    message: Message


def claim(session: Session, reminder_id: uuid.UUID, *, channel_name: str,
          keyring: KeyProvider, now: datetime) -> Claimed | Outcome:
    """Transaction 1 (see the module's docstring): take the lease on a due reminder and record
    the audit event of the send about to happen; the caller commits BEFORE sending. An Outcome
    when there is nothing to send (not due, cancelled, appointment passed). The address is
    opened from the current contact preference only here."""
    claimed = session.execute(
        update(Reminder)
        .where(Reminder.id == reminder_id, Reminder.status == "pending",
               Reminder.next_attempt_at <= now)
        .values(attempts=Reminder.attempts + 1, next_attempt_at=now + LEASE)
        .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return Outcome("skipped")
    reminder = session.get_one(Reminder, reminder_id, populate_existing=True)
    subject = subjects.get_subject(session, reminder.subject_id)
    preference = current_preference(session, reminder.subject_id)
    if subjects.is_erased(subject, keyring) or preference is None:
        code = "subject_erased" if preference is not None else "no_contact_preference"
        reminder.status, reminder.last_error = "cancelled", code
        return Outcome("cancelled", code)
    if reminder.appointment_at <= now:
        reminder.status, reminder.last_error = "failed", "appointment_passed"
        return Outcome("failed", "appointment_passed")
    message = _message(reminder, preference, subjects.data_key(subject, keyring))
    reminder.channel, reminder.language = preference.channel, preference.language
    reminder.recipient = masked(preference.channel, message.to)
    reminder.outbound = channel_name
    # Handing the address to a mail server or Notify is a disclosure: audited, and committed,
    # before it happens, whatever the server then answers.
    audit.record(session, type=EventType.REMINDERS_MESSAGE_SEND_ATTEMPT, now=now,
                 subject_id=reminder.subject_id, categories=["contact"], decision="allow",
                 details=_ids(reminder))
    return Claimed(reminder.id, reminder.attempts, message)


def finish(session: Session, claimed: Claimed, error: SendError | None, *, now: datetime,
           result: str | None = None) -> Outcome:
    """Transaction 2: mark the claimed reminder sent (`error` None) or schedule its retry, and
    record the result. Nothing changes when the row no longer holds this attempt (its lease
    ran out and another round took it over). `result` names an unexpected error (`error`)."""
    reminder = session.get(Reminder, claimed.reminder_id)
    if reminder is None or reminder.status != "pending" or reminder.attempts != claimed.attempt:
        return Outcome("skipped")
    if error is None:
        reminder.status, reminder.sent_at, reminder.last_error = "sent", now, None
        outcome = Outcome("sent")
    else:
        outcome = _failed(reminder, error, now)
        if result is not None and outcome.result == "retry":
            outcome = Outcome(result, outcome.code)
    audit.record(session, type=EventType.REMINDERS_MESSAGE_SEND, now=now,
                 subject_id=reminder.subject_id, decision="allow",
                 details={**_ids(reminder), "result": outcome.result, "code": outcome.code})
    return outcome


def _ids(reminder: Reminder) -> dict[str, object]:
    """An attempt's audit details: codes and ids only."""
    return {"reminder_id": str(reminder.id), "referral_id": str(reminder.referral_id),
            "channel": reminder.channel, "language": reminder.language,
            "outbound": reminder.outbound, "attempt": reminder.attempts}


def _message(reminder: Reminder, preference: ContactPreference, data_key: bytes) -> Message:
    location = (open_sealed(data_key, location_ref(reminder), reminder.location)
                if reminder.location else None)
    subject_line, body, when = reminder_text(preference.language, reminder.appointment_at,
                                             location)
    kind: Kind = "sms" if preference.channel == "sms" else "email"
    return Message(kind=kind, to=open_address(preference, data_key),
                   language=preference.language, subject=subject_line, body=body,
                   reference=str(reminder.id),
                   fields={"appointment": when, "location": location or "", "message": body})


def _failed(reminder: Reminder, exc: SendError, now: datetime) -> Outcome:
    """Schedule the retry, or give up: a permanent refusal, too many attempts, or a retry that
    would come after the appointment."""
    reminder.last_error = exc.code
    retry_at = now + retry_after(reminder.attempts)
    if exc.retry and reminder.attempts < MAX_ATTEMPTS and retry_at < reminder.appointment_at:
        reminder.next_attempt_at = retry_at
        return Outcome("retry", exc.code)
    reminder.status = "failed"
    return Outcome("failed", exc.code)


def defer_after_error(session: Session, reminder_id: uuid.UUID, *, code: str,
                      now: datetime) -> None:
    """After an unexpected error in a round (rolled back), count the attempt and wait before the
    next, as after a failed send: the worker must not try a broken row twice a second."""
    reminder = session.get(Reminder, reminder_id)
    if reminder is None or reminder.status != "pending":
        return
    reminder.attempts += 1
    _failed(reminder, SendError(code[:64], retry=True), now)


def outbox(session: Session, *, orgs: Iterable[str], limit: int = 200) -> list[Reminder]:
    """The outbox for referrals from or to any of `orgs`, newest first, for the operator page
    (no sealed value is opened)."""
    wanted = sorted(orgs)
    return list(session.scalars(
        select(Reminder).join(Referral, Referral.id == Reminder.referral_id)
        .where(or_(Referral.from_org.in_(wanted), Referral.to_org.in_(wanted)))
        .order_by(Reminder.created_at.desc(), Reminder.id).limit(limit)))
