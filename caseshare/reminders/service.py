"""Contact preferences and the reminder outbox: record and withdraw a preference, schedule a
reminder for a booked appointment, and send the due ones. Use cases on a session; they never
commit (the request's unit of work, or the worker's one per reminder, does).

Never lost, never duplicated:
- `schedule_reminder` is idempotent: one row per (referral, appointment time), a unique key, so
  calling it again (a retried request, the lead's booked step run twice) finds the same row; a
  new time for the same referral (rebooked) supersedes the referral's pending row.
- `send_one` claims a due row (a conditional UPDATE: pending, due, attempts + 1), sends, and
  marks it sent or schedules the retry, all in ONE transaction that its caller commits. Two
  workers never send the same row: the second one's UPDATE matches nothing (on PostgreSQL it
  waits for the first's commit and then sees the row changed; on SQLite the first holds the
  write lock until its commit). A send that succeeded and committed is never repeated.
- A crash between the provider taking the message and the commit rolls the claim back: the row
  is still pending and is sent again on the next round (at least once, never lost). The
  duplicate carries the same reference (the row's id: the SMTP Message-ID, Notify's
  `reference`), so it can be recognised. We chose that over marking the row "sending" in a
  transaction of its own first, which would lose the reminder on the same crash.
- The lock is held while the channel talks to its server, so the channel's timeout bounds it
  (CASESHARE_SMTP_TIMEOUT, 10 s by default; one row per transaction).
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
from caseshare.outbound.channel import Channel, Kind, Message, SendError
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
    time finds the same row (whatever its status); a new time supersedes the referral's pending
    reminder. Whether the claimant agreed to be contacted is checked when it is due, so a
    preference recorded after booking still gets the reminder. `location` is sealed under the
    claimant's data key (it can say which service they go to)."""
    key = reminder_key(referral_id, appointment_at)
    existing = session.scalar(select(Reminder).where(Reminder.key == key))
    if existing is not None:
        return existing
    if appointment_at <= now:
        return None
    subject = subjects.get_subject(session, subject_id)
    data_key = subjects.data_key(subject, keyring)
    session.execute(update(Reminder)
                    .where(Reminder.referral_id == referral_id, Reminder.status == "pending")
                    .values(status="superseded", last_error="rebooked"))
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


def cancel_for_referral(session: Session, referral_id: uuid.UUID) -> int:
    """Cancel the referral's pending reminder (withdrawn, completed or suspended: there is no
    appointment to remind the claimant of); returns how many were cancelled."""
    result = session.execute(update(Reminder)
                             .where(Reminder.referral_id == referral_id,
                                    Reminder.status == "pending")
                             .values(status="cancelled", last_error="referral_ended"))
    return int(getattr(result, "rowcount", 0) or 0)


def due_reminders(session: Session, now: datetime, limit: int = 100) -> list[uuid.UUID]:
    """Pending reminders whose time has come, oldest first."""
    return list(session.scalars(
        select(Reminder.id).where(Reminder.status == "pending", Reminder.next_attempt_at <= now)
        .order_by(Reminder.next_attempt_at, Reminder.id).limit(limit)))


def retry_after(attempts: int) -> timedelta:
    """The pause before the next attempt after `attempts` failed ones: 1, 2, 4 ... minutes, at
    most an hour."""
    return min(FIRST_RETRY * (1 << max(attempts - 1, 0)), LONGEST_RETRY)


@dataclass(frozen=True)
class Outcome:
    """What one round did with one reminder: `sent`, `retry` (pending again), `failed`,
    `cancelled` (no contact preference, erased claimant), `skipped` (not due or claimed by
    another worker). `code`: the error code, if any."""

    result: str
    code: str | None = None


def send_one(session: Session, reminder_id: uuid.UUID, *, channel: Channel,
             keyring: KeyProvider, now: datetime) -> Outcome:
    """Claim one due reminder and send it, in the caller's transaction (see the module's
    docstring). The address is opened from the current contact preference only here."""
    claimed = session.execute(
        update(Reminder)
        .where(Reminder.id == reminder_id, Reminder.status == "pending",
               Reminder.next_attempt_at <= now)
        .values(attempts=Reminder.attempts + 1)
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
    reminder.outbound = channel.name
    try:
        channel.send(message)
    except SendError as exc:
        outcome = _failed(reminder, exc, now)
    else:
        reminder.status, reminder.sent_at, reminder.last_error = "sent", now, None
        outcome = Outcome("sent")
    # Handing the address to a mail server or Notify is a disclosure, whatever it answered.
    audit.record(session, type=EventType.REMINDERS_MESSAGE_SEND, now=now,
                 subject_id=reminder.subject_id, categories=["contact"],
                 decision="allow",
                 details={"reminder_id": str(reminder.id),
                          "referral_id": str(reminder.referral_id),
                          "channel": reminder.channel, "language": reminder.language,
                          "outbound": channel.name, "attempt": reminder.attempts,
                          "result": outcome.result, "code": outcome.code})
    return outcome


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
