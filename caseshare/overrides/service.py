"""Break-glass overrides: checking a request against the protocol's override rules, recording
it, and handing active overrides to the decision.

An override is personal (the requester only), bound to the subject, purpose, categories, the
protocols whose override rules permitted it and its time box. It replaces only the
lawful-basis layer (consent), and only on flows of those protocols. The decision still needs a
grant for the caller's role and a flow bringing the category to their organisation, and the
caller's organisation must be in the case: an override never reaches data the protocol does not
let flow.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Uuid, bindparam, select
from sqlalchemy.orm import Session

from caseshare.crypto.sealing import FieldRef, open_sealed, seal
from caseshare.errors import ConflictError, NotFoundError, ValidationError
from caseshare.facts import OverrideFacts, Principal
from caseshare.overrides.models import OverrideRecord
from caseshare.policy.models import Protocol, ProtocolSet, usable_protocols
from caseshare.reasons import Reason

DEFAULT_REVIEW_HOURS = 72
# Text that fills the box without explaining anything; reviewers see these every day.
_PLACEHOLDER = re.compile(
    r"lorem ipsum|\b(?:tbc|tbd|n/a|asdf|qwerty|placeholder|see above|as discussed|as above|"
    r"x{3,})\b",
    re.IGNORECASE,
)


class OverrideRefused(Exception):
    """The protocol does not let this caller break glass here; `reason` is a reason code."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class OverrideRequest:
    route: str
    justification: str
    categories: list[str]
    hours: int


