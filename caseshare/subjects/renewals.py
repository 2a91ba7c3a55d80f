"""Consents due for renewal: the current granted consents of claimants that are not erased,
for the organisation that owns their case (the subject's lead organisation) to renew."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from caseshare.consent import service as consents
from caseshare.consent.models import Consent, ConsentWithdrawal
from caseshare.subjects.models import Subject


def expiring_consents(session: Session, *, now: datetime, days: int, lead_org: str | None) -> list[
        tuple[Consent, list[ConsentWithdrawal], str, str]]:
    """Current, granted consents that end within `days`, for the case owner (lead org) to renew.
    Returns (consent, withdrawals, status, lead org)."""
    query = (
        select(Consent, Subject.lead_org_id)
        .join(Subject, Subject.id == Consent.subject_id)
        .where(Consent.decision == "granted", Consent.expires_at > now,
               Consent.expires_at <= now + timedelta(days=days), Subject.dek_wrapped.is_not(None))
        .order_by(Consent.expires_at)
    )
    if lead_org is not None:
        query = query.where(Subject.lead_org_id == lead_org)
    rows = session.execute(query).all()
    if not rows:
        return []
    ids = [c.id for c, _ in rows]
    newer = set(session.scalars(select(Consent.supersedes_id).where(
        Consent.supersedes_id.in_(ids))))
    withdrawals: dict[uuid.UUID, list[ConsentWithdrawal]] = {i: [] for i in ids}
    for w in session.scalars(select(ConsentWithdrawal).where(ConsentWithdrawal.consent_id.in_(ids))
                             .order_by(ConsentWithdrawal.withdrawn_at)):
        withdrawals[w.consent_id].append(w)
    out = []
    for consent, lead in rows:
        ws = withdrawals[consent.id]
        if consent.id in newer or consents.is_fully_withdrawn(consent, ws):
            continue
        out.append((consent, ws, consents.status_of(consent, ws, now, False), lead))
    return out
