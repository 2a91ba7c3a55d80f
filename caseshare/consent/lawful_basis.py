"""The lawful basis and retention behind one recipient's share, as the protocols state it, for
the papers a claimant keeps (the consent receipt) and the explanations staff read.

For a recipient organisation and the purposes and categories it receives: each flow of the
protocols it is party to that carries any of those categories to it for any of those purposes
gives the recipient's UK GDPR Article 6 basis (`Flow.art6_basis` for that party), the Article 9
condition where the flow carries a special category (`Flow.art9_condition`), the statutory
function of each purpose (`Protocol.statutory_functions`) and how long the recipient keeps what
came through the flow after the case closes or consent ends (`Flow.retention_days`, else the
default the caller passes: retention.schedule.DEFAULT_RETENTION_DAYS, which this package may
not import, as retention reads consents).

Pure: protocol values in, values out. Identical bases from several flows or protocol versions
are given once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from caseshare.policy.models import ProtocolSet


@dataclass(frozen=True)
class Basis:
    """Why, in law, `org` may receive some of the claimant's information, and for how long."""

    org: str
    art6_basis: str | None
    art9_condition: str | None  # only where a special category is carried
    statutory_functions: tuple[str, ...]
    retention_days: int | None  # None: neither the flow nor the caller gives a figure
    categories: tuple[str, ...]

    def as_json(self) -> dict[str, object]:
        return {"art6_basis": self.art6_basis, "art9_condition": self.art9_condition,
                "statutory_functions": list(self.statutory_functions),
                "retention_days": self.retention_days, "categories": list(self.categories)}


def bases_for(protocols: ProtocolSet, *, org: str, purposes: Iterable[str],
              categories: Iterable[str], default_retention_days: int | None = None,
              from_org: str | None = None) -> list[Basis]:
    """The bases on which `org` receives these categories for these purposes (only flows from
    `from_org` when given), one per distinct basis, in protocol and flow order."""
    wanted_purposes, wanted_categories = frozenset(purposes), frozenset(categories)
    found: dict[tuple[str | None, str | None, tuple[str, ...], int | None], Basis] = {}
    for protocol in protocols.for_party(org):
        functions = dict(protocol.statutory_functions)
        for flow in protocol.flows:
            carried = flow.categories & wanted_categories
            shared_for = flow.purposes & wanted_purposes
            if org not in flow.to_orgs or not carried or not shared_for:
                continue
            if from_org is not None and from_org not in flow.from_orgs:
                continue
            special = any(protocols.is_sensitive(c) for c in carried)
            key = (dict(flow.art6_basis).get(org), flow.art9_condition if special else None,
                   tuple(functions[p] for p in sorted(shared_for) if p in functions),
                   flow.retention_days if flow.retention_days is not None
                   else default_retention_days)
            earlier = found[key].categories if key in found else ()
            found[key] = Basis(org, *key, tuple(sorted(set(earlier) | carried)))
    return list(found.values())
