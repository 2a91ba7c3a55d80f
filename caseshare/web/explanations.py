"""Plain-English sentences for every access reason code, with the next step a front-line worker
can take. One table, so the wording is reviewed in one place; a unit test keeps it complete.

Placeholders: {org} is the viewer's organisation, {category} the kind of information (lower
case description), {purpose} the purpose of the viewer's work.
"""

from __future__ import annotations

from dataclasses import dataclass

from caseshare.consent.lawful_basis import Basis
from caseshare.reasons import Reason


@dataclass(frozen=True)
class Explanation:
    sentence: str
    next_step: str


EXPLANATIONS: dict[Reason, Explanation] = {
    Reason.NOT_PARTY_TO_PROTOCOL: Explanation(
        "{org} has not signed an information sharing agreement that covers {category}.",
        "Ask your information governance officer whether an agreement can be put in place."),
    Reason.PARTY_SUSPENDED: Explanation(
        "Sharing with {org} is paused under the information sharing agreement.",
        "Ask your information governance officer when sharing will restart."),
    Reason.PROTOCOL_EXPIRED: Explanation(
        "The information sharing agreement that covered {category} has ended.",
        "Ask your information governance officer about renewing the agreement."),
    Reason.PROTOCOL_NOT_ASSURED: Explanation(
        "The information sharing agreement for {category} has not been quality assured yet.",
        "Ask your information governance officer when assurance will be complete."),
    Reason.PROTOCOL_SUSPENDED: Explanation(
        "The information sharing agreement for {category} is suspended.",
        "Ask your information governance officer why it is suspended and for how long."),
    Reason.PURPOSE_NOT_IN_PROTOCOL: Explanation(
        "The information sharing agreement does not allow sharing {category} for {purpose}.",
        "Choose a different purpose if it fits your work, or ask your information governance "
        "officer."),
    Reason.PURPOSE_NOT_IN_TOKEN: Explanation(
        "You have not been given {purpose} as a reason for your work in Caseshare.",
        "Choose another purpose, or ask your manager to review your access."),
    Reason.PURPOSE_RESERVED: Explanation(
        "{purpose} is reserved for information governance officers.",
        "Choose a purpose that describes your work with the claimant."),
    Reason.CATEGORY_NOT_IN_PROTOCOL: Explanation(
        "No information sharing agreement covers {category}.",
        "Ask the claimant directly, or ask the organisation that holds it to contact you."),
    Reason.ROLE_NOT_GRANTED: Explanation(
        "Your role at {org} is not given access to {category} for {purpose}.",
        "If you need it, ask the organisation that holds it to share what is relevant with you "
        "directly."),
    Reason.CATEGORY_NOT_IN_FLOW: Explanation(
        "The information sharing agreement does not send {category} to {org}.",
        "Ask the organisation that holds it to share what is relevant with you directly."),
    Reason.DIRECTION_NOT_PERMITTED: Explanation(
        "The information sharing agreement does not let {org} share {category} with other "
        "organisations for {purpose}.",
        "Ask the organisation that holds it to record it, or to share what is relevant with you "
        "directly."),
    Reason.NO_CASE_RELATIONSHIP: Explanation(
        "{org} is not yet involved in this claimant's case.",
        "Ask the lead organisation to refer the claimant to {org}."),
    Reason.NO_CONSENT: Explanation(
        "The claimant has not agreed to share {category} with {org}.",
        "Ask the claimant whether they agree to share {category} with {org}, and record their "
        "consent."),
    Reason.CONSENT_NOT_YET_VALID: Explanation(
        "The claimant's consent to share {category} with {org} has not started yet.",
        "Check the start date on the consent; you can see it from then."),
    Reason.CONSENT_EXPIRED: Explanation(
        "The claimant's consent to share {category} with {org} has expired.",
        "Ask the claimant to extend consent to {org}, and record the new consent."),
    Reason.CONSENT_WITHDRAWN: Explanation(
        "The claimant has withdrawn consent to share {category} with {org}.",
        "Respect the claimant's decision. Only ask again if the claimant raises it."),
    Reason.PURPOSE_NOT_CONSENTED: Explanation(
        "The claimant agreed to share {category}, but not for {purpose}.",
        "Ask the claimant whether they agree to share it for {purpose}, and record their "
        "consent."),
    Reason.RECIPIENT_NOT_IN_CONSENT: Explanation(
        "The claimant's consent does not name {org}.",
        "Ask the claimant to extend consent to {org}, and record the new consent."),
    Reason.CATEGORY_NOT_CONSENTED: Explanation(
        "The claimant's consent does not include {category}.",
        "Ask the claimant whether they agree to share {category}, and record their consent."),
    Reason.CATEGORY_EXCLUDED_BY_CONSENT: Explanation(
        "The claimant chose not to share {category}.",
        "Respect the claimant's decision. Only ask again if the claimant raises it."),
    Reason.EXPLICIT_CONSENT_REQUIRED: Explanation(
        "{category} is sensitive, so the claimant must explicitly agree to share it, and they "
        "have not.",
        "Ask the claimant whether they explicitly agree to share {category} with {org}, and "
        "record it with the explicit statement ticked."),
    Reason.CONSENT_UNVERIFIED: Explanation(
        "The claimant's consent was given verbally and has no evidence recorded yet.",
        "Record the evidence reference (for example a call reference) for the consent."),
    Reason.OVERRIDE_NOT_PERMITTED: Explanation(
        "The information sharing agreement does not allow {org} to use emergency access for "
        "{purpose}.",
        "If someone is at risk, follow your safeguarding procedure and speak to your "
        "safeguarding lead."),
    Reason.OVERRIDE_EXPIRED: Explanation(
        "The time-limited emergency access to {category} has ended.",
        "If there is still a safeguarding concern, speak to your safeguarding lead."),
    Reason.OVERRIDE_OUT_OF_SCOPE: Explanation(
        "The emergency access that was granted does not cover {category}.",
        "If there is a safeguarding concern about {category}, speak to your safeguarding lead."),
    Reason.OWN_RECORD: Explanation(
        "No information sharing agreement shares {category} from {org} with anyone else for "
        "{purpose}, so only {org} will see what you record.",
        "Record it for your own organisation's work. To share it, ask your information "
        "governance officer whether the agreement can include it."),
    Reason.RETENTION_DELETED: Explanation(
        "{org}'s copy of {category} for this claimant was deleted when the information "
        "sharing agreement's retention period ended.",
        "There is nothing more to see. If the case has started again, ask the organisation "
        "that recorded it to share it again, or speak to your information governance officer."),
    Reason.SUBJECT_ERASED: Explanation(
        "This claimant's information has been erased.",
        "There is nothing more to see. Speak to your information governance officer if this "
        "is unexpected."),
    Reason.NOT_AUTHOR_OF_ENTRY: Explanation(
        "Another organisation wrote this entry, so only they can change its words: they are "
        "shared only with the organisations it has agreed to share with.",
        "Change only the status, due date or organisation responsible, or add your own note."),
    Reason.WITHDRAWAL_SCOPE_NOT_YOURS: Explanation(
        "{org} can record the claimant's withdrawal only of what is shared with {org}.",
        "Record the withdrawal for {org}, and ask the claimant's lead organisation to record it "
        "for the other organisations."),
    Reason.REFERRAL_STEP_NOT_YOURS: Explanation(
        "Only the organisation that received a referral records its appointment, attendance "
        "and outcome, and only the organisation that sent it withdraws it.",
        "Ask the other organisation to record this step."),
    Reason.NO_SUCH_PROPOSAL: Explanation(
        "This proposal is not there for you.",
        "Open the claimant's assessment history to find the assessment."),
    Reason.NO_SUCH_ASSESSMENT: Explanation(
        "This assessment is not there for you.",
        "Open the claimant's assessment history to find the assessment."),
    Reason.NOT_RECIPIENT: Explanation(
        "{org} neither sent nor received this referral.",
        "Ask the organisation the referral was sent to."),
    Reason.ALREADY_ACCEPTED: Explanation(
        "This proposal has already been accepted, so its action or referral already exists.",
        "Follow it up on the claimant's plan or in your organisation's referrals."),
    Reason.CASE_CLOSED: Explanation(
        "This claimant's case is closed, so its plan and case details cannot be changed.",
        "If work with the claimant starts again, reopen the case from their overview."),
    Reason.EVALUATION_NOT_DECLARED: Explanation(
        "Outcome figures are only produced for evaluation, and no information sharing "
        "agreement your organisation is part of allows that.",
        "Ask your information governance officer whether your partnership's agreement should "
        "include evaluation."),
    Reason.EVALUATION_NOT_CLAIMANT_DATA: Explanation(
        "You are using Caseshare for evaluation, which gives outcome figures only: no "
        "claimant's details, plan, records or outcomes can be looked at for it.",
        "Use the management information pages, or sign in again for the purpose of your "
        "work with the claimant if your role has one."),
    Reason.RETENTION_STARTED: Explanation(
        "This case cannot be reopened: the retention period has passed and some of the "
        "claimant's information has already been deleted.",
        "Register the claimant again and record a new consent if work starts again."),
}

