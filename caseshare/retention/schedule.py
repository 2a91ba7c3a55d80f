"""When each copy is due for deletion: a pure function of what was shared, through which flow,
and when the lawful basis ended. No database, no clock: the service reads, this decides.

A *copy* is one organisation's holding of one category of one claimant's data. The lead
controller's own copy is due after the longest retention of any flow that carried the category
(it shared it, so it keeps it as long as any recipient may); a recipient's copy is due
`retention_days` after the basis ended, per the flow it came through (the longest, when several
flows carried it). A flow without `retention_days` uses the default (`DEFAULT_RETENTION_DAYS`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from caseshare.facts import ConsentFacts
from caseshare.uk_time import UK

DEFAULT_RETENTION_DAYS = 730  # two years, what the shipped protocols mostly say


@dataclass(frozen=True)
class Delivery:
    """`category` reached `org` through `rule` (protocol id and flow id, "protocol/flow"),
    which keeps it for `retention_days` after the basis ends."""

    org: str
    category: str
    rule: str
    retention_days: int
    # For a delivery through a consent-based flow: the day the consent to it ended, when none
    # covers it any more (its basis then ends before the case closes); None otherwise.
    consent_ended_on: date | None = None


@dataclass(frozen=True)
class DueItem:
    subject_id: uuid.UUID
    org: str
    category: str
    due_on: date
    rule: str
    hold: bool  # a legal hold pauses deletion (the item stays listed, marked held)


# The lead controller's copies of these categories are kept while it keeps any copy of anything:
# they are how the record is held at all (who the claimant is, how to reach them, why the case
# closed), so they go only with the whole subject.
RECORD_CATEGORIES = frozenset({"identity", "contact", "case_admin"})
LEAD_CONTROLLER = "lead_controller"
OWN_RECORD = "own_record"


@dataclass(frozen=True)
class SharedFlow:
    """One flow of one protocol version, as the schedule needs it: who sends which categories to
    whom, whether it rests on consent, and how long recipients keep what it brought."""

    rule: str  # "protocol@version/flow"
    from_orgs: frozenset[str]
    to_orgs: frozenset[str]
    categories: frozenset[str]
    consent_based: bool
    retention_days: int


def deliveries(
    written: Iterable[tuple[str, str]],
    flows: Iterable[SharedFlow],
    *,
    members: frozenset[str],
    lead_org: str,
    consent_end: Callable[[str, str], date | None] = lambda _org, _category: None,
) -> list[Delivery]:
    """Every copy of a subject's data and the rule it is kept under.

    `written`: (organisation, category) pairs of what is recorded about the subject (the writer
    of a plan entry, an assessment, conference minutes; the lead organisation for the identity
    record). A flow from the writer carrying the category delivers a copy to each of its
    recipients that is a member of the case. The writer keeps its own copy, and the lead
    controller a copy of every category, each as long as the longest retention of any delivery of
    that category (the module docstring); the lead's RECORD_CATEGORIES as long as anything.
    `consent_end(org, category)`: for a consent-based flow, the day the last consent covering that
    recipient and category ended when none covers it now, else None."""
    flows = tuple(flows)
    written = sorted(set(written))
    shared: list[Delivery] = []
    for writer, category in written:
        for flow in flows:
            if writer not in flow.from_orgs or category not in flow.categories:
                continue
            for org in sorted((flow.to_orgs & members) - {writer}):
                ended = consent_end(org, category) if flow.consent_based else None
                shared.append(Delivery(org, category, flow.rule, flow.retention_days, ended))
    longest: dict[str, int] = {}
    for delivery in shared:
        longest[delivery.category] = max(longest.get(delivery.category, 0),
                                         delivery.retention_days)
    overall = max(longest.values(), default=DEFAULT_RETENTION_DAYS)
    own: dict[tuple[str, str], Delivery] = {}
    categories = {category for _writer, category in written}
    for writer, category in [*written, *((lead_org, c) for c in sorted(categories))]:
        days = (overall if writer == lead_org and category in RECORD_CATEGORIES
                else longest.get(category, DEFAULT_RETENTION_DAYS))
        rule = LEAD_CONTROLLER if writer == lead_org else OWN_RECORD
        own[(writer, category)] = Delivery(writer, category, rule, days)
    return [*own.values(), *shared]


def due_items(subject_id: uuid.UUID, deliveries: Iterable[Delivery],
              basis_ended_on: date | None, held: bool) -> list[DueItem]:
    """When each copy (organisation, category) is due for deletion: `retention_days` after its
    basis ended, where the basis ends when the case closes (`basis_ended_on`) or, for a delivery
    through a consent-based flow, when the consent to it ended (`Delivery.consent_ended_on`),
    whichever is first. A copy that came through several flows is due after the latest of them,
    and not at all while any of them still has a basis. Empty when no basis has ended. Ordered by
    (due_on, org, category)."""
    copies: dict[tuple[str, str], list[Delivery]] = {}
    for delivery in deliveries:
        copies.setdefault((delivery.org, delivery.category), []).append(delivery)
    items: list[DueItem] = []
    for (org, category), held_through in copies.items():
        due: tuple[date, str] | None = None
        for delivery in held_through:
            ended = _earliest(basis_ended_on, delivery.consent_ended_on)
            if ended is None:
                due = None
                break
            candidate = (ended + timedelta(days=delivery.retention_days), delivery.rule)
            due = candidate if due is None else _later(due, candidate)
        if due is not None:
            items.append(DueItem(subject_id, org, category, due[0], due[1], held))
    return sorted(items, key=lambda item: (item.due_on, item.org, item.category))


def _later(a: tuple[date, str], b: tuple[date, str]) -> tuple[date, str]:
    """The later due date; on a tie, the rule first in order (so the certificate names the same
    rule whatever order the protocols were loaded in)."""
    return min(a, b, key=lambda due: (-due[0].toordinal(), due[1]))


def _earliest(*days: date | None) -> date | None:
    known = [day for day in days if day is not None]
    return min(known) if known else None


def consent_ended_on(consents: Iterable[ConsentFacts], org: str, category: str,
                     at: datetime) -> date | None:
    """The day the last consent covering `org` and `category` ended (expired, or withdrawn for
    them), when none covers them at `at` (nor will: one valid later counts as covering); None
    while one does, or when none ever did (then only the case's closure ends the basis).
    Purposes are not distinguished: a copy is kept while any consent lets the organisation
    receive the category."""
    last: datetime | None = None
    for consent in consents:
        if (org not in consent.recipients or category not in consent.categories
                or category in consent.excluded):
            continue
        end = consent.expires_at
        for when, recipients, purposes, categories in consent.withdrawals:
            if ((not recipients or org in recipients) and not purposes
                    and (not categories or category in categories)):
                end = min(end, when)
        if end > at:
            return None  # covers it now, or will
        last = end if last is None else max(last, end)
    return last.astimezone(UK).date() if last is not None else None  # a UK day


def basis_of(item: DueItem, deliveries: Iterable[Delivery], basis_ended_on: date | None) -> str:
    """Which end of the basis made `item` due, for its certificate: `consent_ended` when the
    delivery it is due under lost its consent before the case closed, else `case_closed`."""
    for delivery in deliveries:
        if ((delivery.org, delivery.category, delivery.rule)
                == (item.org, item.category, item.rule)
                and delivery.consent_ended_on is not None
                and (basis_ended_on is None or delivery.consent_ended_on < basis_ended_on)):
            return "consent_ended"
    return "case_closed"
