"""The demo partnership in Derby (an LSSF trial area): Jobcentre Plus, the city council's
housing service, a drug and alcohol treatment provider and Citizens Advice, around three
claimants.

Everything goes through the same access path as the API, so the demo leaves a real audit log.
With `history_days` (what `seed-demo` uses) the story is spread over the past days and goes on:
reads by each agency, a housing officer refused treatment notes, a Citizens Advice adviser
probing a claimant they do not work with, a late-evening read, a warm referral accepted, a
referral to a directory service that closed the loop (booked, attended, completed with an
outcome), one booked in the coming days with the claimant's reminder scheduled, a partial
consent withdrawal, and two break-glass overrides awaiting IG review (one overdue), so
the IG officer's tools have something to show. Deterministic apart from generated ids.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from caseshare.access import (
    assessments,
    case_plans,
    conferences,
    consents,
    contact_preferences,
    overrides,
    referrals,
    subjects,
)
from caseshare.access import cases as case_access
from caseshare.access.context import RequestContext
from caseshare.audit.models import AuditEvent
from caseshare.crypto.sealing import blind_index
from caseshare.directory import oruk
from caseshare.directory import service as directory
from caseshare.errors import NotFoundError
from caseshare.facts import Principal
from caseshare.identity import passwords
from caseshare.identity import service as identity
from caseshare.identity.models import StaffMember
from caseshare.overrides.service import OverrideRequest
from caseshare.runtime import Runtime
from caseshare.subjects.models import Subject
from caseshare.unit_of_work import UnitOfWork

P = ParamSpec("P")
T = TypeVar("T")

STAFF = [
    ("sam.okafor@jcp-derby.example", "Sam Okafor", "jcp-derby", ["work_coach"]),
    ("priya.sharma@derby-housing.example", "Priya Sharma", "derby-housing", ["housing_officer"]),
    ("dan.whitfield@recovery-partnership.example", "Dan Whitfield", "recovery-partnership",
     ["key_worker"]),
    ("aisha.begum@ca-derby.example", "Aisha Begum", "ca-derby", ["adviser"]),
    ("grace.hughes@derby-housing.example", "Grace Hughes", "derby-housing", ["ig_officer"]),
]
# Added with the demo's history only (seed-demo): runs MI under the evaluation purpose.
DEMO_CLIENT = ("recovery-cms", "Recovery Partnership case system", "recovery-partnership",
               ["key_worker"])
FORM = ("derby-multi-agency", 1)
HISTORY_DAYS = 6  # how far back `seed-demo` starts the story
# Demo only: production refuses to seed demo data (see config.py).
DEMO_PASSWORD = "demo-password-2026"  # noqa: S105


def _ctx(s: Session, runtime: Runtime, staff: StaffMember, purpose: str,
         now: datetime | None = None) -> RequestContext:
    principal = Principal(
        actor_id=str(staff.id), actor_type="staff", org=staff.org_id,
        roles=frozenset(staff.roles), scopes=frozenset(identity.scopes_for(staff.roles)),
        purposes=frozenset(identity.purposes_for(runtime.protocols, staff.org_id, staff.roles)),
    )
    return RequestContext(session=s, principal=principal, purpose=purpose,
                          protocols=runtime.protocols, forms=runtime.forms,
                          keyring=runtime.keyring, now=now or runtime.now(),
                          request_id=f"seed-{uuid.uuid4().hex[:12]}",
                          assessment_forms=runtime.assessment_forms,
                          outcome_codes=runtime.outcome_codes)


@dataclass(frozen=True)
class Timeline:
    """Story time: day `d` of the story at `hh:mm` UTC, day 0 being `days` days ago. The audit
    log refuses back-dated events, so if it already holds events later than the story's start,
    the whole story is squeezed, in order, between the latest of them and now."""

    origin: datetime
    now: datetime
    floor: datetime | None = None

    @classmethod
    def starting(cls, s: Session, now: datetime, days: int) -> Timeline:
        origin = datetime.combine((now - timedelta(days=days)).date(), time(), tzinfo=UTC)
        latest = s.scalar(select(func.max(AuditEvent.occurred_at)))
        return cls(origin, now, latest.astimezone(UTC) if latest else None)

    @property
    def start(self) -> datetime:
        """The story's first moment (day 0, 08:00): the demo's protocols are recorded then."""
        return self.origin + timedelta(hours=8)

    def at(self, day: int, hour: int, minute: int = 0) -> datetime:
        planned = self.origin + timedelta(days=day, hours=hour, minutes=minute)
        if self.floor is None or self.floor <= self.start:
            return min(planned, self.now)
        return self.floor + (self.now - self.floor) * ((planned - self.start)
                                                       / (self.now - self.start))


def story_start(s: Session, runtime: Runtime, history_days: int) -> datetime:
    """When the demo's first event is stamped (now, without a history)."""
    if history_days <= 0:
        return runtime.now()
    return Timeline.starting(s, runtime.now(), history_days).at(0, 8)


