"""Use cases for referrals (warm handovers), on the same access path as case plans.

A referral from the caller's organisation to another is allowed only when both hold:
- a protocol in force, to which both are active parties, has a flow from the caller's
  organisation to the recipient for the referral's purpose; and
- an active consent names the recipient for that purpose: the pure decision is asked what the
  recipient could read if it were a case member, and at least one category must rest on a
  consent.
The same basis is checked again when the recipient accepts, at every later step (booked,
attended, did not attend, completed), and whenever the inbox or the referral is read; a
referral whose basis is gone (consent withdrawn or expired, record erased) is suspended.
Withdrawing needs no basis: it discloses nothing and ends the handover.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime
from typing import Any

from caseshare.access import guards, services
from caseshare.access.context import RequestContext
from caseshare.access.decision import Decision, evaluate
from caseshare.audit.event_types import EventType
from caseshare.case_plan import referral_steps, referrals
from caseshare.case_plan.models import Referral, ReferralEvent
from caseshare.cases import service as cases
from caseshare.crypto.shreds import is_shredded
from caseshare.errors import ForbiddenError, NotFoundError, ValidationError
from caseshare.facts import Principal, SubjectFacts
from caseshare.notifications import service as notifications
from caseshare.policy.models import RESERVED_PURPOSES, ProtocolSet, usable_protocols
from caseshare.reasons import Reason
from caseshare.reminders import service as reminders
from caseshare.subjects import service as subjects
from caseshare.subjects.models import Subject


@dataclasses.dataclass(frozen=True)
class Basis:
    decision: Decision  # the consented categories the recipient could read
    protocol: str | None
    flow_id: str | None
    reasons: list[str]

    @property
    def holds(self) -> bool:
        return not self.reasons


def create_referral(ctx: RequestContext, subject_id: uuid.UUID,
                    values: dict[str, Any]) -> dict[str, Any]:
    values = services.referral_to_service(ctx, values)  # service_id checked, to_org from it
    _validate(ctx, values)
    subject, facts = guards.subject_in_case(ctx, subject_id)
    details = {"to_org": values["to_org"], "referral_purpose": values["purpose"]}
    refused = sender_reason(ctx.principal, ctx.purpose, ctx.protocols, ctx.now,
                            to_org=values["to_org"], purpose=values["purpose"])
    basis = referral_basis(ctx.protocols, ctx.now, facts, from_org=ctx.principal.org,
                           to_org=values["to_org"], purpose=values["purpose"])
    if refused is not None:
        basis = dataclasses.replace(basis, reasons=[refused])
    elif cases.is_closed(ctx.session, subject.id):  # a closed case takes no new referral
        basis = dataclasses.replace(basis, reasons=[str(Reason.CASE_CLOSED)])
    if not basis.holds:
        event = ctx.audit_refusal(EventType.REFERRAL_REFERRAL_CREATE, subject_id=subject.id,
                                  reasons=basis.reasons, details=details)
        raise ForbiddenError("The referral is not allowed.", reasons=basis.reasons,
                             audit_id=event.event_uuid)
    assert basis.protocol is not None and basis.flow_id is not None
    key = subjects.data_key(subject, ctx.keyring)
    referral = referrals.create_referral(
        ctx.session, subject_id=subject.id, data_key=key, principal=ctx.principal,
        values=values, protocol=basis.protocol, flow_id=basis.flow_id,
        consent_id=basis.decision.consent_ids[0], now=ctx.now)
    referral.respond_by = referral_steps.respond_by(ctx.now, ctx.protocols.response_days(
        basis.protocol))
    ctx.audit(EventType.REFERRAL_REFERRAL_CREATE, subject_id=subject.id, decision=basis.decision,
              outcome="allow", categories=sorted(basis.decision.permitted), reasons=[],
              details={**details, "referral_id": str(referral.id), "flow": basis.flow_id})
    notifications.notify(ctx.session, type="referral_received", org=referral.to_org,
                         now=ctx.now, subject_id=subject.id,
                         details={"referral_id": str(referral.id), "from_org": referral.from_org,
                                  "purpose": referral.purpose})
    return _present(ctx, referral, key)


def accept_referral(ctx: RequestContext, referral_id: uuid.UUID) -> dict[str, Any]:
    """The recipient accepts: it becomes a case member, if the basis still holds."""
    referral, subject, facts = _addressed_to_caller(ctx, referral_id,
                                                    EventType.REFERRAL_REFERRAL_ACCEPT)
    referrals.require_open(referral)
    if cases.is_closed(ctx.session, subject.id):  # no organisation joins a closed case
        guards.deny(ctx, EventType.REFERRAL_REFERRAL_ACCEPT, subject.id,
                    [str(Reason.CASE_CLOSED)], [], None)
    basis = _still_holds(ctx, facts, referral)
    if not basis.holds:
        # The refusal keeps the suspension it found due, with its audit event, before its own.
        ctx.keep_if_raised(lambda _session: _suspend(ctx, referral, basis))
        guards.deny(ctx, EventType.REFERRAL_REFERRAL_ACCEPT, subject.id, basis.reasons, [], None)
    referrals.accept(ctx.session, referral, principal=ctx.principal, now=ctx.now)
    subjects.add_case_member(ctx.session, subject_id=subject.id, org=referral.to_org,
                             now=ctx.now)
    key = subjects.data_key(subject, ctx.keyring)
    ctx.audit(EventType.REFERRAL_REFERRAL_ACCEPT, subject_id=subject.id, decision=basis.decision,
              outcome="allow", categories=sorted(basis.decision.permitted), reasons=[],
              details={"referral_id": str(referral.id), "joined_case": True})
    _tell_sender(ctx, referral)
    return _present(ctx, referral, key)


def decline_referral(ctx: RequestContext, referral_id: uuid.UUID, reason: str) -> dict[str, Any]:
    referral, subject, _facts = _addressed_to_caller(ctx, referral_id,
                                                     EventType.REFERRAL_REFERRAL_DECLINE)
    key = subjects.data_key(subject, ctx.keyring)
    referrals.decline(ctx.session, referral, data_key=key, principal=ctx.principal, reason=reason,
                      now=ctx.now)
    # The reason is sealed in the record; the audit event says only that one was given.
    ctx.audit(EventType.REFERRAL_REFERRAL_DECLINE, subject_id=subject.id, outcome="allow",
              details={"referral_id": str(referral.id)})
    _tell_sender(ctx, referral)
    return _present(ctx, referral, key)


def inbox(ctx: RequestContext, *, box: str, status: str | None, limit: int,
          cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """The referrals addressed to the caller's organisation (or sent by it, so the referrer
    sees the outcome). Each is checked again: content is shown only while its basis holds,
    and an open referral whose basis is gone is suspended now. Each names the claimant where
    the caller may see their identity (`claimant_name`), or says why not
    (`claimant_withheld`), and names the person who sent it (`sent_by`)."""
    rows, next_cursor = referrals.inbox(ctx.session, org=ctx.principal.org, box=box,
                                        status=status, limit=limit, cursor=cursor)
    events = referrals.events_of(ctx.session, [r.id for r in rows])
    contacts = referrals.staff_contacts(
        ctx.session, [i for r in rows for i in (r.created_by, r.decided_by)]
        + [e.actor_id for es in events.values() for e in es])
    items: list[dict[str, Any]] = []
    for referral in rows:
        subject = subjects.get_subject(ctx.session, referral.subject_id)
        facts = subjects.subject_facts(ctx.session, subject)
        basis = _still_holds(ctx, facts, referral)
        if not basis.holds and referral.status in referral_steps.IN_PROGRESS:
            _suspend(ctx, referral, basis)
            if status == "open":
                continue
        items.append(_read_one(ctx, referral, subject, facts, basis, contacts,
                               events.get(referral.id, [])))
    return items, next_cursor


def _read_one(ctx: RequestContext, referral: Referral, subject: Subject, facts: SubjectFacts,
              basis: Basis, contacts: dict[uuid.UUID, referrals.StaffContact],
              events: list[ReferralEvent] | None = None) -> dict[str, Any]:
    """One referral in a box: its sealed fields opened while its basis holds, the claimant's
    name where the caller may see it, one audit event for whatever was opened."""
    # A basis that holds means the claimant is not erased (referral_basis checks it).
    opens = basis.holds and referral.status != "suspended"
    key = subjects.data_key(subject, ctx.keyring) if opens else None
    name, withheld, decision = _claimant_name(ctx, referral, subject, facts, basis)
    if opens or name is not None:
        categories = set(basis.decision.permitted) if opens else set()
        ctx.audit(EventType.REFERRAL_REFERRAL_READ, subject_id=subject.id,
                  decision=basis.decision if opens else decision, outcome="allow",
                  categories=sorted(categories | ({"identity"} if name else set())), reasons=[],
                  details={"referral_id": str(referral.id), "claimant_named": name is not None})
    item = _present(ctx, referral, key, contacts, events)
    item["claimant_name"], item["claimant_withheld"] = name, withheld
    return item


def _claimant_name(ctx: RequestContext, referral: Referral, subject: Subject,
                   facts: SubjectFacts, basis: Basis) -> tuple[str | None, list[str], Decision]:
    """The claimant's name if the caller may see their identity, else the reasons why not.
    The recipient of an open referral reads under the referral's basis (what it could read
    once it accepts: a warm handover names the person); anyone else under their own decision
    for their declared purpose, as `access.subjects.read_subject` does. Identity is the lead
    organisation's record, so it must reach the caller from the lead."""
    if facts.erased or is_shredded(ctx.keyring, subject.id):
        return None, [str(Reason.SUBJECT_ERASED)], basis.decision
    if referral.status == "open" and referral.to_org == ctx.principal.org:
        decision, reasons = basis.decision, basis.reasons
    else:
        decision = guards.decide(ctx, facts, "read", ["identity"])
        reasons = decision.reasons
    identity = decision.permitted.get("identity")
    if identity is None or subject.lead_org_id not in identity.sources:
        return None, reasons or [str(Reason.DIRECTION_NOT_PERMITTED)], decision
    opened = subjects.open_identity(subject, ctx.keyring, {"identity"})
    name = " ".join(p for p in (opened.get("given_name"), opened.get("family_name")) if p)
    return name, [], decision