def justification_problems(text: str, minimum: int) -> list[str]:
    stripped = " ".join(text.split())
    problems = []
    if len(stripped) < minimum:
        problems.append(f"Must be at least {minimum} characters (explain what happened, the "
                        "risk, and why consent cannot be sought).")
    words = re.findall(r"[A-Za-z']+", stripped.lower())
    if _PLACEHOLDER.search(stripped) and len(set(words)) < 25:
        problems.append("Looks like placeholder text; describe the actual situation.")
    elif words and len(set(words)) < max(5, len(words) // 4):
        problems.append("Repeats the same few words; describe the actual situation.")
    return problems


def _candidates(protocols: ProtocolSet, principal: Principal, purpose: str,
                now: datetime) -> list[Protocol]:
    usable, _why = usable_protocols(principal.org, protocols, now)
    return [p for p in usable if p.override.permitted and purpose in p.purposes]


def _reachable(protocol: Protocol, principal: Principal, purpose: str, category: str) -> bool:
    """Could an override make this category readable (grant for the role, inbound flow)?"""
    index = protocol.index
    return (index.grant_for(principal.org, principal.roles, purpose, "read", category) is not None
            and bool(index.inbound.get((principal.org, purpose, category))))


def choose_protocols(protocols: ProtocolSet, principal: Principal, purpose: str,
                     request: OverrideRequest, now: datetime) -> list[Protocol]:
    """Every protocol whose override rules allow this request (route, role, hours within its
    `max_hours`, justification, each category readable by the role through an inbound flow):
    the override is bound to these and opens nothing flowing under any other protocol.
    Raises OverrideRefused (403) when the caller may not break glass at all, ValidationError
    (422) when no protocol allows the request as made."""
    candidates = _candidates(protocols, principal, purpose, now)
    if not candidates:
        raise OverrideRefused(Reason.OVERRIDE_NOT_PERMITTED)
    by_route = [p for p in candidates if request.route in p.override.routes]
    if not by_route:
        routes = sorted({r for p in candidates for r in p.override.routes})
        raise ValidationError({"route": [
            f"Not a lawful route here; allowed: {', '.join(routes)}."]})
    by_role = [p for p in by_route if p.override.roles & principal.roles]
    if not by_role:
        raise OverrideRefused(Reason.ROLE_NOT_GRANTED)
    chosen: list[Protocol] = []
    first_errors: dict[str, list[str]] = {}
    for protocol in by_role:
        rule = protocol.override
        errors: dict[str, list[str]] = {}
        if request.hours > rule.max_hours:
            errors["hours"] = [f"At most {rule.max_hours} hours under {protocol.ref}."]
        if problems := justification_problems(request.justification, rule.min_justification):
            errors["justification"] = problems
        unreachable = [c for c in request.categories
                       if not _reachable(protocol, principal, purpose, c)]
        if unreachable:
            errors["categories"] = [f"Not available to your role for this purpose under "
                                    f"{protocol.ref}: {', '.join(sorted(unreachable))}."]
        if errors:
            first_errors = first_errors or errors
        else:
            chosen.append(protocol)
    if not chosen:
        raise ValidationError(first_errors)
    return chosen


def find_active(session: Session, *, subject_id: uuid.UUID, principal: Principal, purpose: str,
                categories: list[str], now: datetime) -> OverrideRecord | None:
    """The requester's own override of this subject and purpose, active now, covering any of
    these categories (a repeat would extend it, so it is refused instead)."""
    wanted = set(categories)
    found = session.scalars(
        select(OverrideRecord).where(
            OverrideRecord.subject_id == subject_id, OverrideRecord.org_id == principal.org,
            OverrideRecord.requested_by == principal.actor_id,
            OverrideRecord.purpose == purpose, OverrideRecord.starts_at <= now,
            OverrideRecord.expires_at > now)
        .order_by(OverrideRecord.created_at, OverrideRecord.id))
    return next((r for r in found if wanted & set(r.categories)), None)


def create_override(session: Session, *, subject_id: uuid.UUID, data_key: bytes,
                    dek_version: int, principal: Principal, purpose: str,
                    protocols: list[Protocol], request: OverrideRequest,
                    now: datetime) -> OverrideRecord:
    """Record a checked override (see choose_protocols), bound to the requester and to these
    protocols. Adds to the session; no commit."""
    override_id = uuid.uuid4()
    ref = _ref(override_id, subject_id, "justification")
    review_hours = min(p.override.review_within_hours or DEFAULT_REVIEW_HOURS for p in protocols)
    record = OverrideRecord(
        id=override_id, subject_id=subject_id, org_id=principal.org,
        requested_by=principal.actor_id, role=principal.role, purpose=purpose,
        route=request.route, categories=sorted(set(request.categories)),
        protocol=protocols[0].ref, protocols=[p.ref for p in protocols],
        justification_sealed=seal(data_key, dek_version, ref, request.justification),
        notify=sorted({n for p in protocols for n in p.override.notify}), created_at=now,
        starts_at=now, expires_at=now + timedelta(hours=request.hours),
        review_due_at=now + timedelta(hours=review_hours),
        status="pending_review",
    )
    session.add(record)
    session.flush()
    return record


_OVERRIDE_FACTS = (
    select(OverrideRecord.id, OverrideRecord.org_id, OverrideRecord.requested_by,
           OverrideRecord.purpose, OverrideRecord.categories, OverrideRecord.route,
           OverrideRecord.protocols, OverrideRecord.starts_at, OverrideRecord.expires_at)
    .where(OverrideRecord.subject_id == bindparam("subject_id", type_=Uuid()))
    .order_by(OverrideRecord.created_at, OverrideRecord.id)
)  # built once (composing it cost more than running it); the parameter typed, see read_model


def override_facts(session: Session, subject_id: uuid.UUID) -> tuple[OverrideFacts, ...]:
    """Every override of this subject, for the decision (expired ones explain a denial)."""
    return tuple(
        OverrideFacts(id=r.id, org=r.org_id, actor=r.requested_by, purpose=r.purpose,
                      categories=frozenset(r.categories), route=r.route,
                      protocols=frozenset(r.protocols), starts_at=r.starts_at,
                      expires_at=r.expires_at)
        for r in session.execute(_OVERRIDE_FACTS, {"subject_id": subject_id})
    )


def _ref(record_id: uuid.UUID, subject_id: uuid.UUID, field: str) -> FieldRef:
    return FieldRef(subject_id, "override", str(record_id), field, "override")


def reviewable_orgs(protocols: ProtocolSet, ig_org: str, now: datetime) -> frozenset[str]:
    """An IG officer reviews overrides of every party to the protocols their organisation is
    party to (the same reach as their view of the audit log)."""
    usable, _why = usable_protocols(ig_org, protocols, now)
    return frozenset(party.id for protocol in usable for party in protocol.parties)


def list_overrides(session: Session, *, orgs: frozenset[str],
                   status: str | None) -> list[OverrideRecord]:
    query = select(OverrideRecord).where(OverrideRecord.org_id.in_(sorted(orgs)))
    if status is not None:
        query = query.where(OverrideRecord.status == status)
    return list(session.scalars(query.order_by(OverrideRecord.review_due_at,
                                               OverrideRecord.id)))


def overrides_of_subject(session: Session, *, subject_id: uuid.UUID,
                         orgs: frozenset[str]) -> list[OverrideRecord]:
    """A claimant's overrides by these organisations, oldest first (for a subject access
    request)."""
    return list(session.scalars(
        select(OverrideRecord).where(OverrideRecord.subject_id == subject_id,
                                     OverrideRecord.org_id.in_(sorted(orgs)))
        .order_by(OverrideRecord.created_at, OverrideRecord.id)))


def get_override(session: Session, override_id: uuid.UUID,
                 orgs: frozenset[str]) -> OverrideRecord:
    record = session.get(OverrideRecord, override_id)
    if record is None or record.org_id not in orgs:
        raise NotFoundError("No such override.")
    return record


def open_justification(record: OverrideRecord, data_key: bytes) -> str:
    return open_sealed(data_key, _ref(record.id, record.subject_id, "justification"),
                       record.justification_sealed)


def review(session: Session, *, record: OverrideRecord, outcome: str, note: str,
           data_key: bytes, dek_version: int, reviewer: Principal, now: datetime) -> None:
    """Close the IG review item once; the note is sealed like the justification."""
    if record.status != "pending_review":
        raise ConflictError("This override has already been reviewed.")
    record.status = outcome
    record.reviewed_by = reviewer.actor_id
    record.reviewed_at = now
    record.review_note_sealed = seal(data_key, dek_version,
                                     _ref(record.id, record.subject_id, "review_note"), note)
    session.flush()


def open_review_note(record: OverrideRecord, data_key: bytes) -> str | None:
    if record.review_note_sealed is None:
        return None
    return open_sealed(data_key, _ref(record.id, record.subject_id, "review_note"),
                       record.review_note_sealed)