@dataclass(frozen=True)
class _Seeding:
    """One run of `seed`: the session, the app's runtime and the story's clock (every step at
    `now` without a history, spread over the past days with one)."""

    s: Session
    runtime: Runtime
    now: datetime
    timeline: Timeline | None

    @property
    def history(self) -> bool:
        return self.timeline is not None

    def at(self, day: int, hour: int, minute: int = 0) -> datetime:
        return self.timeline.at(day, hour, minute) if self.timeline else self.now

    def ctx(self, member: StaffMember, purpose: str, when: datetime) -> RequestContext:
        return _ctx(self.s, self.runtime, member, purpose, when)


def seed(s: Session, runtime: Runtime, *, history_days: int = 0) -> Iterator[str]:
    """Seed the demo partnership, yielding one line per step for `seed-demo` to print: staff,
    the partner client, then the three claimants unless they are there already, then (with
    `history_days`) the story of the past days."""
    now = runtime.now()
    timeline = Timeline.starting(s, now, history_days) if history_days > 0 else None
    run = _Seeding(s, runtime, now, timeline)
    staff = _add_staff(run)
    yield f"staff: {len(staff)} demo staff members (sign-in password: {DEMO_PASSWORD})"
    yield from _add_partner_client(run)
    yield from _add_directory(run)
    index = blind_index(runtime.keyring.blind_index_key(), "QQ123456C")
    if s.query(Subject).filter_by(nino_index=index).first() is not None:
        yield "claimants: already seeded"
        return
    lee = _add_lee(run, staff)
    yield f"claimant: Lee Marsh {lee} (broad explicit consent, shared plan)"
    kerry = _add_kerry(run, staff)
    yield f"claimant: Kerry Dunn {kerry} (narrow consent expiring in 20 days)"
    rhian, rhian_consent = _add_rhian(run, staff)
    yield (f"claimant: Rhian Price {rhian} (appointee consent, Citizens Advice withdrawn, "
           f"expiring in 26 days)")
    yield from _add_cases(run, staff, [(lee, 21), (kerry, 14), (rhian, 28)])
    if run.history:
        yield from _history(run.ctx, run.at, staff, lee, kerry, rhian, rhian_consent)
        yield from _booked_ahead(run, staff, lee)
        yield from _six_months(run, staff)


def _six_months(run: _Seeding, staff: dict[str, StaffMember]) -> Iterator[str]:
    """The partnership analyst and six months of housing and money work (demo_outcomes.py),
    so the MI page and the funding view have something to show."""
    from caseshare import demo_outcomes

    password = None if run.runtime.settings.production else DEMO_PASSWORD
    demo_outcomes.add_analyst(run.s, run.runtime.protocols, run.now, password)
    yield f"staff: {demo_outcomes.ANALYST[0]} (partnership analyst: MI and funding)"
    yield from demo_outcomes.seed_history(run.s, run.ctx, staff, now=run.now, form=FORM)


def _add_staff(run: _Seeding) -> dict[str, StaffMember]:
    """The demo staff (keyed by the local part of their email), with the demo password unless
    they have one already or the app runs in production."""
    s, runtime = run.s, run.runtime
    staff = {}
    with UnitOfWork(s):
        for email, name, org, roles in STAFF:
            staff[email.split("@")[0]] = identity.add_or_update_staff(
                s, protocols=runtime.protocols, email=email, name=name, org=org, roles=roles,
                now=run.at(0, 8, 30))
        for member in staff.values():
            if member.password_hash is None and not runtime.settings.production:
                passwords.set_password(member, DEMO_PASSWORD)
    return staff