UNKNOWN = Explanation(
    "{category} is not available to you.",
    "Ask your information governance officer why.")


def explain(reason: str, *, org: str, category: str, purpose: str) -> Explanation:
    """The sentence and next step for one reason code, filled in for this viewer."""
    try:
        template = EXPLANATIONS[Reason(reason)]
    except ValueError:
        template = UNKNOWN
    values = {"org": org, "category": category, "purpose": purpose}
    return Explanation(_sentence_case(template.sentence.format(**values)),
                       _sentence_case(template.next_step.format(**values)))


def _sentence_case(text: str) -> str:
    return text[:1].upper() + text[1:]


def basis_sentences(basis: Basis) -> list[str]:
    """The lawful basis and retention of one recipient's share, in plain English for staff:
    the Article 6 basis, the Article 9 condition for special categories, the statutory function
    of the purpose, and how long the recipient keeps it."""
    said = []
    if basis.art6_basis:
        said.append(f"Lawful basis (UK GDPR Article 6): {basis.art6_basis}.")
    if basis.art9_condition:
        said.append(f"Special category condition (UK GDPR Article 9): {basis.art9_condition}.")
    said += [f"Statutory function: {f}." for f in basis.statutory_functions]
    if basis.retention_days:
        said.append(f"Kept for {basis.retention_days} days after the case closes or consent "
                    "ends.")
    return said
