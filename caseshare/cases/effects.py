"""What closing a case does to the claimant's other records, in the closure's unit of work
(domain: a session and plain values, no Flask, no commit).

- Consents whose expiry rule is `case_closed` end at the closure time: a whole withdrawal is
  appended with channel `case_closed` (consent versions are immutable, so `expires_at` keeps
  the protocol's backstop; the decision already reads withdrawals). Recipients are told as for
  any withdrawal. Such a withdrawal is not the claimant's own, so it starts no cooling period.
- Every referral still in progress is suspended with the reason `case_closed` (final, like a
  lost basis), its pending reminder cancelled and its sender told.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from caseshare.case_plan import referrals
from caseshare.consent import service as consents
from caseshare.facts import Principal
from caseshare.notifications import service as notifications
from caseshare.reasons import Reason
from caseshare.reminders import service as reminders
from caseshare.subjects import service as subjects
from caseshare.subjects.models import Subject

CASE_CLOSED = str(Reason.CASE_CLOSED)


@dataclass(frozen=True)
class ClosureEffects:
    """Ids of what the closure ended (for the audit event: ids only)."""

    consents_ended: tuple[str, ...]
    referrals_closed: tuple[str, ...]


def end_at_closure(session: Session, subject: Subject, *, data_key: bytes,
                   principal: Principal, now: datetime) -> ClosureEffects:
    """End the consents that last until the case closes and the referrals in progress."""
    return ClosureEffects(_end_consents(session, subject, data_key, principal, now),
                          _close_referrals(session, subject, now))


def _end_consents(session: Session, subject: Subject, data_key: bytes, principal: Principal,
                  now: datetime) -> tuple[str, ...]:
    pairs = subjects.subject_consents(session, subject.id)
    superseded = consents.superseded_ids(pairs)
    ended = []
    for consent, withdrawals in pairs:
        if (consent.expiry_rule != "case_closed" or consent.decision != "granted"
                or consent.id in superseded or now >= consent.expires_at
                or consents.is_fully_withdrawn(consent, withdrawals)):
            continue
        withdrawal = consents.withdraw(
            session, consent=consent, withdrawals=withdrawals, superseded=False,
            principal=principal, channel=consents.CASE_CLOSED_CHANNEL, scope=None, reason=None,
            data_key=data_key, dek_version=subject.dek_version, now=now)
        consents.notify_withdrawal(session, consent=consent, withdrawal=withdrawal,
                                   fully_withdrawn=True)
        ended.append(str(consent.id))
    return tuple(ended)


def _close_referrals(session: Session, subject: Subject, now: datetime) -> tuple[str, ...]:
    closed = []
    for referral in referrals.open_referrals_of(session, subject.id):
        referrals.suspend(session, referral, reasons=[CASE_CLOSED], now=now)
        reminders.cancel_for_referral(session, referral.id)
        notifications.notify(session, type="referral_updated", org=referral.from_org, now=now,
                             subject_id=subject.id,
                             details={"referral_id": str(referral.id), "status": referral.status,
                                      "to_org": referral.to_org})
        closed.append(str(referral.id))
    return tuple(closed)