def _add_partner_client(run: _Seeding) -> Iterator[str]:
    """The treatment provider's case system as an OAuth client, once (its secret is shown
    only when it is made)."""
    s, runtime = run.s, run.runtime
    client_id, client_name, client_org, client_roles = DEMO_CLIENT
    from caseshare.identity.models import OAuthClient

    if s.get(OAuthClient, client_id) is None:
        with UnitOfWork(s):
            _client, secret = identity.add_client(
                s, protocols=runtime.protocols, client_id=client_id, name=client_name,
                org=client_org, roles=client_roles, now=run.at(0, 8, 30))
        yield f"partner client: {client_id} secret (shown once): {secret}"


def _add_directory(run: _Seeding) -> Iterator[str]:
    """The demo's service directory: the Open Referral UK feed shipped with the directory
    package, imported like any feed (a second seed changes nothing)."""
    feed = oruk.load_file(oruk.DEMO_FEED, run.runtime.protocols.by_party)
    with UnitOfWork(run.s):
        report = directory.import_feed(run.s, feed, now=run.at(0, 8, 30),
                                       source=oruk.DEMO_FEED.name)
    yield directory.report_lines(report)[0].replace("services:", "directory: services", 1)


def _add_lee(run: _Seeding, staff: dict[str, StaffMember]) -> uuid.UUID:
    """Claimant 1: alcohol treatment and rent arrears; broad explicit consent."""
    s, runtime, now, ctx, at = run.s, run.runtime, run.now, run.ctx, run.at
    coach, housing = staff["sam.okafor"], staff["priya.sharma"]
    key_worker = staff["dan.whitfield"]
    lee, _ = perform(ctx(coach, "case_management", at(0, 9, 0)), subjects.register_subject, {
        "given_name": "Lee", "family_name": "Marsh", "date_of_birth": "1987-03-14",
        "nino": "QQ123456C", "postcode": "DE1 2AA"}, "england")
    perform(ctx(coach, "case_management", at(0, 9, 5)), consents.record_consent, lee.id, {
        "form_id": FORM[0], "form_version": FORM[1], "language": "en",
        "given_by": {"type": "self"},
        "recipients": ["jcp-derby", "recovery-partnership", "derby-housing"],
        "purposes": ["case_management", "recovery_support", "tenancy_sustainment"],
        "categories": ["identity", "contact", "employment", "housing_tenancy", "finances",
                       "substance_misuse"],
        # The claimant confirmed the form's own explicit statement (the only accepted wording).
        "explicit_statement": _explicit_statement(runtime),
        "method": "e_signature", "evidence_ref": "DOC-2026-0412",
        "expires_at": now + timedelta(days=180)})
    from caseshare.subjects.service import add_case_member

    with UnitOfWork(s):
        for org in ("recovery-partnership", "derby-housing"):
            add_case_member(s, subject_id=lee.id, org=org, now=at(0, 9, 10))
    perform(ctx(coach, "case_management", at(0, 9, 20)), case_plans.create_case_plan, lee.id, [
        {"kind": "goal", "category": "employment", "title": "Ready for a work placement by spring",
         "owner_name": "Sam Okafor"},
        {"kind": "action", "category": "employment", "title": "Update CV with work coach",
         "due_on": date(2026, 12, 10), "owner_name": "Sam Okafor"},
    ])
    perform(ctx(key_worker, "case_management", at(0, 9, 40)), case_plans.add_plan_entry, lee.id, {
        "kind": "action", "category": "substance_misuse",
        "title": "Attend weekly alcohol recovery group",
        "detail": "Tuesday group at the Bridge Street hub; prescribing review in January.",
        "owner_name": "Dan Whitfield", "due_on": date(2026, 12, 1), "status": "in_progress"})
    perform(ctx(housing, "tenancy_sustainment", at(0, 10, 0)), case_plans.add_plan_entry, lee.id, {
        "kind": "action", "category": "housing_tenancy",
        "title": "Agree a rent arrears repayment plan",
        "detail": "Arrears of four weeks; consider an Alternative Payment Arrangement.",
        "owner_name": "Priya Sharma", "due_on": date(2026, 12, 5)})
    # A case conference: minutes sealed per category, read by each organisation under its decision.
    perform(ctx(key_worker, "case_management", at(0, 10, 15)), conferences.record_conference,
            lee.id, {"held_on": at(0, 10, 10).date(), "attendees": [
                {"org": org, "staff_id": staff[name].id} for org, name in (
                    ("recovery-partnership", "dan.whitfield"), ("jcp-derby", "sam.okafor"),
                    ("derby-housing", "priya.sharma"))],
             "minutes": [{"category": "substance_misuse", "text": "Lee has attended the recovery "
                          "group for four weeks and asks for an evening slot."},
                         {"category": "contact", "text": "Lee may move to a flat nearer the hub."}],
             # No decision: Lee's plan keeps the demo's one treatment action, which the tests
             # and the journeys find by its category (a conference's decisions are tested on
             # conferences of their own).
             "decisions": []})
    return lee.id


