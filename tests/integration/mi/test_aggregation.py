"""MI aggregation on a real database (both engines): distinct claimants per (group, code) by
partner (every attributed organisation), service line and month, only in range and only for the
partnership's codes and organisations; the published table then suppresses and rounds."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy.orm import Session

from caseshare.facts import Principal
from caseshare.identity.service import sync_organisations
from caseshare.mi import queries
from caseshare.mi.disclosure import control
from caseshare.outcomes.attribution import attribute
from caseshare.outcomes.service import record_outcome
from caseshare.runtime import Runtime
from caseshare.subjects.service import create_subject
from tests.conftest import Clock

HOUSING = Principal(actor_id=str(uuid.uuid4()), actor_type="staff", org="derby-housing",
                    roles=frozenset({"housing_officer"}))
ORGS = ["jcp-derby", "derby-housing", "ca-derby"]
CODES = ["apa_in_place", "bank_account_opened"]


def _claimants(s: Session, rt: Runtime, now: datetime, n: int) -> list[uuid.UUID]:
    return [create_subject(s, keyring=rt.keyring, principal=HOUSING, now=now,
                           identity={"given_name": "A", "family_name": f"B{i}"},
                           jurisdiction="england").id for i in range(n)]


def _record(s: Session, subject: uuid.UUID, code: str, on: date, org: str,
            now: datetime) -> None:
    outcome = record_outcome(s, b"\x00" * 32, subject_id=subject, code=code,
                             category="housing_tenancy", achieved_on=on, org=org,
                             purpose="case_management", now=now, staff_id=None,
                             service_line="apa_identification" if code == "apa_in_place"
                             else None)
    attribute(s, outcome)


def test_counts_are_distinct_claimants_by_partner_service_line_and_month(
        rt: Runtime, clock: Clock) -> None:
    now = clock.now
    with rt.session_factory() as s:
        sync_organisations(s, protocols=rt.protocols, now=now)
        people = _claimants(s, rt, now, 12)
        for i, subject in enumerate(people[:10]):  # ten APAs in March (one claimant twice)
            _record(s, subject, "apa_in_place", date(2026, 3, 1 + i), "derby-housing", now)
        _record(s, people[0], "apa_in_place", date(2026, 4, 2), "derby-housing", now)
        for subject in people[10:]:  # two bank accounts in April, recorded by CA
            _record(s, subject, "bank_account_opened", date(2026, 4, 5), "ca-derby", now)
        # Out of range, and a code and organisation outside the partnership: never counted.
        _record(s, people[11], "apa_in_place", date(2025, 12, 31), "derby-housing", now)
        _record(s, people[11], "homelessness_prevented", date(2026, 3, 3), "derby-housing", now)
        _record(s, people[11], "apa_in_place", date(2026, 3, 4), "recovery-partnership", now)
        s.commit()

        def counts(by: str) -> queries.Counts:
            return queries.outcome_counts(s, by=by, start=date(2026, 1, 1),
                                          end=date(2026, 6, 30), codes=CODES, orgs=ORGS)

        assert counts("partner") == {("derby-housing", "apa_in_place"): 10,
                                     ("ca-derby", "bank_account_opened"): 2}
        assert counts("service_line") == {("apa_identification", "apa_in_place"): 10,
                                          ("none", "bank_account_opened"): 2}
        assert counts("month") == {("2026-03", "apa_in_place"): 10,
                                   ("2026-04", "apa_in_place"): 1,
                                   ("2026-04", "bank_account_opened"): 2}
        by_partner = control(counts("partner"), ORGS, CODES)
        table = control(counts("month"), queries.months(date(2026, 3, 1), date(2026, 4, 30)),
                        CODES)
    published = {(c.group, c.code): c.count for c in table.cells}
    # April's 1 and 2 are suppressed; March's 10 and 0 are then the only ones in their
    # columns with one suppressed, so they go too: nothing in the table gives the 1 away.
    assert published == {("2026-03", "apa_in_place"): None, ("2026-03", "bank_account_opened"):
                         None, ("2026-04", "apa_in_place"): None,
                         ("2026-04", "bank_account_opened"): None}
    assert table.total is None
    # By partner, CA's 2 is hidden with CA's 0 APAs (its row's only partner); that 0 then needs
    # a partner in the APA column, and a non-zero one (a zero there could be known to be zero,
    # protecting nothing): the housing service's ten APAs go too.
    partners = {(c.group, c.code): c.count for c in by_partner.cells}
    assert partners[("derby-housing", "apa_in_place")] is None
    assert partners[("jcp-derby", "apa_in_place")] == 0
    assert partners[("ca-derby", "bank_account_opened")] is None
