"""My caseload: the claimants the caller's organisation works with, what needs attention for
each, sorted, filtered and paged; and the counts the page header shows.

What each row may say is decided per claimant by the same pure decision as every read:
- the claimant's name only where the caller may read `identity` from the lead organisation's
  record (as `subjects.read_subject`);
- overdue and due-this-week counts only of actions the caller may read (category permitted and
  written by an organisation whose flow reaches the caller) or that its organisation wrote or
  owns, so a count never reveals an entry the caller cannot see.
The figures come from `caseshare.subjects.caseload` in a fixed number of aggregate statements;
the request writes one audit event naming the claimants listed and those whose names it opened.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from caseshare.access.context import RequestContext
from caseshare.access.decision import Decision, evaluate
from caseshare.audit.event_types import EventType
from caseshare.cases import service as cases
from caseshare.cases.closure import is_review_overdue
from caseshare.errors import BadCursorError
from caseshare.notifications.service import Reader
from caseshare.subjects import caseload as figures
from caseshare.subjects import service as subjects

SORTS = ("overdue", "name", "consent_expiry")
FILTERS = ("all", "overdue", "due", "referrals", "expiring", "withdrawals")
EXPIRING_WITHIN = timedelta(days=30)
WEEK = timedelta(days=6)  # due this week: today and the six days after
MAX_PAGE = 200


@dataclass
class CaseloadItem:
    subject_id: uuid.UUID
    lead_org: str
    member: bool
    overdue_actions: int
    due_this_week: int
    referrals_in: int
    referral_updates: int
    withdrawal_notices: int
    regranted_notices: int
    consent_expires_on: date | None
    consent_expiring: bool
    referrals_overdue: int = 0  # open referrals sent or received, past the response standard
    name: str | None = None
    name_key: tuple[str, str] | None = None  # (family, given) folded, for sorting only
    may_name: bool = False  # the caller may read the name (opened only where needed)
    lead_worker: str | None = None  # the case's lead worker's name (staff directory data)
    next_review_on: date | None = None  # the case's review date
    case_status: str = "open"
    review_overdue: bool = False  # open, and the review date has passed

    @property
    def attention(self) -> bool:
        """Something on this row needs the worker's attention now."""
        return bool(self.overdue_actions or self.referrals_in or self.withdrawal_notices
                    or self.referral_updates or self.consent_expiring
                    or self.referrals_overdue)


@dataclass(frozen=True)
class CaseloadPage:
    items: list[CaseloadItem]
    next_cursor: str | None
    total: int  # rows matching the filter, across pages
    position: int  # index of the first item within them
    attention: int  # claimants on the whole caseload needing attention (the header's count)


def my_caseload(ctx: RequestContext, *, sort: str = "overdue", filter: str = "all",
                limit: int = MAX_PAGE, cursor: str | None = None) -> CaseloadPage:
    """One page of the caller's caseload (at most MAX_PAGE rows), audited."""
    items = _all_items(ctx)
    if sort == "name":  # the names must be opened to sort by them
        _open_names(ctx, items)
    chosen = sorted((i for i in items if _FILTERS[filter](i)), key=_SORT_KEYS[sort])
    start = _start(cursor, sort, filter, chosen)
    page = chosen[start:start + min(limit, MAX_PAGE)]
    more = start + len(page) < len(chosen)
    next_cursor = _encode(sort, filter, start + len(page), page[-1].subject_id) if more else None
    on_page = {i.subject_id for i in page}
    for item in chosen:
        if item.subject_id not in on_page:
            item.name = None  # opened only to sort; never leaves unless on the page
    if sort != "name":
        _open_names(ctx, page)
    named = [str(i.subject_id) for i in page if i.name is not None]
    ctx.audit(EventType.SUBJECT_CASELOAD_LIST, outcome="allow",
              categories=["identity"] if named else [],
              details={"subjects": [str(i.subject_id) for i in page], "named": named,
                       "sort": sort, "filter": filter, "offset": start, "total": len(chosen)})
    return CaseloadPage(page, next_cursor, len(chosen), start,
                        sum(1 for i in items if i.attention))


def attention_count(ctx: RequestContext) -> int:
    """How many claimants on the caller's caseload need attention now (the header's count).
    Counts only, no names: not a disclosure, so no audit event."""
    return sum(1 for i in _all_items(ctx) if i.attention)


def unread_notifications(ctx: RequestContext) -> int:
    """How many notifications the caller has not marked read (the header's count)."""
    return figures.unread_count(ctx.session, _reader(ctx))


def claimant_names(ctx: RequestContext,
                   subject_ids: list[uuid.UUID]) -> dict[uuid.UUID, str | None]:
    """The names of these claimants where the caller may read them (None otherwise), e.g. for
    the notifications page. Each name opened is audited as an identity read of its claimant;
    an id the caller's organisation has no relationship with gets None, unaudited (nothing
    about it is read)."""
    out: dict[uuid.UUID, str | None] = dict.fromkeys(subject_ids)
    for sid, (subject, facts) in figures.facts_for(ctx.session, sorted(set(subject_ids))).items():
        decision = evaluate(ctx.principal, ctx.purpose, "read", ["identity"], facts,
                            ctx.protocols, ctx.now)
        identity = decision.permitted.get("identity")
        if identity is None or subject.lead_org_id not in identity.sources:
            continue
        opened = subjects.open_identity(subject, ctx.keyring, {"identity"})
        out[sid] = f"{opened.get('given_name', '')} {opened.get('family_name', '')}".strip()
        ctx.audit(EventType.SUBJECT_IDENTITY_READ, subject_id=sid, decision=decision,
                  outcome="allow", categories=["identity"], reasons=[],
                  details={"fields": ["family_name", "given_name"], "via": "notifications"})
    return out