def _add_kerry(run: _Seeding, staff: dict[str, StaffMember]) -> uuid.UUID:
    """Claimant 2: budgeting support only; narrower consent given by phone with evidence."""
    s, now, ctx, at = run.s, run.now, run.ctx, run.at
    coach, adviser = staff["sam.okafor"], staff["aisha.begum"]
    from caseshare.subjects.service import add_case_member

    kerry, _ = perform(ctx(coach, "case_management", at(0, 10, 30)), subjects.register_subject, {
        "given_name": "Kerry", "family_name": "Dunn", "date_of_birth": "1992-11-02",
        "nino": "QQ654321A", "postcode": "DE22 3QR"}, "england")
    perform(ctx(coach, "case_management", at(0, 10, 35)), consents.record_consent, kerry.id, {
        "form_id": FORM[0], "form_version": FORM[1], "language": "en",
        "given_by": {"type": "self"}, "recipients": ["jcp-derby", "ca-derby"],
        "purposes": ["case_management", "budgeting_support"],
        "categories": ["identity", "contact", "finances", "housing_tenancy"],
        "method": "verbal_phone", "evidence_ref": "CALL-2026-11-20-0931 at 09:31",
        "expires_at": now + timedelta(days=20)})
    with UnitOfWork(s):
        add_case_member(s, subject_id=kerry.id, org="ca-derby", now=at(0, 10, 36))
    perform(ctx(adviser, "budgeting_support", at(0, 11, 30)), case_plans.create_case_plan,
            kerry.id, [
        {"kind": "action", "category": "finances",
         "title": "Personal budgeting support: monthly budget",
         "detail": "Set up a monthly budget around the UC payment date.",
         "owner_name": "Aisha Begum", "due_on": date(2026, 12, 8)},
    ])
    return kerry.id


def _add_rhian(run: _Seeding, staff: dict[str, StaffMember]) -> tuple[uuid.UUID, uuid.UUID]:
    """Claimant 3: a proxy consent (her DWP appointee), narrowed by a partial withdrawal, and
    due to expire at the end of the next assessment period, so it shows in the renewal list.
    Returns her id and her consent's."""
    s, now, ctx, at, history = run.s, run.now, run.ctx, run.at, run.history
    coach, housing = staff["sam.okafor"], staff["priya.sharma"]
    from caseshare.subjects.service import add_case_member

    rhian, _ = perform(ctx(coach, "case_management", at(0, 13, 0)), subjects.register_subject, {
        "given_name": "Rhian", "family_name": "Price", "date_of_birth": "1979-06-21",
        "nino": "QQ246810B", "postcode": "DE23 6LP"}, "england")
    proxy = perform(ctx(coach, "case_management", at(0, 13, 5)), consents.record_consent,
                    rhian.id, {
            "form_id": FORM[0], "form_version": FORM[1], "language": "en",
            "given_by": {"type": "dwp_appointee", "name": "Gwen Price",
                         "authority_ref": "BF56-2026-0345"},
            "recipients": ["jcp-derby", "derby-housing", "ca-derby"],
            "purposes": ["case_management", "tenancy_sustainment", "budgeting_support"],
            "categories": ["identity", "contact", "finances", "housing_tenancy"],
            "method": "wet_signature", "evidence_ref": "SCAN-2026-11-0077",
            "expiry_rule": "assessment_period_end", "expires_at": now + timedelta(days=26)})
    # With a history, Derby Housing joins through a warm referral from the work coach.
    with UnitOfWork(s):
        for org in ("ca-derby",) if history else ("derby-housing", "ca-derby"):
            add_case_member(s, subject_id=rhian.id, org=org, now=at(0, 13, 6))
    if history:
        referral = perform(ctx(coach, "case_management", at(0, 13, 30)), referrals.create_referral,
                                             rhian.id, {
            "to_org": "derby-housing", "purpose": "tenancy_sustainment",
            "message": "Rent arrears building since the move to UC; appointee asks for help "
                       "to agree a repayment plan with the landlord.",
            "contact_name": "Priya Sharma", "appointment_at": at(1, 11, 0)})
        perform(ctx(housing, "tenancy_sustainment", at(1, 9, 15)), referrals.accept_referral,
                                  referral["id"])
    if not history:
        perform(ctx(coach, "case_management", now), withdraw_ca, proxy.id)
    return rhian.id, proxy.id


