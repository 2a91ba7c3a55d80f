"""Which audit events an information-governance officer sees, and what of each.

Visibility: an event is visible when the viewer's organisation is party to the protocol the event
was recorded under (its `protocol`, `id@version`; any loaded version the organisation is party
to, in force or not, since the log outlives protocol versions), or when the actor is the
viewer's own staff (the event's `org`). An event with no protocol (sign-in, key operations,
searches, refusals before any decision) is visible only to the actor's own organisation.
An event that names more than one protocol is judged by the first, which is the one it records.
A break-glass event that records no protocol itself (grant, reading or reviewing an override) is
judged by its override's protocol.

Reach: in an event by another organisation's staff, the viewer sees only the categories that some
flow of that protocol carries to or from their organisation (for any purpose): what it may
receive, and its own data going out, whose disclosures its IG officer must be able to account
for. Every other category code (a special category that flows only between other parties, say) is
replaced by `redacted`, in `categories` and wherever it appears in `details`; the event is marked
`redacted`. Events by the viewer's own staff are shown whole. The leaf hash is kept, so a redacted
event can still be proved in the log (it will not recompute from the redacted fields).

Pure apart from `condition`, which is the same rule as a SQL condition for the queries.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, func, or_

from caseshare.audit.models import NEW_EVENT_COLUMNS, AuditEvent, NewEvent
from caseshare.overrides.models import OverrideRecord
from caseshare.policy.models import Protocol

REDACTED = "redacted"

# The protocol an event was recorded under: its own, or else its override's.
EVENT_PROTOCOL: ColumnElement[str | None] = func.coalesce(AuditEvent.protocol,
                                                          OverrideRecord.protocol)


_Query = TypeVar("_Query", bound=Select[*tuple[Any, ...]])


def with_protocol(query: _Query) -> _Query:
    """`query` (over audit_events) joined to what `EVENT_PROTOCOL` and `condition` read."""
    return query.outerjoin(OverrideRecord, OverrideRecord.id == AuditEvent.override_id)


@dataclass(slots=True, kw_only=True)
class EventView(NewEvent):
    """An audit event as one viewer may see it: the event's fields (`NewEvent`), its row id and
    log position, and whether some were redacted. Never written back: not an ORM object."""

    id: int
    seq: int | None
    redacted: bool = False


@dataclass(frozen=True)
class AuditScope:
    org: str  # the viewer's organisation
    protocols: frozenset[str]  # refs (id@version) of the protocols it is party to
    reach: Mapping[str, frozenset[str]]  # protocol ref -> categories flowing to the viewer
    codes: frozenset[str]  # every category code, to find them in details
    orgs: frozenset[str] = field(default_factory=frozenset)  # the partnership, for forms/counts

    @classmethod
    def build(cls, org: str, party_to: Iterable[Protocol], *, codes: Iterable[str],
              orgs: Iterable[str] = ()) -> AuditScope:
        reach: dict[str, frozenset[str]] = {}
        for protocol in party_to:
            if protocol.party(org) is None:
                continue
            reach[protocol.ref] = frozenset(
                c for flow in protocol.flows if org in flow.to_orgs or org in flow.from_orgs
                for c in flow.categories)
        return cls(org, frozenset(reach), reach, frozenset(codes), frozenset(orgs))

    def condition(self, org_column: Any = None) -> ColumnElement[bool]:
        """The visibility rule in SQL, for a query made `with_protocol` (`org_column`: an
        expression to use for the event's org)."""
        column = AuditEvent.org if org_column is None else org_column
        return or_(column == self.org, EVENT_PROTOCOL.in_(sorted(self.protocols)))

    def sees(self, event: AuditEvent, protocol: str | None) -> bool:
        """`protocol`: the one the event was recorded under (EVENT_PROTOCOL)."""
        return event.org == self.org or (protocol is not None and protocol in self.protocols)

    def view(self, event: AuditEvent, protocol: str | None) -> EventView:
        """The event as this viewer sees it (call only for an event it `sees`)."""
        hidden: frozenset[str] = frozenset()
        if event.org != self.org:
            allowed = self.reach.get(protocol or "", frozenset())
            hidden = self.codes - allowed
        categories = list(event.categories or [])
        details = dict(event.details or {})
        redacted = bool(hidden) and _mentions(categories, details, hidden)
        if redacted:
            kept = [c for c in categories if c not in hidden]
            categories = [*kept, REDACTED] if len(kept) < len(categories) else kept
            details = _redact(details, hidden)
        fields = {name: getattr(event, name) for name in NEW_EVENT_COLUMNS}
        fields.update(categories=categories, reasons=list(event.reasons or []), details=details)
        return EventView(id=event.id, seq=event.seq, redacted=redacted, **fields)

    def views(self, rows: Iterable[Any]) -> list[EventView]:
        """The visible ones of (event, protocol) rows, as this viewer sees them (a belt to the
        SQL braces)."""
        return [self.view(e, p) for e, p in rows if self.sees(e, p)]


def _mentions(categories: list[str], details: Any, hidden: frozenset[str]) -> bool:
    return bool(hidden.intersection(categories)) or _redact(details, hidden) != details


def _redact(value: Any, hidden: frozenset[str]) -> Any:
    if isinstance(value, str):
        return REDACTED if value in hidden else value
    if isinstance(value, list):
        return [_redact(v, hidden) for v in value]
    if isinstance(value, dict):
        return {(REDACTED if k in hidden else k): _redact(v, hidden) for k, v in value.items()}
    return value
