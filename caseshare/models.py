"""Import every model module so that Base.metadata is complete (Alembic, tests)."""

from caseshare.assessments import models as assessment_models
from caseshare.audit import models as audit_models
from caseshare.case_plan import models as case_plan_models
from caseshare.cases import models as case_models
from caseshare.conferences import models as conference_models
from caseshare.consent import models as consent_models
from caseshare.db import Base
from caseshare.directory import models as directory_models
from caseshare.identity import models as identity_models
from caseshare.jobs import models as job_models
from caseshare.notifications import models as notification_models
from caseshare.outcomes import models as outcome_models
from caseshare.overrides import models as override_models
from caseshare.reminders import models as reminder_models
from caseshare.retention import models as retention_models
from caseshare.subjects import models as subject_models
from caseshare.support_records import models as support_record_models

__all__ = [
    "Base",
    "assessment_models",
    "audit_models",
    "case_models",
    "case_plan_models",
    "conference_models",
    "consent_models",
    "directory_models",
    "identity_models",
    "job_models",
    "notification_models",
    "outcome_models",
    "override_models",
    "reminder_models",
    "retention_models",
    "subject_models",
    "support_record_models",
]
