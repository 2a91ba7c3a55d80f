"""The closed set of reason codes a decision can give (documented in docs/reason-codes.md)."""

from enum import StrEnum


class Reason(StrEnum):
    NOT_PARTY_TO_PROTOCOL = "not_party_to_protocol"
    PARTY_SUSPENDED = "party_suspended"
    PROTOCOL_EXPIRED = "protocol_expired"
    PROTOCOL_NOT_ASSURED = "protocol_not_assured"
    PROTOCOL_SUSPENDED = "protocol_suspended"
    PURPOSE_NOT_IN_PROTOCOL = "purpose_not_in_protocol"
    PURPOSE_NOT_IN_TOKEN = "purpose_not_in_token"  # noqa: S105 (a reason code)
    PURPOSE_RESERVED = "purpose_reserved"
    CATEGORY_NOT_IN_PROTOCOL = "category_not_in_protocol"
    ROLE_NOT_GRANTED = "role_not_granted"
    CATEGORY_NOT_IN_FLOW = "category_not_in_flow"
    DIRECTION_NOT_PERMITTED = "direction_not_permitted"
    NO_CASE_RELATIONSHIP = "no_case_relationship"
    NO_CONSENT = "no_consent"
    CONSENT_NOT_YET_VALID = "consent_not_yet_valid"
    CONSENT_EXPIRED = "consent_expired"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    PURPOSE_NOT_CONSENTED = "purpose_not_consented"
    RECIPIENT_NOT_IN_CONSENT = "recipient_not_in_consent"
    CATEGORY_NOT_CONSENTED = "category_not_consented"
    CATEGORY_EXCLUDED_BY_CONSENT = "category_excluded_by_consent"
    EXPLICIT_CONSENT_REQUIRED = "explicit_consent_required"
    CONSENT_UNVERIFIED = "consent_unverified"
    OVERRIDE_NOT_PERMITTED = "override_not_permitted"
    OVERRIDE_EXPIRED = "override_expired"
    OVERRIDE_OUT_OF_SCOPE = "override_out_of_scope"
    SUBJECT_ERASED = "subject_erased"
    # The retention pass deleted this organisation's copy of the category (retention/service.py).
    RETENTION_DELETED = "retention_deleted"
    # Allowed, not a refusal: a write the caller's grant permits where no flow shares the
    # category onward for this purpose, so only the caller's organisation will see the entry.
    OWN_RECORD = "own_record"
    # A write, not a decision on a category: only the organisation that wrote an entry changes
    # its words (provenance: text is shared under its author's flows).
    NOT_AUTHOR_OF_ENTRY = "not_author_of_entry"
    # A write, not a decision on a category: a named recipient records the claimant's withdrawal
    # only of the part of a consent that reaches it; the same answer whether or not another
    # organisation it names is in the consent.
    WITHDRAWAL_SCOPE_NOT_YOURS = "withdrawal_scope_not_yours"
    # A write, not a decision on a category: only the receiving organisation records a
    # referral's appointment, attendance and outcome, and only the sender withdraws it.
    REFERRAL_STEP_NOT_YOURS = "referral_step_not_yours"
    # Not a decision on a category: the thing asked for is not there for this caller (an
    # assessment, an assessment proposal, or a referral the caller's organisation is not a
    # party to); the same answer whether it does not exist or is hidden.
    NO_SUCH_PROPOSAL = "no_such_proposal"
    NO_SUCH_ASSESSMENT = "no_such_assessment"
    NOT_RECIPIENT = "not_recipient"
    # A write refused because it was already done: a proposal accepted once is not accepted
    # again (its plan entry or referral already exists).
    ALREADY_ACCEPTED = "already_accepted"
    # Not a decision on a category: the claimant's case is closed, so its plan is read-only
    # until a case member reopens it.
    CASE_CLOSED = "case_closed"
    # Not a decision on a category: the retention pass has deleted an organisation's copy of
    # the claimant's data, so the closed case can no longer be reopened.
    RETENTION_STARTED = "retention_started"
    # Not a decision on a category: management information is produced only under the
    # `evaluation` purpose of a protocol the caller's organisation is party to that declares it
    # (with its own lawful basis).
    EVALUATION_NOT_DECLARED = "evaluation_not_declared"
    # Not a decision on a category: `evaluation` is for management information only (counts,
    # disclosure-controlled); it opens nothing about any one claimant, not even who they are.
    EVALUATION_NOT_CLAIMANT_DATA = "evaluation_not_claimant_data"