def list_for_subject(ctx: RequestContext, subject_id: uuid.UUID) -> list[dict[str, Any]]:
    """The claimant's referrals sent or received by the caller's organisation, for the
    overview: who, for what, status and dates only (the sealed message, contact and reasons
    stay in the inbox, where each is checked and audited as it is opened)."""
    subject, _facts = guards.subject_in_case(ctx, subject_id)
    rows = referrals.referrals_about(ctx.session, subject_id=subject.id, org=ctx.principal.org)
    ctx.audit(EventType.REFERRAL_REFERRAL_LIST, subject_id=subject.id, outcome="allow",
              details={"referrals": [str(r.id) for r in rows]})
    events = referrals.events_of(ctx.session, [r.id for r in rows])
    contacts = referrals.staff_contacts(
        ctx.session, [i for r in rows for i in (r.created_by, r.decided_by)]
        + [e.actor_id for es in events.values() for e in es])
    return [_present(ctx, r, None, contacts, events.get(r.id, [])) for r in rows]


@dataclasses.dataclass(frozen=True)
class Target:
    """An organisation a referral could go to, for a purpose (None: no referral flow reaches
    it at all), and the decision for this claimant: the reasons it may not (empty when it may)
    and what the organisation could read once it accepts (when it may)."""

    to_org: str
    purpose: str | None
    reasons: list[str]
    categories: list[str]

    @property
    def allowed(self) -> bool:
        return not self.reasons


