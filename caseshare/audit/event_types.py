"""Every audit event type, one member each: `source:subject:action` (as warehouse's `EventTag`).

`source` is the package or layer that writes the event, `subject` what it is about, `action` what
happened; words are joined with `_`. A decision is an event with `decision` allow or deny, never a
type of its own: a refused sign-in is `identity:session:start` with decision deny.

Writers take an `EventType` (audit/service.py refuses anything else). `RENAMED` maps the types
that drifted to the one name each now has; events already in the log keep the type they were
written with (it is covered by their leaf hash), so readers of old events may meet the old names.
docs/audit.md lists the renames.
"""

from __future__ import annotations

from enum import StrEnum, unique

__all__ = ["RENAMED", "EventType"]


@unique
class EventType(StrEnum):
    """An audit event's type."""

    # access
    ACCESS_AUDIT_DENY = "access:audit:deny"
    ACCESS_CONSENT_DENY = "access:consent:deny"
    ACCESS_DECISION_EXPLAIN = "access:decision:explain"
    ACCESS_OVERRIDE_DENY = "access:override:deny"
    ACCESS_OVERRIDE_GRANT = "access:override:grant"
    ACCESS_OVERRIDE_LIST = "access:override:list"
    ACCESS_OVERRIDE_READ = "access:override:read"
    ACCESS_OVERRIDE_REVIEW = "access:override:review"
    ACCESS_PURPOSE_DENY = "access:purpose:deny"
    ACCESS_REPORT_WHO_HAS_SEEN = "access:report:who_has_seen"
    ACCESS_SCOPE_DENY = "access:scope:deny"
    ACCESS_SUBJECT_DENY = "access:subject:deny"
    ACCESS_WRITE_DENY = "access:write:deny"

    # assessments
    ASSESSMENTS_ASSESSMENT_CREATE = "assessments:assessment:create"
    ASSESSMENTS_ASSESSMENT_LIST = "assessments:assessment:list"
    ASSESSMENTS_PROPOSAL_ACCEPT = "assessments:proposal:accept"

    # audit
    AUDIT_CHECKPOINT_READ = "audit:checkpoint:read"
    AUDIT_EVENTS_QUERY = "audit:events:query"
    AUDIT_LOG_VERIFY = "audit:log:verify"
    AUDIT_PROOF_CONSISTENCY = "audit:proof:consistency"
    AUDIT_PROOF_INCLUSION = "audit:proof:inclusion"
    AUDIT_REPORT_ACCESS = "audit:report:access"
    AUDIT_REPORT_UNUSUAL_ACCESS = "audit:report:unusual_access"
    AUDIT_SUMMARY_READ = "audit:summary:read"

    # case_plan
    CASE_PLAN_ENTRY_CREATE = "case_plan:entry:create"
    CASE_PLAN_ENTRY_HISTORY = "case_plan:entry:history"
    CASE_PLAN_ENTRY_UPDATE = "case_plan:entry:update"
    CASE_PLAN_PLAN_CREATE = "case_plan:plan:create"
    CASE_PLAN_PLAN_READ = "case_plan:plan:read"

    # cases (the case around a claimant: lead worker, review date, closure)
    CASES_CASE_CLOSE = "cases:case:close"
    CASES_CASE_READ = "cases:case:read"
    CASES_CASE_REOPEN = "cases:case:reopen"
    CASES_LEAD_WORKER_CHANGE = "cases:lead_worker:change"
    CASES_REVIEW_DATE_SET = "cases:review_date:set"

    # conferences
    CONFERENCES_CONFERENCE_CREATE = "conferences:conference:create"
    CONFERENCES_CONFERENCE_LIST = "conferences:conference:list"
    CONFERENCES_CONFERENCE_READ = "conferences:conference:read"

    # consent
    CONSENT_FHIR_EXPORT = "consent:fhir:export"
    CONSENT_NOTIFICATION_LIST = "consent:notification:list"
    CONSENT_NOTIFICATION_READ = "consent:notification:read"
    CONSENT_RECEIPT_EXPORT = "consent:receipt:export"
    CONSENT_RECORD_CREATE = "consent:record:create"
    CONSENT_RECORD_EXPIRING = "consent:record:expiring"
    CONSENT_RECORD_LIST = "consent:record:list"
    CONSENT_RECORD_SEAL_LEGACY = "consent:record:seal_legacy"
    CONSENT_RECORD_WITHDRAW = "consent:record:withdraw"

    # crypto
    CRYPTO_DEK_REWRAP = "crypto:dek:rewrap"
    CRYPTO_KEK_RETIRE = "crypto:kek:retire"
    CRYPTO_KEK_ROTATE = "crypto:kek:rotate"
    CRYPTO_SHRED_RECONCILE = "crypto:shred:reconcile"

    # directory
    DIRECTORY_FEED_IMPORT = "directory:feed:import"

    # identity
    IDENTITY_SESSION_END = "identity:session:end"
    IDENTITY_SESSION_START = "identity:session:start"
    IDENTITY_STAFF_DISABLE = "identity:staff:disable"
    IDENTITY_STAFF_ENABLE = "identity:staff:enable"
    IDENTITY_STAFF_PASSWORD = "identity:staff:password"  # noqa: S105 (a type, no secret)
    IDENTITY_STAFF_TOTP_ENROL = "identity:staff:totp_enrol"
    IDENTITY_STAFF_UPSERT = "identity:staff:upsert"
    IDENTITY_TOKEN_ISSUE = "identity:token:issue"  # noqa: S105 (a type, no secret)
    IDENTITY_TOKEN_REVOKE = "identity:token:revoke"  # noqa: S105 (a type, no secret)

    # mi (management information: disclosure-controlled counts only; details never hold counts
    # of people, only the range, the grouping and the number of cells)
    MI_OUTCOMES_QUERY = "mi:outcomes:query"
    # The funding view (access/funding.py): the period and partnerships, never a count.
    MI_FUNDING_QUERY = "mi:funding:query"
    # operations
    OPERATIONS_DATABASE_BACKUP = "operations:database:backup"
    # A scheduled job's run that counted something or failed (caseshare/jobs/runner.py).
    JOB_RUN = "operations:job:run"

    # outcomes (recorded outcomes of a claimant, with their attribution)
    OUTCOMES_OUTCOME_LIST = "outcomes:outcome:list"
    OUTCOMES_OUTCOME_RECORD = "outcomes:outcome:record"
    # policy
    POLICY_PROTOCOL_LOAD = "policy:protocol:load"

    # referral
    REFERRAL_REFERRAL_ACCEPT = "referral:referral:accept"
    REFERRAL_REFERRAL_ATTEND = "referral:referral:attend"
    REFERRAL_REFERRAL_BOOK = "referral:referral:book"
    REFERRAL_REFERRAL_COMPLETE = "referral:referral:complete"
    REFERRAL_REFERRAL_CREATE = "referral:referral:create"
    REFERRAL_REFERRAL_DECLINE = "referral:referral:decline"
    REFERRAL_REFERRAL_LIST = "referral:referral:list"
    REFERRAL_REFERRAL_MISS = "referral:referral:miss"  # did not attend
    REFERRAL_REFERRAL_OVERDUE = "referral:referral:overdue"
    REFERRAL_REFERRAL_READ = "referral:referral:read"
    REFERRAL_REFERRAL_SUSPEND = "referral:referral:suspend"
    REFERRAL_REFERRAL_WITHDRAW = "referral:referral:withdraw"

    # retention (deletion certificates: codes and ids only; legal holds by IG officers)
    LEGAL_HOLD_LIFTED = "retention:legal_hold:lift"
    LEGAL_HOLD_PLACED = "retention:legal_hold:place"
    RETENTION_CATEGORY_PURGED = "retention:category:purged"
    RETENTION_COPY_DELETED = "retention:copy:deleted"
    RETENTION_DELETED_LIST = "retention:deleted_copy:list"
    RETENTION_DUE_LIST = "retention:due:list"
    RETENTION_HOLD_LIST = "retention:legal_hold:list"
    RETENTION_PASS_RUN = "retention:pass:run"  # noqa: S105 (a type, no secret)
    RETENTION_SUBJECT_SHREDDED = "retention:subject:shredded"

    # support_records (housing and money records; docs/housing-money.md)
    SUPPORT_RECORDS_APA_ARREARS_ALERT = "support_records:apa:arrears_alert"
    SUPPORT_RECORDS_OUTCOME_COMPUTE = "support_records:outcome:compute"
    SUPPORT_RECORDS_RECORD_CREATE = "support_records:record:create"
    SUPPORT_RECORDS_RECORD_HISTORY = "support_records:record:history"
    SUPPORT_RECORDS_RECORD_LIST = "support_records:record:list"
    SUPPORT_RECORDS_RECORD_READ = "support_records:record:read"
    SUPPORT_RECORDS_RECORD_UPDATE = "support_records:record:update"
    SUPPORT_RECORDS_SNAPSHOT_CREATE = "support_records:tenancy_snapshot:create"

    # subject
    REMINDERS_CONTACT_PREFERENCE_READ = "reminders:contact_preference:read"
    REMINDERS_CONTACT_PREFERENCE_RECORD = "reminders:contact_preference:record"
    REMINDERS_CONTACT_PREFERENCE_WITHDRAW = "reminders:contact_preference:withdraw"
    REMINDERS_MESSAGE_SEND = "reminders:message:send"
    REMINDERS_MESSAGE_SEND_ATTEMPT = "reminders:message:send_attempt"
    REMINDERS_OUTBOX_LIST = "reminders:outbox:list"

    SUBJECT_CASELOAD_LIST = "subject:caseload:list"
    SUBJECT_IDENTITY_READ = "subject:identity:read"
    SUBJECT_RECORD_CREATE = "subject:record:create"
    SUBJECT_RECORD_ERASE = "subject:record:erase"
    SUBJECT_RECORD_ERASE_FAILED = "subject:record:erase_failed"
    SUBJECT_RECORD_ERASE_REAPPLIED = "subject:record:erase_reapplied"
    SUBJECT_SAR_EXPORT = "subject:sar:export"
    SUBJECT_SEARCH_NAME_DOB = "subject:search:name_dob"
    SUBJECT_SEARCH_NINO = "subject:search:nino"


# Old type -> its one name now (the drift fixed in issue 19). A sign-in through Caseshare's own
# OpenID provider was `identity:sign-in:success|fail|end`; it is a staff session like any other
# (`identity:session:start` with decision allow or deny, `identity:session:end`). Enrolling an
# authenticator was `identity:totp:enrol` on the web and `identity:staff:totp-enrol` from the
# command line. A refusal by the IG officer's path into the log was `audit:access:deny`; every
# other refusal by the access layer is `access:<what>:deny`.
RENAMED: dict[str, EventType] = {
    "identity:totp:enrol": EventType.IDENTITY_STAFF_TOTP_ENROL,
    "identity:staff:totp-enrol": EventType.IDENTITY_STAFF_TOTP_ENROL,
    "identity:sign-in:fail": EventType.IDENTITY_SESSION_START,
    "identity:sign-in:success": EventType.IDENTITY_SESSION_START,
    "identity:sign-in:end": EventType.IDENTITY_SESSION_END,
    "audit:access:deny": EventType.ACCESS_AUDIT_DENY,
}
