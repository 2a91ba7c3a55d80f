"""The next step for a proposal that is not allowed, in plain words built from its reason
codes: what the worker can do about it ("Ask the claimant to add Citizens Advice Derby for
budgeting support"). Pure; staff-facing English (Welsh for staff pages is a later issue).
"""

from __future__ import annotations

from caseshare.reasons import Reason

# Reasons the claimant's consent answers: the claimant can change it.
CONSENT_REASONS = frozenset({
    Reason.NO_CONSENT, Reason.RECIPIENT_NOT_IN_CONSENT, Reason.PURPOSE_NOT_CONSENTED,
    Reason.CATEGORY_NOT_CONSENTED, Reason.CATEGORY_EXCLUDED_BY_CONSENT, Reason.CONSENT_EXPIRED,
    Reason.CONSENT_WITHDRAWN, Reason.CONSENT_NOT_YET_VALID,
})
EXPLICIT_REASONS = frozenset({Reason.EXPLICIT_CONSENT_REQUIRED, Reason.CONSENT_UNVERIFIED})
# Reasons only an information sharing agreement answers.
AGREEMENT_REASONS = frozenset({
    Reason.NOT_PARTY_TO_PROTOCOL, Reason.PARTY_SUSPENDED, Reason.PROTOCOL_EXPIRED,
    Reason.PROTOCOL_NOT_ASSURED, Reason.PROTOCOL_SUSPENDED, Reason.PURPOSE_NOT_IN_PROTOCOL,
    Reason.CATEGORY_NOT_IN_PROTOCOL, Reason.ROLE_NOT_GRANTED, Reason.CATEGORY_NOT_IN_FLOW,
    Reason.DIRECTION_NOT_PERMITTED,
})

# How a purpose reads in "for ..." (a purpose code with no entry reads as its words).
PURPOSE_WORDS = {
    "budgeting_support": "budgeting support",
    "tenancy_sustainment": "help to keep their home",
    "case_management": "their support plan",
    "recovery_support": "recovery support",
    "triage": "assessing their needs",
}


def purpose_words(purpose: str) -> str:
    return PURPOSE_WORDS.get(purpose, purpose.replace("_", " "))


def referral_step(reasons: list[str], *, org_name: str, purpose: str, own_org: bool) -> str:
    """The next step for a referral proposal to `org_name` for `purpose` refused for
    `reasons` (empty when it is allowed)."""
    words = purpose_words(purpose)
    if own_org:
        return (f"This proposal is for your own organisation: add an action to the plan for "
                f"{words} instead of a referral.")
    if not reasons:
        return f"Accept to refer the claimant to {org_name} for {words}."
    codes = set(reasons)
    if codes & CONSENT_REASONS:
        return (f"Ask the claimant to add {org_name} for {words} to their consent, and record "
                f"the new consent.")
    if codes & EXPLICIT_REASONS:
        return (f"Ask the claimant whether they explicitly agree to share this with {org_name} "
                f"for {words}, and record their consent.")
    if codes & AGREEMENT_REASONS:
        return (f"No information sharing agreement lets you refer to {org_name} for {words}. "
                f"Ask your information governance officer, or refer another way.")
    return f"This referral cannot be made now ({', '.join(sorted(codes))})."


def action_step(reasons: list[str], *, category: str, purpose: str) -> str:
    """The next step for an action proposal in `category` (its description, lower case) refused
    for `reasons` (empty when it is allowed)."""
    words = purpose_words(purpose)
    if not reasons or reasons == [Reason.OWN_RECORD.value]:
        return "Accept to add this action to the claimant's plan."
    codes = set(reasons)
    if codes & EXPLICIT_REASONS:
        return (f"Ask the claimant whether they explicitly agree to share {category} for "
                f"{words}, and record their consent.")
    if codes & CONSENT_REASONS:
        return (f"Ask the claimant whether they agree to share {category} for {words}, and "
                f"record their consent.")
    if codes & AGREEMENT_REASONS:
        return (f"Your organisation's information sharing agreements do not let you record "
                f"{category} for {words}. Ask your information governance officer.")
    return f"This action cannot be added now ({', '.join(sorted(codes))})."