def referral_targets(ctx: RequestContext, subject_id: uuid.UUID) -> list[Target]:
    """Where the caller could refer this claimant: every partner organisation and every purpose
    a referral flow carries from the caller's organisation to it, each with the same decision
    `create_referral` makes (the caller's own grants, the flow, the claimant's consent), so a
    page offers only what would be allowed and explains the rest. Nothing of the claimant is
    disclosed; the question is audited like any other explanation of a decision."""
    subject, facts = guards.subject_in_case(ctx, subject_id)
    if not facts.erased and is_shredded(ctx.keyring, facts.subject_id):
        facts = dataclasses.replace(facts, erased=True)
    me = ctx.principal.org
    usable, _why = usable_protocols(me, ctx.protocols, ctx.now)
    pairs = sorted({(to_org, purpose) for protocol in usable for flow in protocol.flows
                    if me in flow.from_orgs for to_org in flow.to_orgs
                    if to_org != me and protocol.party(to_org) is not None
                    for purpose in flow.purposes if purpose not in RESERVED_PURPOSES})
    targets = []
    for to_org, purpose in pairs:
        refused = sender_reason(ctx.principal, ctx.purpose, ctx.protocols, ctx.now,
                                to_org=to_org, purpose=purpose)
        basis = referral_basis(ctx.protocols, ctx.now, facts, from_org=me, to_org=to_org,
                               purpose=purpose)
        reasons = [refused] if refused is not None else basis.reasons
        targets.append(Target(to_org, purpose, reasons,
                              [] if reasons else sorted(basis.decision.permitted)))
    reached = {t.to_org for t in targets}
    partners = sorted({p.id for protocol in ctx.protocols.for_party(me)
                       for p in protocol.parties if p.id != me and p.id not in reached})
    targets += [Target(org, None, [str(Reason.DIRECTION_NOT_PERMITTED)], []) for org in partners]
    ctx.audit(EventType.ACCESS_DECISION_EXPLAIN, subject_id=subject.id, outcome="allow",
              details={"action": "refer",
                       "allowed": [f"{t.to_org}/{t.purpose}" for t in targets if t.allowed]})
    return targets


