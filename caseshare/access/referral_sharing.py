"""Minimum-necessary referral: before a referral is sent, exactly which kinds of information
about this claimant the receiving organisation will be able to read once it accepts, for the
referral's purpose, and which it will not, each with its reason codes.

The answer is the pure decision (`access.decision.evaluate`) asked as `create_referral`'s basis
asks it: the receiving organisation as a case member, with the roles the protocols grant it for
that purpose, over every category the caller's protocols declare. Only category codes and
reason codes come back, never the claimant's data; the question is audited like any other
explanation of a decision (`access:decision:explain`)."""

from __future__ import annotations

import dataclasses
import uuid

from caseshare.access import guards
from caseshare.access.context import RequestContext
from caseshare.access.decision import evaluate
from caseshare.audit.event_types import EventType
from caseshare.crypto.shreds import is_shredded
from caseshare.facts import Principal, SubjectFacts
from caseshare.policy.models import Protocol, usable_protocols
from caseshare.reasons import Reason


@dataclasses.dataclass(frozen=True)
class Withheld:
    category: str
    reasons: list[str]


@dataclasses.dataclass(frozen=True)
class Sharing:
    """What `to_org` will and will not be able to read for `purpose`."""

    to_org: str
    purpose: str
    readable: list[str]
    not_readable: list[Withheld]


def referral_sharing(ctx: RequestContext, subject_id: uuid.UUID,
                     targets: list[tuple[str, str]]) -> list[Sharing]:
    """For each (organisation, purpose) in `targets`, what that organisation would and would
    not be able to read about this claimant once it accepted a referral from the caller's
    organisation (see the module's docstring). 404 for a claimant the caller's organisation
    does not work with."""
    subject, facts = guards.subject_in_case(ctx, subject_id)
    if not facts.erased and is_shredded(ctx.keyring, facts.subject_id):
        facts = dataclasses.replace(facts, erased=True)
    usable, _why = usable_protocols(ctx.principal.org, ctx.protocols, ctx.now)
    every = sorted({c.code for p in usable for c in p.categories})
    out = [_sharing(ctx, facts, usable, every, to_org, purpose) for to_org, purpose in targets]
    ctx.audit(EventType.ACCESS_DECISION_EXPLAIN, subject_id=subject.id, outcome="allow",
              details={"action": "refer_sharing",
                       "targets": [f"{s.to_org}/{s.purpose}" for s in out]})
    return out


def _sharing(ctx: RequestContext, facts: SubjectFacts, usable: list[Protocol],
             every: list[str], to_org: str, purpose: str) -> Sharing:
    if facts.erased:
        return Sharing(to_org, purpose, [],
                       [Withheld(c, [str(Reason.SUBJECT_ERASED)]) for c in every])
    flows = [(p, f) for p in usable
             if (party := p.party(to_org)) is not None and party.status == "active"
             for f in p.flows
             if ctx.principal.org in f.from_orgs and to_org in f.to_orgs and purpose in f.purposes]
    roles = frozenset(role for p, _f in flows for grant in p.grants
                      if to_org in grant.parties and purpose in grant.purposes
                      for role in grant.roles)
    if not flows or not roles:
        reason = Reason.DIRECTION_NOT_PERMITTED if not flows else Reason.ROLE_NOT_GRANTED
        return Sharing(to_org, purpose, [], [Withheld(c, [str(reason)]) for c in every])
    recipient = Principal(actor_id=f"referral-recipient:{to_org}", actor_type="client",
                          org=to_org, roles=roles)
    as_member = dataclasses.replace(facts, case_orgs=facts.case_orgs | {to_org})
    decision = evaluate(recipient, purpose, "read", every, as_member, ctx.protocols, ctx.now)
    return Sharing(to_org, purpose, sorted(decision.permitted),
                   [Withheld(c.category, list(c.reasons) or [str(Reason.CATEGORY_NOT_IN_FLOW)])
                    for c in sorted(decision.withheld.values(), key=lambda c: c.category)])