def _explicit_statement(runtime: Runtime) -> str:
    form = runtime.forms.get(*FORM)
    if form is None:
        raise LookupError(f"The demo needs consent form {FORM[0]} v{FORM[1]}.")
    return form.text["en"]["explicit_statement"]


def _add_cases(run: _Seeding, staff: dict[str, StaffMember],
               claimants: list[tuple[uuid.UUID, int]]) -> Iterator[str]:
    """The work coach leads each demo case, with a review date this many days ahead."""
    coach = staff["sam.okafor"]
    for minute, (subject_id, days) in enumerate(claimants):
        perform(run.ctx(coach, "case_management", run.at(1, 9, 30 + minute)),
                case_access.update_case, subject_id, lead_worker_id=coach.id,
                review_on=(run.now + timedelta(days=days)).date())
    yield f"cases: {len(claimants)} led by {coach.name}, with review dates"


def perform(ctx: RequestContext, use_case: Callable[Concatenate[RequestContext, P], T],
            *args: P.args, **kwargs: P.kwargs) -> T:
    """Run one use case in `ctx`'s unit of work (committed when it returns), as a request does."""
    with ctx:
        return use_case(ctx, *args, **kwargs)


def withdraw_ca(ctx: RequestContext, consent_id: uuid.UUID) -> None:
    consents.withdraw_consent(ctx, consent_id, {
        "channel": "in_person", "scope": {"recipients": ["ca-derby"]},
        "reason": "Appointee now manages the budget with the claimant directly"})


Ctx = Callable[[StaffMember, str, datetime], RequestContext]
At = Callable[..., datetime]
BREAK_GLASS = (
    "Safeguarding: the claimant's neighbour reported she had not been seen for three days and "
    "the appointee cannot be reached; before a welfare visit I need the work coach's latest "
    "contact notes to judge the risk and where she may be."
)
BREAK_GLASS_LEE = (
    "Safeguarding: a bailiff's notice arrived at the property and Lee has missed two "
    "appointments; I need the latest work search notes to see whether he is still in contact "
    "with the Jobcentre before the eviction hearing tomorrow morning."
)