def _reader(ctx: RequestContext) -> Reader:
    p = ctx.principal
    return Reader(p.actor_uuid, p.org, p.roles)


def _all_items(ctx: RequestContext) -> list[CaseloadItem]:
    today = ctx.now.date()
    rows = figures.load_caseload(ctx.session, _reader(ctx), today=today, week_end=today + WEEK,
                                 now=ctx.now)
    items = []
    for row in rows:
        assert row.facts is not None
        wanted = {"identity", *(a.category for a in row.actions)}
        decision = evaluate(ctx.principal, ctx.purpose, "read", wanted, row.facts,
                            ctx.protocols, ctx.now)
        item = _item(ctx, row, decision)
        identity = decision.permitted.get("identity")
        item.may_name = identity is not None and row.lead_org in identity.sources
        items.append(item)
    _add_cases(ctx, items, today)
    return items


def _add_cases(ctx: RequestContext, items: list[CaseloadItem], today: date) -> None:
    """Each row's lead worker, review date and case status (one statement)."""
    lines = cases.case_lines(ctx.session, [i.subject_id for i in items])
    for item in items:
        line = lines.get(item.subject_id)
        if line is not None:
            item.lead_worker, item.next_review_on = line.lead_worker_name, line.review_on
            item.case_status = line.status
            item.review_overdue = is_review_overdue(line.review_on, line.status, today)


def _item(ctx: RequestContext, row: figures.CaseloadRow, decision: Decision) -> CaseloadItem:
    org = ctx.principal.org
    overdue = due = 0
    for a in row.actions:
        permitted = decision.permitted.get(a.category)
        if org in (a.created_org, a.owner_org) or (permitted is not None
                                                   and a.created_org in permitted.sources):
            overdue += a.overdue
            due += a.due_this_week
    assert row.facts is not None
    ends = figures.expiring_by(row.facts, org, ctx.purpose, ctx.now)
    return CaseloadItem(
        subject_id=row.subject_id, lead_org=row.lead_org, member=row.member,
        overdue_actions=overdue, due_this_week=due, referrals_in=row.referrals_in,
        referral_updates=row.notices.get("referral_updated", 0),
        referrals_overdue=row.referrals_overdue,
        withdrawal_notices=row.notices.get("consent_withdrawn", 0),
        regranted_notices=row.notices.get("consent_regranted_after_withdrawal", 0),
        consent_expires_on=ends.date() if ends else None,
        consent_expiring=ends is not None and ends - ctx.now <= EXPIRING_WITHIN)


def _open_names(ctx: RequestContext, items: list[CaseloadItem]) -> None:
    """Open the names of these items that the caller may read (one statement for the rows)."""
    by_id = {i.subject_id: i for i in items if i.may_name}
    rows = figures.names(ctx.session, list(by_id))
    for sid, subject in rows.items():
        opened = subjects.open_identity(subject, ctx.keyring, {"identity"})
        given, family = opened.get("given_name", ""), opened.get("family_name", "")
        item = by_id[sid]
        item.name = f"{given} {family}".strip() or None
        item.name_key = (family.casefold(), given.casefold())


_FILTERS: dict[str, Callable[[CaseloadItem], bool]] = {
    "all": lambda i: True,
    "overdue": lambda i: i.overdue_actions > 0,
    "due": lambda i: i.due_this_week > 0,
    "referrals": lambda i: i.referrals_in > 0 or i.referral_updates > 0 or i.referrals_overdue > 0,
    "expiring": lambda i: i.consent_expiring,
    "withdrawals": lambda i: i.withdrawal_notices > 0,
}

_FAR = date.max
_SORT_KEYS: dict[str, Callable[[CaseloadItem], Any]] = {
    # Most overdue first, then most due this week, then the most other flags.
    "overdue": lambda i: (-i.overdue_actions, -i.due_this_week,
                          -(i.referrals_in + i.withdrawal_notices + i.referral_updates),
                          str(i.subject_id)),
    # Named claimants by family then given name; those whose name is withheld after them.
    "name": lambda i: (i.name_key is None, i.name_key or ("", ""), str(i.subject_id)),
    # Soonest consent end first; no consent naming the caller last.
    "consent_expiry": lambda i: (i.consent_expires_on or _FAR, str(i.subject_id)),
}


def _encode(sort: str, filter: str, offset: int, last: uuid.UUID) -> str:
    raw = f"c1|{sort}|{filter}|{offset}|{last}"
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _start(cursor: str | None, sort: str, filter: str, chosen: list[CaseloadItem]) -> int:
    """Where the page after `cursor` starts: just after the claimant the previous page ended
    with, or at the same position if that claimant has left the list since."""
    if cursor is None:
        return 0
    try:
        version, c_sort, c_filter, offset, last = (
            base64.urlsafe_b64decode(cursor.encode("ascii")).decode("ascii").split("|"))
        position, last_id = int(offset), uuid.UUID(last)
    except (ValueError, binascii.Error, UnicodeError):
        raise BadCursorError("Not a valid cursor.") from None
    if version != "c1" or (c_sort, c_filter) != (sort, filter) or position < 0:
        raise BadCursorError("Not a valid cursor for this sort and filter.")
    for index, item in enumerate(chosen):
        if item.subject_id == last_id:
            return index + 1
    return min(position, len(chosen))
