"""Erasure by crypto-shredding: the claimant's data key is destroyed, a tombstone remains.

Who may erase: an IG officer of the subject's lead organisation (the controller that
registered the record), acting for the built-in `subject_access` purpose. Erasure destroys
every partner's copy of the plan at once, so it is an information-governance decision of the
lead controller, not a front-line action (front-line tokens do not carry `subjects:erase`).
"""

from __future__ import annotations

import uuid
from typing import Any

from caseshare.access import steps
from caseshare.access.context import RequestContext
from caseshare.access.reasons import Reason
from caseshare.case_plan import referrals
from caseshare.subjects import service as subjects


def erase_subject(ctx: RequestContext, subject_id: uuid.UUID, reason: str,
                  reference: str | None) -> dict[str, Any]:
    subject, _facts = steps.subject_in_case(ctx, subject_id)  # erased already: 410
    refusals = []
    if "ig_officer" not in ctx.principal.roles:
        refusals.append(str(Reason.ROLE_NOT_GRANTED))
    if ctx.purpose != "subject_access":
        refusals.append("erasure_requires_subject_access")
    if ctx.principal.org != subject.lead_org_id:
        refusals.append("not_lead_controller")
    if refusals:
        steps.deny(ctx, "subject:record:erase", subject.id, refusals, [])
    suspended = referrals.open_referrals_of(ctx.session, subject.id)
    for referral in suspended:
        referrals.suspend(ctx.session, referral, reasons=[str(Reason.SUBJECT_ERASED)], now=ctx.now)
    subjects.erase(subject, now=ctx.now)
    # The event holds codes and ids only: the reason is a code, the reference an IG case id.
    ctx.audit("subject:record:erase", subject_id=subject.id, outcome="allow",
              details={"reason": reason, "reference": reference, "method": "crypto_shred",
                       "referrals_suspended": [str(r.id) for r in suspended]})
    ctx.commit()
    return {"id": subject.id, "status": "erased", "erased_at": subject.erased_at}
