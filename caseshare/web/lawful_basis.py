"""The lawful basis and retention behind "who will see this": for the signed-in user's
organisation, purpose and one category, what each recipient's share rests on in law and how
long the recipient keeps it (consent.lawful_basis, worded by explanations.basis_sentences). A
template global, so the plan pages' audience lines can say it without a new use case: it reads
only the loaded protocols, never claimant data."""

from __future__ import annotations

from typing import Any

from flask import g

from caseshare.consent.lawful_basis import bases_for
from caseshare.retention.schedule import DEFAULT_RETENTION_DAYS
from caseshare.web.blueprint import bp, runtime
from caseshare.web.explanations import basis_sentences


def recipient_basis(to_org: str, category: str) -> list[str]:
    """Sentences for `to_org` receiving `category` from the user's organisation for the user's
    purpose (empty when no flow carries it, or nobody is signed in)."""
    u = g.get("web_user")
    if u is None or u.purpose is None:
        return []
    found = bases_for(runtime().protocols, org=to_org, purposes=[u.purpose],
                      categories=[category], default_retention_days=DEFAULT_RETENTION_DAYS,
                      from_org=u.principal.org)
    return [sentence for basis in found for sentence in basis_sentences(basis)]


@bp.app_context_processor
def _lawful_basis() -> dict[str, Any]:
    return {"recipient_basis": recipient_basis}
