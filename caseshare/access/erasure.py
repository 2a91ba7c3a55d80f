"""Erasure by crypto-shredding: the claimant's data key is destroyed, a tombstone remains.

Who may erase: an IG officer of the subject's lead organisation (the controller that
registered the record), acting for the built-in `subject_access` purpose. Erasure destroys
every partner's copy of the plan at once, so it is an information-governance decision of the
lead controller, not a front-line action (front-line tokens do not carry `subjects:erase`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from caseshare.access import guards
from caseshare.access.context import RequestContext
from caseshare.audit import service as audit
from caseshare.audit.event_types import EventType
from caseshare.crypto import shreds
from caseshare.crypto.keyring import KeyProvider
from caseshare.reasons import Reason
from caseshare.retention import shredding
from caseshare.subjects import service as subjects


def erase_subject(ctx: RequestContext, subject_id: uuid.UUID, reason: str,
                  reference: str | None) -> dict[str, Any]:
    subject, _facts = guards.subject_in_case(ctx, subject_id)  # erased already: 410
    refusals = []
    if "ig_officer" not in ctx.principal.roles:
        refusals.append(str(Reason.ROLE_NOT_GRANTED))
    if ctx.purpose != "subject_access":
        refusals.append("erasure_requires_subject_access")
    if ctx.principal.org != subject.lead_org_id:
        refusals.append("not_lead_controller")
    if refusals:
        guards.deny(ctx, EventType.SUBJECT_RECORD_ERASE, subject.id, refusals, [])
    suspended = shredding.tombstone(ctx.session, subject, now=ctx.now)
    # The event holds codes and ids only: the reason is a code, the reference an IG case id.
    ctx.audit(EventType.SUBJECT_RECORD_ERASE, subject_id=subject.id, outcome="allow",
              details={"reason": reason, "reference": reference, "method": "crypto_shred",
                       "referrals_suspended": [str(r) for r in suspended]})
    # The shred register (outside the database, kept with the keys) is written durably BEFORE
    # the database commit: a crash between the two leaves the claimant unreadable, since every
    # unwrap consults the register, and `caseshare shreds apply` tombstones it later. If the
    # register cannot be written, nothing is done (the erasure fails closed, 503).
    try:
        # Flushed first: the database's own objections come before the register is written.
        shredding.register(ctx.session, ctx.keyring, subject.id)
    except shreds.ShredRegisterError:
        # Nothing of the erasure is committed: only this event (the unit of work keeps it).
        ctx.audit_refusal(EventType.SUBJECT_RECORD_ERASE_FAILED, outcome=None,
                          subject_id=subject_id,
                          details={"error": "shred_register_unavailable", "reason": reason})
        raise
    return {"id": subject.id, "status": "erased", "erased_at": subject.erased_at}


@dataclass(frozen=True)
class Reconciled:
    applied: list[uuid.UUID]  # listed in the register, live in the database: now tombstoned
    registered: list[uuid.UUID]  # erased in the database, missing from the register: added
    register_size: int


def reapply_shreds(session: Session, keyring: KeyProvider, *, now: datetime) -> Reconciled:
    """Make the database and the shred register agree, the restore procedure's last step
    (`caseshare shreds apply`), and safe to run at any time.

    Every subject the register lists is tombstoned here as erasure does (data key and blind
    indexes deleted, open referrals suspended), each audited; every subject this database
    records as erased but the register lacks (a register cut short at its end) is added to the
    register. A register that fails its MACs stops this before anything changes. The caller
    commits (`with UnitOfWork(session):`)."""
    register = shreds.register_of(keyring)
    listed = register.ids()
    registered = register.add(sorted(subjects.erased_ids(session) - listed))
    applied = []
    for subject in subjects.unapplied_shreds(session, listed):
        suspended = shredding.tombstone(session, subject, now=subject.erased_at or now)
        audit.record(session, type=EventType.SUBJECT_RECORD_ERASE_REAPPLIED, now=now,
                     subject_id=subject.id, decision="allow",
                     details={"method": "crypto_shred", "source": "shred_register",
                              "referrals_suspended": [str(r) for r in suspended]})
        applied.append(subject.id)
    audit.record(session, type=EventType.CRYPTO_SHRED_RECONCILE, now=now,
                 details={"applied": len(applied), "registered": len(registered),
                          "register_size": len(listed) + len(registered)})
    return Reconciled(applied, registered, len(listed) + len(registered))
