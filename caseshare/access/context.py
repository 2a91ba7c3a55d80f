"""What one request carries through the access path, and the unit of work it runs in (no
Flask: the edges build it with `begin`).

    with begin(session, principal, purpose, scope, ...) as ctx:
        result = use_case(ctx, ...)

`begin` checks the scope and the purpose once, for the API and the pages alike. The context is
the request's unit of work: what the use case wrote is committed once, when the block ends;
a refusal is audited with `ctx.audit_refusal`, and when the block ends by raising, everything
else is rolled back and that event alone is committed before the refusal goes on up.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from caseshare import db
from caseshare.access.decision import Decision, purpose_reason
from caseshare.assessments.forms import FormSet as AssessmentFormSet
from caseshare.audit import service as audit
from caseshare.audit.event_types import EventType
from caseshare.audit.service import NewEvent
from caseshare.consent.forms import FormSet
from caseshare.crypto.keyring import KeyProvider
from caseshare.errors import ForbiddenError, ValidationError
from caseshare.facts import Principal
from caseshare.identity.service import MI_SCOPE
from caseshare.outcomes.codes import OutcomeCodes
from caseshare.policy.models import EVALUATION, ProtocolSet
from caseshare.reasons import Reason
from caseshare.unit_of_work import UnitOfWork


@dataclass
class RequestContext(UnitOfWork):
    """The request's values and its unit of work (see the module's docstring)."""

    session: Session
    principal: Principal
    purpose: str
    protocols: ProtocolSet
    forms: FormSet
    keyring: KeyProvider
    now: datetime
    request_id: str
    # The loaded assessment forms (assessment_forms/): values, like the protocols.
    assessment_forms: AssessmentFormSet = field(default_factory=lambda: AssessmentFormSet(()))
    # Each partnership's outcome codes (partnerships/): values, like the protocols.
    outcome_codes: OutcomeCodes = field(default_factory=OutcomeCodes)
    # Audit events held until `commit` while reading from a snapshot (`read_from_snapshot`).
    _held: list[NewEvent] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        UnitOfWork.__init__(self, self.session)

    def read_from_snapshot(self) -> None:
        """Declare that this unit of work writes nothing but its audit events. Where the database
        allows it (SQLite), it then reads from a snapshot without taking the write lock, and
        the commit (`write_pending`) writes the audit events in a short transaction of their
        own, so concurrent reads no longer queue behind one another's lock for the whole
        request. Nothing leaves before that commit. What is disclosed is what the database said
        when the request began reading: a withdrawal committed after that binds the next
        request, as on PostgreSQL."""
        if db.begin_snapshot(self.session):
            self._held = []

    def audit(
        self,
        type: EventType,
        *,
        subject_id: uuid.UUID | None = None,
        decision: Decision | None = None,
        outcome: str | None = None,
        categories: list[str] | None = None,
        reasons: list[str] | None = None,
        details: dict[str, Any] | None = None,
        consent_id: uuid.UUID | None = None,
        override_id: uuid.UUID | None = None,
    ) -> NewEvent:
        """Write an audit event for this request (in its unit of work, committed when the
        unit of work ends), filling the decision's ids and codes."""
        protocols = decision.protocols if decision else []
        consents = decision.consent_ids if decision else []
        overrides = decision.override_ids if decision else []
        extra = dict(details or {})
        if len(protocols) > 1:
            extra["protocols"] = protocols
        if len(consents) > 1:
            extra["consent_ids"] = [str(c) for c in consents]
        event = audit.new_event(
            type=type,
            now=self.now,
            principal=self.principal,
            purpose=self.purpose,
            subject_id=subject_id,
            categories=categories if categories is not None else [],
            decision=outcome,
            reasons=reasons if reasons is not None else (decision.reasons if decision else []),
            consent_id=consent_id or (consents[0] if consents else None),
            protocol=protocols[0] if protocols else None,
            override_id=override_id or (overrides[0] if overrides else None),
            request_id=self.request_id,
            details=extra,
        )
        if self._held is not None:
            self._held.append(event)
            return event
        try:
            audit.write(self.session, event)
        except SQLAlchemyError as exc:
            self._not_recorded(exc)
        return event

    def audit_refusal(
        self,
        type: EventType,
        *,
        outcome: str | None = "deny",
        subject_id: uuid.UUID | None = None,
        decision: Decision | None = None,
        categories: list[str] | None = None,
        reasons: list[str] | None = None,
        details: dict[str, Any] | None = None,
        consent_id: uuid.UUID | None = None,
        override_id: uuid.UUID | None = None,
    ) -> NewEvent:
        """Audit a refusal the caller is about to raise: written like any event, and kept if
        the unit of work ends by raising (everything else is rolled back, then this event is
        committed alone). Raise the refusal with the event's `event_uuid` as its audit id."""
        event = self.audit(type, subject_id=subject_id, decision=decision, outcome=outcome,
                           categories=categories, reasons=reasons, details=details,
                           consent_id=consent_id, override_id=override_id)
        self.keep_if_raised(lambda session: audit.write(session, event))
        return event

    def write_pending(self) -> None:
        """Write the audit events held while reading from a snapshot, in a short transaction
        of their own, committed before this returns (the unit of work's commit then finds
        nothing left to commit). The one place the held events are written."""
        held, self._held = self._held, None
        if held is not None:
            audit.write_after_snapshot(self.session, held)

    def rollback(self) -> None:
        """Undo what the unit of work wrote, held audit events included."""
        self._held = None
        super().rollback()

    def require_scope(self, scope: str, refusal: str) -> None:
        """The caller's token or role must carry `scope` (403, audited, saying `refusal`)."""
        if scope not in self.principal.scopes:
            event = self.audit_refusal(EventType.ACCESS_SCOPE_DENY, reasons=["insufficient_scope"],
                                       details={"scope": scope})
            raise ForbiddenError(refusal, reasons=["insufficient_scope"],
                                 audit_id=event.event_uuid)

    def require_purpose(self, scope: str) -> None:
        """The declared purpose must be known (422) and usable by this caller (403, audited)
        for what `scope` does: `evaluation` only for management information (`mi:read`)."""
        if not self.protocols.is_known_purpose(self.purpose):
            raise ValidationError({"purpose": [f"Unknown purpose code {self.purpose!r}."]})
        reason = purpose_reason(self.principal, self.purpose, self.protocols, self.now)
        if reason is None and self.purpose == EVALUATION and scope != MI_SCOPE:
            # Evaluation discloses no personal data: every use case but MI's is about one
            # claimant (or finds one), so it is refused here, in the one place every request
            # passes, before anything is read; a role holding both scopes gets no way round.
            reason = Reason.EVALUATION_NOT_CLAIMANT_DATA
        if reason is not None:
            event = self.audit_refusal(EventType.ACCESS_PURPOSE_DENY, reasons=[str(reason)],
                                       categories=[])
            raise ForbiddenError("Access denied.", reasons=[str(reason)],
                                 audit_id=event.event_uuid)


@contextmanager
def begin(session: Session, principal: Principal, purpose: str, scope: str, *,
          protocols: ProtocolSet, forms: FormSet, keyring: KeyProvider, now: datetime,
          request_id: str, scope_refusal: str | None = None,
          assessment_forms: AssessmentFormSet | None = None,
          outcome_codes: OutcomeCodes | None = None) -> Iterator[RequestContext]:
    """One request's unit of work: the context, its scope and purpose checked (refusals
    audited and committed), committed once when the block ends (see the module's docstring).
    `scope_refusal` is what a caller lacking `scope` is told."""
    with RequestContext(session=session, principal=principal, purpose=purpose,
                        protocols=protocols, forms=forms, keyring=keyring, now=now,
                        request_id=request_id,
                        assessment_forms=assessment_forms or AssessmentFormSet(()),
                        outcome_codes=outcome_codes or OutcomeCodes()) as ctx:
        ctx.require_scope(scope, scope_refusal or f"The token lacks the {scope} scope.")
        ctx.require_purpose(scope)
        yield ctx
