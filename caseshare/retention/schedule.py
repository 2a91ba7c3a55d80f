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
from dataclasses import dataclass
from datetime import date

DEFAULT_RETENTION_DAYS = 730  # two years, what the shipped protocols mostly say


@dataclass(frozen=True)
class Delivery:
    """`category` reached `org` through `rule` (protocol id and flow id, "protocol/flow"),
    which keeps it for `retention_days` after the basis ends."""

    org: str
    category: str
    rule: str
    retention_days: int


@dataclass(frozen=True)
class DueItem:
    subject_id: uuid.UUID
    org: str
    category: str
    due_on: date
    rule: str
    hold: bool  # a legal hold pauses deletion (the item stays listed, marked held)
