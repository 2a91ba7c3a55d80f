"""Six months of housing and money work for the demo's history (`seed-demo`, `make run`), so the
MI page and the funding view show meaningful, mostly unsuppressed numbers.

About forty synthetic claimants of the Derby partnership, each registered by the work coach
with a consent to the three partners; the housing officer records a tenancy and a plan action
and, for most, the tenancy's last six monthly rent snapshots (the six-month "paying own rent"
outcome is computed from them, as in live use); a third get an Alternative Payment Arrangement
taken through to "in place". Three in four are referred to Citizens Advice Derby (accepted),
and of those some get a money action plan and some a bank or credit union account opened by
the adviser, each with its outcome and a plan action done under its LSSF service line.

Everything goes through the access use cases, so the audit log is real; the records are entered
now (the audit log refuses back-dated events) but describe the past six months, so outcomes
fall in each of those months. Also the partnership analyst, who alone may run MI and the
funding view (the `evaluation` purpose).

Only in the `history_days > 0` branch of `caseshare.demo.seed`: the tests' demo is unchanged.
Deterministic apart from generated ids; the synthetic names and NINOs (QQ70xxxx) are made up.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy.orm import Session

from caseshare.access import (
    case_plans,
    consents,
    outcomes,
    referrals,
    subjects,
    support_records,
)
from caseshare.access.context import RequestContext
from caseshare.identity import passwords
from caseshare.identity import service as identity
from caseshare.identity.models import StaffMember
from caseshare.policy.models import ProtocolSet
from caseshare.subjects.service import add_case_member
from caseshare.support_records.service import SnapshotIn
from caseshare.unit_of_work import UnitOfWork

P = ParamSpec("P")
T = TypeVar("T")

CLAIMANTS = 40
MONTHS = 6
ANALYST = ("robin.ellis@derby-housing.example", "Robin Ellis", "derby-housing", ["analyst"])
GIVEN = ("Alex", "Jamie", "Sam", "Chris", "Jordan", "Taylor", "Robin", "Casey", "Ashley",
         "Morgan", "Lou", "Charlie", "Danny", "Frankie", "Jess", "Kit", "Mel", "Nat", "Pat", "Ray")
FAMILY = ("Holt", "Baines", "Carter", "Dawson", "Ellis", "Fowler", "Grant", "Hughes", "Irwin",
          "Jarvis", "Kemp", "Lowe", "Marsh", "Nolan", "Owen", "Pryce", "Quinn", "Reeve")
POSTCODES = ("DE1 3AB", "DE21 4FG", "DE22 1HJ", "DE23 8LN", "DE24 0PQ", "DE3 9RS", "DE73 5TU")
LANDLORDS = ("council", "social", "private", "social", "council")
APA_TYPES = ("managed_payment", "more_frequent_payments", "managed_payment", "split_payment")
TRIGGERS = ("rent_arrears", "debt", "vulnerability", "other")
Ctx = Callable[[StaffMember, str, datetime], RequestContext]


def _perform(ctx: RequestContext, use_case: Callable[Concatenate[RequestContext, P], T],
             *args: P.args, **kwargs: P.kwargs) -> T:
    with ctx:
        return use_case(ctx, *args, **kwargs)


def month_start(today: date, back: int) -> date:
    """The first day of the month `back` months before today's."""
    months = today.year * 12 + today.month - 1 - back
    return date(months // 12, months % 12 + 1, 1)


def add_analyst(s: Session, protocols: ProtocolSet, now: datetime,
                password: str | None) -> StaffMember:
    email, name, org, roles = ANALYST
    with UnitOfWork(s):
        staff = identity.add_or_update_staff(s, protocols=protocols, email=email, name=name,
                                             org=org, roles=roles, now=now)
        if staff.password_hash is None and password is not None:
            passwords.set_password(staff, password)
    return staff


def seed_history(s: Session, ctx: Ctx, staff: dict[str, StaffMember], *, now: datetime,
                 form: tuple[str, int]) -> Iterator[str]:
    """The six months' records and outcomes (see the module's docstring)."""
    coach, housing, adviser = staff["sam.okafor"], staff["priya.sharma"], staff["aisha.begum"]
    today = now.date()
    for i in range(CLAIMANTS):
        subject = _register(s, ctx, coach, i, now=now, form=form)
        _housing(ctx, housing, subject, i, now=now, today=today)
        if i % 4 != 3:  # three in four need money advice too
            _refer_for_money(ctx, coach, adviser, subject, i, now=now)
            _money(ctx, adviser, subject, i, now=now, today=today)
    yield (f"history: {CLAIMANTS} claimants with {MONTHS} months of tenancies, rent snapshots, "
           "APAs, money plans and accounts, and their outcomes")


def _register(s: Session, ctx: Ctx, coach: StaffMember, i: int, *, now: datetime,
              form: tuple[str, int]) -> uuid.UUID:
    subject, _ = _perform(ctx(coach, "case_management", now), subjects.register_subject, {
        "given_name": GIVEN[i % len(GIVEN)], "family_name": FAMILY[i % len(FAMILY)],
        "date_of_birth": f"{1960 + i % 40}-{1 + i % 12:02d}-{1 + i % 28:02d}",
        "nino": f"QQ70{i:04d}{'ABCD'[i % 4]}", "postcode": POSTCODES[i % len(POSTCODES)]},
        "england")
    _perform(ctx(coach, "case_management", now), consents.record_consent, subject.id, {
        "form_id": form[0], "form_version": form[1], "language": "en",
        "given_by": {"type": "self"}, "recipients": ["jcp-derby", "derby-housing", "ca-derby"],
        "purposes": ["case_management", "tenancy_sustainment", "budgeting_support"],
        "categories": ["identity", "contact", "finances", "housing_tenancy"],
        "method": "e_signature", "evidence_ref": f"DOC-DEMO-{i:04d}",
        "expires_at": now + timedelta(days=300)})
    with UnitOfWork(s):
        add_case_member(s, subject_id=subject.id, org="derby-housing", now=now)
    return subject.id


def _refer_for_money(ctx: Ctx, coach: StaffMember, adviser: StaffMember, subject: uuid.UUID,
                     i: int, *, now: datetime) -> None:
    """A warm referral to Citizens Advice Derby's budgeting service, accepted (the adviser's
    organisation joins the case by it)."""
    referral = _perform(ctx(coach, "case_management", now), referrals.create_referral, subject, {
        "to_org": "ca-derby", "purpose": "budgeting_support", "service_id": "ca-derby-budgeting",
        "message": "Would like help with a monthly budget and a bank account.",
        "contact_name": "Aisha Begum"})
    _perform(ctx(adviser, "budgeting_support", now), referrals.accept_referral, referral["id"])


def _housing(ctx: Ctx, housing: StaffMember, subject: uuid.UUID, i: int, *, now: datetime,
             today: date) -> None:
    """A tenancy; for three in four, its last six months (one in five of those with a short
    month, so not every run earns the outcome); for one in three, an APA put in place."""
    rent = 42_000 + 1_500 * (i % 9)
    start = month_start(today, MONTHS + 6 + i % 12)
    view = _perform(ctx(housing, "tenancy_sustainment", now), support_records.create_record,
                    subject, "tenancy", {
                        "landlord_type": LANDLORDS[i % len(LANDLORDS)], "rent_pence": rent,
                        "rent_frequency": "monthly", "paid_by": "claimant",
                        "start_on": start.isoformat()})
    tenancy = uuid.UUID(str(view.record["id"]))
    apa = i % 3 == 0
    _perform(ctx(housing, "tenancy_sustainment", now), case_plans.create_case_plan, subject, [{
        "kind": "action", "category": "housing_tenancy",
        "title": "Set up an Alternative Payment Arrangement" if apa else "Keep the rent paid",
        "owner_name": "Priya Sharma", "status": "done" if apa else "in_progress",
        "service": "apa_identification" if apa else None}])
    if i % 4 != 3:
        short = MONTHS - 1 - i % MONTHS if i % 5 == 0 else None
        for n in range(MONTHS):
            paid = rent - 10_000 if n == short else rent
            figures = SnapshotIn(month=month_start(today, MONTHS - n), rent_due=rent,
                                 rent_paid=paid, arrears=rent - paid, paid_by="claimant")
            _perform(ctx(housing, "tenancy_sustainment", now), support_records.add_snapshot,
                     subject, tenancy, figures)
    if apa:
        _apa(ctx, housing, subject, i, now=now, today=today)


def _apa(ctx: Ctx, housing: StaffMember, subject: uuid.UUID, i: int, *, now: datetime,
         today: date) -> None:
    identified = month_start(today, 1 + i % (MONTHS - 1)) + timedelta(days=i % 20)
    steps = {"identified": identified, "requested": identified + timedelta(days=3),
             "dwp_decision": identified + timedelta(days=10),
             "in_place": identified + timedelta(days=14)}
    in_place = min(steps["in_place"], today)
    _perform(ctx(housing, "tenancy_sustainment", now), support_records.create_record, subject,
             "apa", {"trigger": TRIGGERS[i % len(TRIGGERS)], "type": APA_TYPES[i % len(APA_TYPES)],
                     "status": "in_place",
                     "status_dates": {k: min(v, today).isoformat() for k, v in steps.items()},
                     "review_on": (in_place + timedelta(days=180)).isoformat()})
    _outcome(ctx, housing, "tenancy_sustainment", subject, "apa_identified",
             min(identified, today), now=now)
    _outcome(ctx, housing, "tenancy_sustainment", subject, "apa_in_place", in_place, now=now)


def _money(ctx: Ctx, adviser: StaffMember, subject: uuid.UUID, i: int, *, now: datetime,
           today: date) -> None:
    """Half get a money action plan, half an account opened (a bank or a credit union)."""
    back = 1 + (i * 7) % (MONTHS - 1)
    agreed = min(month_start(today, back) + timedelta(days=(i * 3) % 25), today)
    if i % 2 == 0:
        _perform(ctx(adviser, "budgeting_support", now), support_records.create_record, subject,
                 "money_plan", {
                     "income": [{"label": "Universal Credit", "pence": 61_000 + 1_000 * (i % 7)}],
                     "outgoings": [{"label": "Rent", "pence": 42_000},
                                   {"label": "Gas and electricity", "pence": 9_000}],
                     "priority_debts": [{"label": "Council tax arrears", "pence": 30_000}],
                     "agreed_actions": ["Pay rent on UC payment day",
                                       "Council tax repayment plan"],
                     "reviewed_on": agreed.isoformat()})
        _outcome(ctx, adviser, "budgeting_support", subject, "money_action_plan_agreed", agreed,
                 now=now)
        _done(ctx, adviser, subject, "Agree a monthly money action plan", "budgeting_support",
              now=now)
    if i % 4 in (0, 1):
        kind = "bank" if i % 8 < 4 else "credit_union"
        _perform(ctx(adviser, "budgeting_support", now), support_records.create_record, subject,
                 "banking", {"account_opened": {"type": kind, "on": agreed.isoformat()},
                             "online_account_set_up": agreed.isoformat(),
                             "claim_managed_online": i % 3 == 0})
        code = "bank_account_opened" if kind == "bank" else "credit_union_account_opened"
        _outcome(ctx, adviser, "budgeting_support", subject, code, agreed, now=now)
        _done(ctx, adviser, subject, "Open an account for the UC payment", "financial_inclusion",
              now=now)


def _done(ctx: Ctx, adviser: StaffMember, subject: uuid.UUID, title: str, service: str, *,
          now: datetime) -> None:
    _perform(ctx(adviser, "budgeting_support", now), case_plans.add_plan_entry, subject, {
        "kind": "action", "category": "finances", "title": title, "owner_name": "Aisha Begum",
        "status": "done", "service": service})


def _outcome(ctx: Ctx, member: StaffMember, purpose: str, subject: uuid.UUID, code: str,
             achieved_on: date, *, now: datetime) -> None:
    values: dict[str, Any] = {"code": code, "achieved_on": achieved_on,
                              "evidence_ref": f"DEMO-{code.upper()}"}
    _perform(ctx(member, purpose, now), outcomes.record_outcome, subject, values)
