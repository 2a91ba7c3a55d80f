"""Builders for the funding and MI tests: a partnership analyst (the role the Derby protocol
grants `evaluation`) and outcomes recorded straight through the domain."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from caseshare.demo import DEMO_PASSWORD
from caseshare.facts import Principal
from caseshare.identity import passwords
from caseshare.identity import service as identity
from caseshare.outcomes.attribution import attribute
from caseshare.outcomes.service import record_outcome
from caseshare.runtime import Runtime
from caseshare.subjects import service as subjects
from caseshare.unit_of_work import UnitOfWork

ANALYST = "morgan.ellis@derby-housing.example"
HOUSING = Principal(actor_id=str(uuid.uuid4()), actor_type="staff", org="derby-housing",
                    roles=frozenset({"housing_officer"}))


def add_analyst(rt: Runtime, email: str = ANALYST, org: str = "derby-housing") -> str:
    with rt.session_factory() as s, UnitOfWork(s):
        staff = identity.add_or_update_staff(s, protocols=rt.protocols, email=email,
                                             name="Morgan Ellis", org=org, roles=["analyst"],
                                             now=rt.now())
        passwords.set_password(staff, DEMO_PASSWORD)
    return email


def add_outcomes(rt: Runtime, subject: uuid.UUID, code: str, days: int, *,
                 org: str = "derby-housing", category: str = "housing_tenancy",
                 last: date | None = None) -> None:
    """`days` outcomes of `code` for one claimant, one a day back from `last` (a count of
    outcomes, which is what funding pays for)."""
    last = last or rt.now().date()
    with rt.session_factory() as s, UnitOfWork(s):
        key = subjects.data_key(subjects.get_subject(s, subject), rt.keyring)
        for n in range(days):
            outcome = record_outcome(
                s, key, subject_id=subject, code=code, category=category,
                achieved_on=last - timedelta(days=n), org=org, purpose="tenancy_sustainment",
                now=rt.now(), staff_id=None)
            attribute(s, outcome)


def add_claimants(rt: Runtime, n: int) -> list[uuid.UUID]:
    """`n` new claimants registered by Derby Housing (for counts of distinct claimants)."""
    with rt.session_factory() as s, UnitOfWork(s):
        return [subjects.create_subject(s, keyring=rt.keyring, principal=HOUSING, now=rt.now(),
                                        identity={"given_name": "A", "family_name": f"B{i}"},
                                        jurisdiction="england").id for i in range(n)]


def add_each(rt: Runtime, claimants: list[uuid.UUID], code: str) -> None:
    """One outcome of `code` for each claimant, today."""
    for subject in claimants:
        add_outcomes(rt, subject, code, 1)
