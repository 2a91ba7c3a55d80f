"""What the app holds for its lifetime: settings, database, loaded rules and keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from caseshare.assessments.forms import FormSet as AssessmentFormSet
from caseshare.audit.signer import AuditSigner
from caseshare.config import Settings
from caseshare.consent.forms import FormSet
from caseshare.crypto.keyring import KeyProvider
from caseshare.identity.token_cache import VerifiedTokens
from caseshare.identity.tokens import TokenKeys
from caseshare.mi.funding import FundingAgreement
from caseshare.outcomes.codes import OutcomeCodes
from caseshare.policy.models import ProtocolSet


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    protocols: ProtocolSet
    forms: FormSet
    assessment_forms: AssessmentFormSet
    keyring: KeyProvider
    token_keys: TokenKeys
    audit_signer: AuditSigner
    verified_tokens: VerifiedTokens
    outcome_codes: OutcomeCodes
    # Each partnership's funding agreement (partnerships/<protocol-id>/funding.yaml).
    funding: dict[str, FundingAgreement]

    def now(self) -> datetime:
        return self.settings.clock()
