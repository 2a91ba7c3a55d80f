"""Use cases for referrals (warm handovers), on the same access path as case plans.

A referral from the caller's organisation to another is allowed only when both hold:
- a protocol in force, to which both are active parties, has a flow from the caller's
  organisation to the recipient for the referral's purpose; and
- an active consent names the recipient for that purpose: the pure decision is asked what the
  recipient could read if it were a case member, and at least one category must rest on a
  consent.
The same basis is checked again when the recipient accepts, and whenever the inbox is read; a
referral whose basis is gone (consent withdrawn or expired, record erased) is suspended.
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
from caseshare.case_plan import referrals
from caseshare.case_plan.models import Referral
from caseshare.crypto.shreds import is_shredded
from caseshare.errors import ForbiddenError, NotFoundError, ValidationError
from caseshare.facts import Principal, SubjectFacts
from caseshare.notifications import service as notifications
from caseshare.policy.models import RESERVED_PURPOSES, ProtocolSet, usable_protocols
from caseshare.reasons import Reason
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
    contacts = referrals.staff_contacts(
        ctx.session, [i for r in rows for i in (r.created_by, r.decided_by)])
    items: list[dict[str, Any]] = []
    for referral in rows:
        subject = subjects.get_subject(ctx.session, referral.subject_id)
        facts = subjects.subject_facts(ctx.session, subject)
        basis = _still_holds(ctx, facts, referral)
        if not basis.holds and referral.status == "open":
            _suspend(ctx, referral, basis)
            if status == "open":
                continue
        items.append(_read_one(ctx, referral, subject, facts, basis, contacts))
    return items, next_cursor


def _read_one(ctx: RequestContext, referral: Referral, subject: Subject, facts: SubjectFacts,
              basis: Basis, contacts: dict[uuid.UUID, referrals.StaffContact]) -> dict[str, Any]:
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
    item = _present(ctx, referral, key, contacts)
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
    contacts = referrals.staff_contacts(
        ctx.session, [i for r in rows for i in (r.created_by, r.decided_by)])
    return [_present(ctx, r, None, contacts) for r in rows]


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
                                  reasons=["not_recipient"],
                                  details={"referral_id": str(referral_id)})
        raise NotFoundError("No such referral.", audit_id=event.event_uuid)
    subject, facts = guards.subject_in_case(ctx, referral.subject_id)
    return referral, subject, facts


def _suspend(ctx: RequestContext, referral: Referral, basis: Basis) -> None:
    referrals.suspend(ctx.session, referral, reasons=basis.reasons, now=ctx.now)
    ctx.audit(EventType.REFERRAL_REFERRAL_SUSPEND, subject_id=referral.subject_id, outcome="deny",
              reasons=basis.reasons, details={"referral_id": str(referral.id)})
    _tell_sender(ctx, referral)


def _tell_sender(ctx: RequestContext, referral: Referral) -> None:
    """`referral_updated` to the sending organisation, in the same unit of work: the new
    status and the referral's id only."""
    notifications.notify(ctx.session, type="referral_updated", org=referral.from_org,
                         now=ctx.now, subject_id=referral.subject_id,
                         details={"referral_id": str(referral.id), "status": referral.status})


def _present(ctx: RequestContext, referral: Referral, data_key: bytes | None,
             contacts: dict[uuid.UUID, referrals.StaffContact] | None = None) -> dict[str, Any]:
    """A referral as the caller may see it: its plain fields, the sealed ones only given a data
    key, who sent it (name and work e-mail, how staff reach one another; None when a partner
    system sent it) and its status history."""
    if contacts is None:
        contacts = referrals.staff_contacts(ctx.session,
                                            [referral.created_by, referral.decided_by])
    out = referrals.open_referral(referral, data_key)
    sender = contacts.get(referral.created_by)
    out["sent_by"] = ({"name": sender.name, "email": sender.email, "org": referral.from_org}
                      if sender else None)
    out["timeline"] = referrals.timeline(referral, decline_reason=out["decline_reason"],
                                         names=contacts)
    return out