def _history(ctx: Ctx, at: At, staff: dict[str, StaffMember], lee: uuid.UUID,
             kerry: uuid.UUID, rhian: uuid.UUID, rhian_consent: uuid.UUID) -> Iterator[str]:
    """The days after the claimants were registered, through the real use cases, in time
    order (the audit log refuses back-dated events)."""
    coach, housing = staff["sam.okafor"], staff["priya.sharma"]
    key_worker, adviser = staff["dan.whitfield"], staff["aisha.begum"]
    perform(ctx(coach, "case_management", at(1, 10, 0)), case_plans.read_case_plan, lee)
    perform(ctx(key_worker, "recovery_support", at(1, 11, 30)), case_plans.read_case_plan, lee)
    _triage(ctx, at, coach, kerry, 1, ["jcp-derby", "ca-derby"], TRIAGE_KERRY[0], "digital")
    kerry_referral = _refer_kerry_to_budgeting(ctx, at, coach, adviser, kerry)
    perform(ctx(housing, "tenancy_sustainment", at(2, 9, 45)), case_plans.read_case_plan, lee)
    # Refused: the housing officer asks for the treatment notes (no protocol lets them flow).
    perform(ctx(housing, "case_management", at(2, 10, 5)), case_plans.read_case_plan, lee,
                            ["substance_misuse"])
    # Refused: Citizens Advice does not work with Lee (404, audited).
    with contextlib.suppress(NotFoundError):
        perform(ctx(adviser, "budgeting_support", at(2, 15, 0)), case_plans.read_case_plan, lee)
    # Break glass for Rhian (review due in 72 hours: overdue by the end of the story).
    perform(ctx(housing, "tenancy_sustainment", at(2, 16, 10)), overrides.request_override, rhian,
                               OverrideRequest("safeguarding", BREAK_GLASS, ["employment"], 4))
    perform(ctx(housing, "tenancy_sustainment", at(2, 16, 20)), subjects.read_subject, rhian)
    # Kerry went to her budgeting appointment: the adviser closes the loop with an outcome.
    perform(ctx(adviser, "budgeting_support", at(3, 11, 30)), referrals.record_step,
            kerry_referral, {"type": "attended"})
    perform(ctx(adviser, "budgeting_support", at(3, 11, 45)), referrals.record_step,
            kerry_referral, {"type": "completed", "outcome": "budgeting_support_given",
                             "note": "Monthly budget agreed around the UC payment date; "
                                     "review in three months."})
    _triage(ctx, at, coach, lee, 3, ["jcp-derby", "derby-housing"], TRIAGE_LEE[0], "digital")
    # A late-evening read (out of hours).
    perform(ctx(housing, "tenancy_sustainment", at(3, 21, 40)), case_plans.read_case_plan, lee)
    perform(ctx(coach, "case_management", at(4, 11, 15)), withdraw_ca, rhian_consent)
    perform(ctx(adviser, "budgeting_support", at(4, 14, 0)), case_plans.read_case_plan, kerry)
    # Reassessments: Kerry's money and online needs ease; Lee's housing need is sharper.
    perform(ctx(coach, "triage", at(4, 15, 0)), assessments.record_assessment, kerry, *TRIAGE,
            "en", TRIAGE_KERRY[1])
    perform(ctx(coach, "triage", at(4, 16, 0)), assessments.record_assessment, lee, *TRIAGE,
            "cy", TRIAGE_LEE[1])
    perform(ctx(coach, "case_management", at(5, 10, 0)), case_plans.read_case_plan, lee)
    # Break glass for Lee, recent: awaiting review, not yet due.
    perform(ctx(housing, "tenancy_sustainment", at(5, 13, 20)), overrides.request_override, lee,
                               OverrideRequest("safeguarding", BREAK_GLASS_LEE, ["employment"],
                                               2))
    yield ("history: reads by four agencies over the past days, a refused request for treatment "
           "notes, a probe outside the case, a referral accepted, a budgeting referral completed "
           "with its outcome, a partial withdrawal, two break-glass overrides awaiting IG "
           "review (one overdue), and triage assessments of Kerry and Lee with a reassessment "
           "each")


def _refer_kerry_to_budgeting(ctx: Ctx, at: At, coach: StaffMember, adviser: StaffMember,
                              kerry: uuid.UUID) -> uuid.UUID:
    """The work coach refers Kerry to Citizens Advice Derby's budgeting service (from the
    directory); the adviser accepts and books an appointment two days on. Returns its id."""
    referral = perform(ctx(coach, "case_management", at(1, 15, 0)), referrals.create_referral,
                       kerry, {
        "to_org": "ca-derby", "purpose": "budgeting_support", "service_id": "ca-derby-budgeting",
        "message": "Kerry would like help to budget around her UC payment date.",
        "contact_name": "Aisha Begum"})
    perform(ctx(adviser, "budgeting_support", at(1, 16, 0)), referrals.accept_referral,
            referral["id"])
    perform(ctx(adviser, "budgeting_support", at(1, 16, 5)), referrals.record_step,
            referral["id"], {"type": "booked", "appointment_at": at(3, 10, 30),
                             "location": "Citizens Advice Derby, Council House, Corporation "
                                         "Street"})
    return uuid.UUID(str(referral["id"]))


