"""The funding view: what each partnership's recorded work earns under its funding agreement
(partnerships/<protocol-id>/funding.yaml), under the `evaluation` purpose only.

Funding is money to organisations, but every count behind it is a count of work done with
claimants, so it is published under the same disclosure control as the MI tables
(mi/disclosure.py: nothing from 1 to 7, everything else rounded to 5, secondary suppression),
and the money is computed from the published counts: a payment never reveals a count the
table hides (a suppressed count earns nothing here; the invoice is reconciled outside Caseshare
from the partners' own records). The audit event records the period and the partnerships,
never a count.

Who may look: a caller whose organisation is party to a protocol in force that declares
`evaluation` and has a funding agreement; refused (403, audited) otherwise, before anything
is counted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from caseshare.access import guards
from caseshare.access.context import RequestContext
from caseshare.audit.event_types import EventType
from caseshare.errors import ValidationError
from caseshare.mi import activity, periods
from caseshare.mi.disclosure import Table, control
from caseshare.mi.funding import Earnings, FundingAgreement, earnings
from caseshare.policy.models import EVALUATION, Protocol
from caseshare.reasons import Reason

MAX_DAYS = 3 * 366  # one table per partnership, never paged: a bounded period


@dataclass(frozen=True)
class Apportioned:
    """An organisation's part of the outcome payments, from its published attributed shares
    (None where a share or a total is suppressed)."""

    org: str
    outcome_pence: int | None


@dataclass(frozen=True)
class PartnershipFunding:
    protocol: str
    title: str  # the protocol's title
    earned: Earnings  # from the published counts
    # Published counts by activity key and outcome code: None where suppressed.
    activity_counts: dict[str, int | None]
    outcome_counts: dict[str, int | None]
    shares: Table  # organisation x outcome code: attributed shares, rounded, controlled
    apportioned: list[Apportioned]


@dataclass(frozen=True)
class FundingView:
    first: date
    last: date
    partnerships: list[PartnershipFunding]


def default_period(today: date, first: date | None, last: date | None) -> tuple[date, date]:
    """The period asked for, by default the six calendar months to today."""
    last = last or today
    if first is None:
        months = last.year * 12 + last.month - 1 - 5
        first = max(date(months // 12, months % 12 + 1, 1), periods.EARLIEST)
    return first, last


def funding_protocols(ctx: RequestContext,
                      agreements: Mapping[str, FundingAgreement]) -> list[Protocol]:
    """The caller's protocols in force that declare evaluation and have a funding agreement;
    refused (403, audited) when there is none or the purpose is not `evaluation`."""
    protocols = [p for p in ctx.protocols.for_party(ctx.principal.org)
                 if EVALUATION in p.purposes and p.in_force(ctx.now.date())
                 and p.id in agreements] if ctx.purpose == EVALUATION else []
    if not protocols:
        guards.deny(ctx, EventType.MI_FUNDING_QUERY, None,
                    [str(Reason.EVALUATION_NOT_DECLARED)], [])
    return protocols


def funding_view(ctx: RequestContext, *, agreements: Mapping[str, FundingAgreement],
                 first: date, last: date) -> FundingView:
    """Each of the caller's partnerships' funding for the days `first` to `last` (audited)."""
    periods.check(**{"from": first, "to": last})
    if last < first:
        raise ValidationError({"to": ["The end of the period is before its start."]})
    if (last - first).days > MAX_DAYS:
        raise ValidationError({"from": ["A period is at most three years."]})
    protocols = funding_protocols(ctx, agreements)
    period = activity.Period(first, last)
    view = FundingView(first, last, [
        _partnership(p, agreements[p.id], activity.count_all(ctx.session, period, p))
        for p in protocols])
    ctx.audit(EventType.MI_FUNDING_QUERY, outcome="allow",
              details={"from": first.isoformat(), "to": last.isoformat(),
                       "protocols": [p.id for p in protocols]})
    return view


def _partnership(protocol: Protocol, agreement: FundingAgreement,
                 counts: activity.ActivityCounts) -> PartnershipFunding:
    parties = sorted(party.id for party in protocol.parties)
    true_activities, true_outcomes = counts.by_key(parties)
    # Two tables, each controlled on its own (as two MI tables would be): a small activity count
    # then costs another activity cell, not an outcome payment.
    activity_table = control({(protocol.id, a.key): true_activities.get(a.key, 0)
                              for a in agreement.activities},
                             [protocol.id], [a.key for a in agreement.activities])
    outcome_table = control({(protocol.id, o.code): true_outcomes.get(o.code, 0)
                             for o in agreement.outcomes},
                            [protocol.id], [o.code for o in agreement.outcomes])
    activity_counts = {cell.code: cell.count for cell in activity_table.cells}
    outcome_counts = {cell.code: cell.count for cell in outcome_table.cells}
    earned = earnings(agreement, {k: n or 0 for k, n in activity_counts.items()},
                      {k: n or 0 for k, n in outcome_counts.items()})
    shares = _shares(counts, parties, [o.code for o in agreement.outcomes])
    return PartnershipFunding(protocol.id, protocol.title, earned, activity_counts,
                              outcome_counts, shares, _apportion(earned, shares, parties))


def _shares(counts: activity.ActivityCounts, parties: list[str], codes: list[str]) -> Table:
    """Attributed shares by organisation and code, rounded to whole outcomes, then controlled
    like any count of claimants."""
    whole = {(org, code): round(total)
             for (org, code), total in counts.shares_for(parties).items()
             if org in parties and code in codes}
    return control(whole, parties, codes)


def _apportion(earned: Earnings, shares: Table, parties: list[str]) -> list[Apportioned]:
    """Each organisation's part of the outcome payments: of each code that earned something, in
    proportion to its published share of the code's published total; unknown (None) if any
    figure it needs is suppressed."""
    amounts = {line.payment.code: line.amount_pence for line in earned.outcomes}
    cells = {(c.group, c.code): c.count for c in shares.cells}
    result = []
    for org in parties:
        total: int | None = 0
        for code, amount in amounts.items():
            if not amount:
                continue  # nothing earned under this code: nothing to share out
            share, column = cells.get((org, code)), shares.code_totals.get(code)
            # No published total (suppressed, or no attribution recorded): unknown, not zero.
            if share is None or not column or total is None:
                total = None
                break
            total += amount * share // column
        result.append(Apportioned(org, total))
    return result