def suspend_where_basis_lost(ctx: RequestContext, subject_id: uuid.UUID) -> list[uuid.UUID]:
    """Suspend the subject's open referrals whose basis is gone, e.g. straight after a consent
    withdrawal, in the caller's unit of work (the caller commits). Without this call the same
    happens lazily, the next time the inbox is read or the referral is accepted."""
    subject = subjects.get_subject(ctx.session, subject_id)
    facts = subjects.subject_facts(ctx.session, subject)
    suspended = []
    for referral in referrals.open_referrals_of(ctx.session, subject_id):
        basis = _still_holds(ctx, facts, referral)
        if not basis.holds:
            _suspend(ctx, referral, basis)
            suspended.append(referral.id)
    return suspended


def sender_reason(principal: Principal, declared: str, protocols: ProtocolSet, now: datetime, *,
                  to_org: str, purpose: str) -> str | None:
    """Why the caller's own grants do not let them make this referral, or None. A referral
    hands claimant data over, so it is made under a declared purpose that opens claimant data
    (never the reserved `audit` / `subject_access`, which give audit metadata only), and in a
    protocol carrying the flow that grants the caller's role the declared purpose or the
    referral's purpose. (The declared purpose itself was checked by `require_purpose`; whether a
    flow exists at all is `referral_basis`'s question.) Pure."""
    if declared in RESERVED_PURPOSES:
        return str(Reason.PURPOSE_RESERVED)
    usable, _why = usable_protocols(principal.org, protocols, now)
    carrying = [
        protocol for protocol in usable if protocol.party(to_org) is not None
        and any(principal.org in flow.from_orgs and to_org in flow.to_orgs
                and purpose in flow.purposes for flow in protocol.flows)
    ]
    if carrying and not any(protocol.index.holds_purpose(principal.org, principal.roles, p)
                            for protocol in carrying for p in (declared, purpose)):
        return str(Reason.ROLE_NOT_GRANTED)
    return None


def referral_basis(protocols: ProtocolSet, now: datetime, facts: SubjectFacts, *,
                   from_org: str, to_org: str, purpose: str) -> Basis:
    """Is there a flow from `from_org` to `to_org` for `purpose`, and a consent naming
    `to_org` for it? Pure, like the decision it asks."""
    empty = Decision(purpose, "read")
    if from_org not in facts.case_orgs:
        return Basis(empty, None, None, [str(Reason.NO_CASE_RELATIONSHIP)])
    if facts.erased:
        return Basis(empty, None, None, [str(Reason.SUBJECT_ERASED)])
    usable, why = usable_protocols(from_org, protocols, now)
    flows = [
        (protocol, flow) for protocol in usable
        if (party := protocol.party(to_org)) is not None and party.status == "active"
        for flow in protocol.flows
        if from_org in flow.from_orgs and to_org in flow.to_orgs and purpose in flow.purposes
    ]
    if not flows:
        reasons = ([str(Reason.DIRECTION_NOT_PERMITTED)] if usable
                   else sorted({str(r) for r in why}) or [str(Reason.NOT_PARTY_TO_PROTOCOL)])
        return Basis(empty, None, None, reasons)
    roles = frozenset(
        role for protocol, _ in flows for grant in protocol.grants
        if to_org in grant.parties and purpose in grant.purposes for role in grant.roles
    )
    if not roles:
        return Basis(empty, flows[0][0].ref, flows[0][1].id, [str(Reason.ROLE_NOT_GRANTED)])
    recipient = Principal(actor_id=f"referral-recipient:{to_org}", actor_type="client",
                          org=to_org, roles=roles)
    as_member = dataclasses.replace(facts, case_orgs=facts.case_orgs | {to_org})
    categories = sorted({c for _, flow in flows for c in flow.categories})
    decision = evaluate(recipient, purpose, "read", categories, as_member, protocols, now)
    consented = tuple(c for c in decision.categories if c.allowed and c.consent_id is not None)
    protocol, flow = flows[0]
    if not consented:
        return Basis(empty, protocol.ref, flow.id, decision.reasons or [str(Reason.NO_CONSENT)])
    return Basis(Decision(purpose, "read", consented), protocol.ref, flow.id, [])


