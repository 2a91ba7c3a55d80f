"""What one request carries through the access path (no Flask: the API layer builds it)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NoReturn

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from caseshare import db
from caseshare.access.decision import Decision, Principal
from caseshare.audit import service as audit
from caseshare.audit.service import NewEvent
from caseshare.consent.forms import FormSet
from caseshare.crypto.keyring import KeyProvider
from caseshare.errors import AuditWriteError
from caseshare.policy.models import ProtocolSet


@dataclass
class RequestContext:
    session: Session
    principal: Principal
    purpose: str
    protocols: ProtocolSet
    forms: FormSet
    keyring: KeyProvider
    now: datetime
    request_id: str
    # Audit events held until `commit` while reading from a snapshot (`read_from_snapshot`).
    _held: list[NewEvent] | None = field(default=None, init=False, repr=False)

    def read_from_snapshot(self) -> None:
        """Declare that this unit of work writes nothing but its audit events. Where the database
        allows it (SQLite), it then reads from a snapshot without taking the write lock, and
        `commit` writes the audit events in a short transaction of their own, so concurrent
        reads no longer queue behind one another's lock for the whole request. Nothing leaves
        before that commit. What is disclosed is what the database said when the request began
        reading: a withdrawal committed after that binds the next request, as on PostgreSQL."""
        if db.begin_snapshot(self.session):
            self._held = []

    def audit(
        self,
        type: str,
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
        """Write an audit event for this request (in its transaction, committed by `commit`),
        filling the decision's ids and codes."""
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

    def commit(self) -> None:
        """Commit the unit of work with its audit events; if that fails, disclose nothing."""
        held, self._held = self._held, None
        try:
            if held is not None:
                audit.write_after_snapshot(self.session, held)
            self.session.commit()
        except SQLAlchemyError as exc:
            self._not_recorded(exc)

    def _not_recorded(self, exc: SQLAlchemyError) -> NoReturn:
        self.session.rollback()
        raise AuditWriteError("The action could not be recorded, so it was not done.") from exc