def _booked_ahead(run: _Seeding, staff: dict[str, StaffMember], lee: uuid.UUID) -> Iterator[str]:
    """The end of the story: Lee agrees to text reminders, the work coach refers him to the
    council's tenancy sustainment service, and the housing officer books an appointment three
    days from now, so the reminder is scheduled (it goes a day before)."""
    ctx, at = run.ctx, run.at
    coach, housing = staff["sam.okafor"], staff["priya.sharma"]
    perform(ctx(coach, "case_management", at(5, 14, 0)), contact_preferences.record_preference,
            lee, {"channel": "sms", "address": "07700 900982", "language": "en",
                  "method": "verbal_in_person"})
    referral = perform(ctx(coach, "case_management", at(5, 14, 10)), referrals.create_referral,
                       lee, {
        "to_org": "derby-housing", "purpose": "tenancy_sustainment",
        "service_id": "derby-housing-tenancy-support",
        "message": "Lee's arrears are now six weeks; he would like help to keep his tenancy.",
        "contact_name": "Priya Sharma"})
    perform(ctx(housing, "tenancy_sustainment", at(5, 15, 0)), referrals.accept_referral,
            referral["id"])
    appointment = datetime.combine(run.now.date() + timedelta(days=3), time(10, 30), tzinfo=UTC)
    perform(ctx(housing, "tenancy_sustainment", at(5, 15, 5)), referrals.record_step,
            referral["id"], {"type": "booked", "appointment_at": appointment,
                             "location": "Council House, Corporation Street, Derby"})
    yield ("history: Lee's tenancy sustainment appointment booked for "
           f"{appointment:%d %B %Y} with a text reminder scheduled")


TRIAGE = ("derby-budgeting-digital-triage", 1)
# Each claimant's triage answers, first and at reassessment (scores that change over time).
TRIAGE_KERRY = (
    {"manage_money": "struggle", "bank_account": "no", "priority_debts": ["council_tax"],
     "get_online": "phone_only", "online_forms": "no", "housing_situation": "private_rent",
     "rent_arrears_weeks": 0, "work": "looking", "health_affects": ["mental_health"]},
    {"manage_money": "sometimes", "bank_account": "yes", "get_online": "phone_only",
     "online_forms": "with_help", "housing_situation": "private_rent", "rent_arrears_weeks": 0,
     "work": "looking", "health_affects": ["mental_health"]},
)
TRIAGE_LEE = (
    {"manage_money": "sometimes", "bank_account": "yes", "priority_debts": ["rent"],
     "get_online": "never", "online_forms": "with_help", "housing_situation": "social_rent",
     "rent_arrears_weeks": 4, "work": "not_ready", "health_affects": ["drug_alcohol"]},
    {"manage_money": "struggle", "bank_account": "yes", "priority_debts": ["rent", "energy"],
     "get_online": "public", "online_forms": "with_help", "housing_situation": "social_rent",
     "rent_arrears_weeks": 6, "work": "not_ready", "health_affects": ["drug_alcohol"]},
)


def _triage(ctx: Ctx, at: At, coach: StaffMember, subject: uuid.UUID, day: int,
            recipients: list[str], answers: dict[str, object], accept: str) -> None:
    """The claimant agrees (on the consent form's version 2, explicitly for health) that the
    partners named share their triage; the work coach runs it and accepts one proposal."""
    form = ctx(coach, "case_management", at(day, 14, 0)).forms.get("derby-multi-agency", 2)
    if form is None:
        raise LookupError("The demo needs consent form derby-multi-agency v2.")
    perform(ctx(coach, "case_management", at(day, 14, 0)), consents.record_consent, subject, {
        "form_id": "derby-multi-agency", "form_version": 2, "language": "en",
        "given_by": {"type": "self"}, "recipients": recipients,
        "purposes": ["triage", "budgeting_support", "tenancy_sustainment"],
        "categories": ["identity", "contact", "finances", "housing_tenancy", "employment",
                       "digital_capability", "health_wellbeing"],
        "explicit_statement": form.text["en"]["explicit_statement"],
        "method": "e_signature", "evidence_ref": f"DOC-2026-{day:04d}",
        "expires_at": at(day, 14, 0) + timedelta(days=180)})
    done = perform(ctx(coach, "triage", at(day, 14, 30)), assessments.record_assessment, subject,
                   *TRIAGE, "en", answers)
    perform(ctx(coach, "triage", at(day, 14, 40)), assessments.accept_proposal, subject,
            done.id, accept)