def _still_holds(ctx: RequestContext, facts: SubjectFacts, referral: Referral) -> Basis:
    if not facts.erased and is_shredded(ctx.keyring, facts.subject_id):
        facts = dataclasses.replace(facts, erased=True)  # a restored database: the register wins
    return referral_basis(ctx.protocols, ctx.now, facts, from_org=referral.from_org,
                          to_org=referral.to_org, purpose=referral.purpose)


def _validate(ctx: RequestContext, values: dict[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    to_org = values["to_org"]
    if not any(p.party(to_org) for p in ctx.protocols.protocols):
        errors["to_org"] = [f"Unknown organisation {to_org!r}."]
    elif to_org == ctx.principal.org:
        errors["to_org"] = ["A referral goes to another organisation."]
    purpose = values["purpose"]
    if purpose not in ctx.protocols.purposes or purpose in RESERVED_PURPOSES:
        errors["purpose"] = [f"Unknown purpose code {purpose!r}."]
    appointment: datetime | None = values.get("appointment_at")
    if appointment is not None and appointment <= ctx.now:
        errors["appointment_at"] = ["The appointment must be in the future."]
    if errors:
        raise ValidationError(errors)


def _addressed_to_caller(ctx: RequestContext, referral_id: uuid.UUID,
                         type: EventType) -> tuple[Referral, Any, SubjectFacts]:
    """A referral addressed to the caller's organisation; to anyone else it does not exist
    (the attempt is audited)."""
    referral = referrals.find_referral(ctx.session, referral_id)
    if referral is None or referral.to_org != ctx.principal.org:
        event = ctx.audit_refusal(type, subject_id=referral.subject_id if referral else None,
                                  reasons=[str(Reason.NOT_RECIPIENT)],
                                  details={"referral_id": str(referral_id)})
        raise NotFoundError("No such referral.", audit_id=event.event_uuid)
    subject, facts = guards.subject_in_case(ctx, referral.subject_id)
    return referral, subject, facts


def _suspend(ctx: RequestContext, referral: Referral, basis: Basis) -> None:
    referrals.suspend(ctx.session, referral, reasons=basis.reasons, now=ctx.now)
    reminders.cancel_for_referral(ctx.session, referral.id)
    ctx.audit(EventType.REFERRAL_REFERRAL_SUSPEND, subject_id=referral.subject_id, outcome="deny",
              reasons=basis.reasons, details={"referral_id": str(referral.id)})
    _tell_sender(ctx, referral)


def _tell_sender(ctx: RequestContext, referral: Referral) -> None:
    """`referral_updated` to the sending organisation, in the same unit of work: the new
    status, the referral's id and the receiving organisation's code (so the sender reads who
    took the step) only."""
    notifications.notify(ctx.session, type="referral_updated", org=referral.from_org,
                         now=ctx.now, subject_id=referral.subject_id,
                         details={"referral_id": str(referral.id), "status": referral.status,
                                  "to_org": referral.to_org})


def _present(ctx: RequestContext, referral: Referral, data_key: bytes | None,
             contacts: dict[uuid.UUID, referrals.StaffContact] | None = None,
             events: list[ReferralEvent] | None = None) -> dict[str, Any]:
    """A referral as the caller may see it: its plain fields, the sealed ones only given a data
    key, who sent it (name and work e-mail, how staff reach one another; None when a partner
    system sent it), its history (notes, appointment and place opened only with the key), the
    current appointment, whether it is overdue, and the steps the caller's side may take now."""
    if events is None:
        events = referrals.events_of(ctx.session, [referral.id]).get(referral.id, [])
    if contacts is None:
        contacts = referrals.staff_contacts(
            ctx.session, [referral.created_by, referral.decided_by] + [e.actor_id for e in events])
    out = referrals.open_referral(referral, data_key)
    sender = contacts.get(referral.created_by)
    out["sent_by"] = ({"name": sender.name, "email": sender.email, "org": referral.from_org}
                      if sender else None)
    out["timeline"] = referrals.timeline(referral, events, data_key=data_key,
                                         decline_reason=out["decline_reason"], names=contacts)
    booked = [t for t in out["timeline"] if t["type"] == "booked"]
    out["location"] = None
    if booked and booked[-1]["appointment_at"] is not None:
        out["appointment_at"] = booked[-1]["appointment_at"]
        out["location"] = booked[-1]["location"]
    out["overdue"] = referrals.is_overdue(referral, ctx.now)
    me = ctx.principal.org
    receiver, sender_side = referral.to_org == me, referral.from_org == me
    out["next_steps"] = ((["accept", "decline"] if receiver and referral.status == "open" else [])
                         + referral_steps.steps_open(referral.status, receiver=receiver,
                                                     sender=sender_side))
    return out


def get_referral(ctx: RequestContext, referral_id: uuid.UUID) -> dict[str, Any]:
    """One referral for either of its two organisations (anyone else: 404, audited), checked
    as the inbox checks it: content, notes and the appointment open only while its basis holds
    (an open one whose basis is gone is suspended now), the claimant named only where the
    caller may see them, and one audit event for whatever was opened."""
    referral = _party_referral(ctx, referral_id, EventType.REFERRAL_REFERRAL_READ)
    _require_purpose(ctx, referral, EventType.REFERRAL_REFERRAL_READ)
    subject = subjects.get_subject(ctx.session, referral.subject_id)
    facts = subjects.subject_facts(ctx.session, subject)
    basis = _still_holds(ctx, facts, referral)
    if not basis.holds and referral.status in referral_steps.IN_PROGRESS:
        _suspend(ctx, referral, basis)
    events = referrals.events_of(ctx.session, [referral.id]).get(referral.id, [])
    contacts = referrals.staff_contacts(
        ctx.session, [referral.created_by, referral.decided_by] + [e.actor_id for e in events])
    return _read_one(ctx, referral, subject, facts, basis, contacts, events)


STEP_EVENTS = {
    "booked": EventType.REFERRAL_REFERRAL_BOOK,
    "attended": EventType.REFERRAL_REFERRAL_ATTEND,
    "did_not_attend": EventType.REFERRAL_REFERRAL_MISS,
    "completed": EventType.REFERRAL_REFERRAL_COMPLETE,
    "withdrawn": EventType.REFERRAL_REFERRAL_WITHDRAW,
}


def record_step(ctx: RequestContext, referral_id: uuid.UUID,
                values: dict[str, Any]) -> dict[str, Any]:
    """Record the next step of a referral: booked (an appointment and its place), attended,
    did not attend, completed (an outcome code from the controlled list, and a note) by the
    receiving organisation; withdrawn by the sender. Checked in this order: a party to it
    (else 404), the values (422 naming the field), the caller's side (403
    `referral_step_not_yours`) and purpose, the order of steps (409), then, except for a
    withdrawal, the basis (lost: the referral is suspended, 403). The note, appointment and
    place are sealed; the audit event and the notification carry codes and ids only."""
    step = referrals.Step(type=values["type"], appointment_at=values.get("appointment_at"),
                          location=values.get("location"), outcome=values.get("outcome"),
                          note=values.get("note"))
    type = STEP_EVENTS[step.type]
    referral = _party_referral(ctx, referral_id, type)
    _validate_step(ctx, step)
    side = referral.from_org if referral_steps.party_for(step.type) == "sender" else referral.to_org
    if side != ctx.principal.org:
        guards.deny(ctx, type, referral.subject_id, [str(Reason.REFERRAL_STEP_NOT_YOURS)], [])
    _require_purpose(ctx, referral, type)
    subject, facts = guards.subject_in_case(ctx, referral.subject_id)
    referrals.require_may_follow(referral, step.type)
    basis = _still_holds(ctx, facts, referral)
    if not basis.holds and step.type != "withdrawn":
        ctx.keep_if_raised(lambda _session: _suspend(ctx, referral, basis))
        guards.deny(ctx, type, subject.id, basis.reasons, [], None)
    key = subjects.data_key(subject, ctx.keyring)
    referrals.record_step(ctx.session, referral, step, data_key=key, principal=ctx.principal,
                          now=ctx.now)
    if step.type == "booked" and step.appointment_at is not None:
        reminders.schedule_reminder(ctx.session, subject_id=subject.id, referral_id=referral.id,
                                    appointment_at=step.appointment_at, location=step.location,
                                    now=ctx.now, keyring=ctx.keyring)
    elif step.type in ("withdrawn", "completed"):
        reminders.cancel_for_referral(ctx.session, referral.id)
    ctx.audit(type, subject_id=subject.id, outcome="allow",
              details={"referral_id": str(referral.id), "status": referral.status,
                       **({"outcome": step.outcome} if step.outcome else {})})
    if step.type == "withdrawn":
        notifications.notify(ctx.session, type="referral_updated", org=referral.to_org,
                             now=ctx.now, subject_id=referral.subject_id,
                             details={"referral_id": str(referral.id),
                                      "status": referral.status,
                                      "from_org": referral.from_org})
    else:
        _tell_sender(ctx, referral)
    # The answer opens the referral's sealed content: through the same read (and its audit
    # event) as GET /referrals/{id}.
    events = referrals.events_of(ctx.session, [referral.id]).get(referral.id, [])
    contacts = referrals.staff_contacts(
        ctx.session, [referral.created_by, referral.decided_by] + [e.actor_id for e in events])
    return _read_one(ctx, referral, subject, facts, basis, contacts, events)


def _validate_step(ctx: RequestContext, step: referrals.Step) -> None:
    """What each step needs and takes: booked an appointment in the future and its place;
    completed an outcome code from the controlled list; the others neither."""
    errors: dict[str, list[str]] = {}
    booked, completed = step.type == "booked", step.type == "completed"
    if booked and step.appointment_at is None:
        errors["appointment_at"] = ["Required for booked."]
    elif booked and step.appointment_at is not None and step.appointment_at <= ctx.now:
        errors["appointment_at"] = ["The appointment must be in the future."]
    elif not booked and step.appointment_at is not None:
        errors["appointment_at"] = ["Only booked takes an appointment."]
    if booked and not step.location:
        errors["location"] = ["Required for booked."]
    elif not booked and step.location:
        errors["location"] = ["Only booked takes a location."]
    if completed and not step.outcome:
        errors["outcome"] = ["Required for completed."]
    elif completed and step.outcome not in referral_steps.outcomes():
        errors["outcome"] = [f"Unknown outcome code {step.outcome!r}."]
    elif not completed and step.outcome:
        errors["outcome"] = ["Only completed takes an outcome."]
    if errors:
        raise ValidationError(errors)


def _party_referral(ctx: RequestContext, referral_id: uuid.UUID, type: EventType) -> Referral:
    """A referral the caller's organisation sent or received; to anyone else it does not exist
    (the attempt is audited)."""
    referral = referrals.find_referral(ctx.session, referral_id)
    if referral is None or ctx.principal.org not in (referral.from_org, referral.to_org):
        event = ctx.audit_refusal(type, subject_id=referral.subject_id if referral else None,
                                  reasons=[str(Reason.NOT_RECIPIENT)],
                                  details={"referral_id": str(referral_id)})
        raise NotFoundError("No such referral.", audit_id=event.event_uuid)
    return referral


def _require_purpose(ctx: RequestContext, referral: Referral, type: EventType) -> None:
    """The caller works on a referral under a purpose that opens claimant data, with a role
    granted its declared purpose or the referral's in a protocol in force (403 otherwise)."""
    if ctx.purpose in RESERVED_PURPOSES:
        reason: str | None = str(Reason.PURPOSE_RESERVED)
    else:
        usable, _why = usable_protocols(ctx.principal.org, ctx.protocols, ctx.now)
        holds = any(protocol.index.holds_purpose(ctx.principal.org, ctx.principal.roles, p)
                    for protocol in usable for p in {ctx.purpose, referral.purpose})
        reason = None if holds else str(Reason.ROLE_NOT_GRANTED)
    if reason is not None:
        guards.deny(ctx, type, referral.subject_id, [reason], [])
