"""Case conferences on the access path: record one, read one, list a claimant's.

The decision applies to minutes as to plan entries. A minute is one category's words, written
by the recording organisation: a case member reads it only when its decision for the purpose
permits the category from that organisation (as `disclosure.may_see` does for an entry), and
every category not fully open to it is listed as withheld with its reasons, whether or not the
conference has minutes in it (so the list reveals nothing). Every read is audited like a plan
read. Recording needs a write grant for every category of minutes and decisions; each decision
becomes a plan action through the plan's own `add_plan_entry`, so grants, owners, versions and
audit apply exactly as for an action added on the plan page.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from caseshare.access import case_plans, guards
from caseshare.access.context import RequestContext
from caseshare.access.decision import Decision
from caseshare.access.disclosure import may_see, withheld_categories
from caseshare.audit.event_types import EventType
from caseshare.case_plan import service as plans
from caseshare.conferences import service as conferences
from caseshare.conferences.models import ConferenceMinute
from caseshare.conferences.service import Attendee, ConferenceRecord
from caseshare.errors import ForbiddenError, NotFoundError, ValidationError
from caseshare.facts import SubjectFacts
from caseshare.identity.service import staff_names
from caseshare.subjects import service as subjects
from caseshare.subjects.models import Subject
from caseshare.uk_time import uk_today

MAX_LIST = 200


def record_conference(ctx: RequestContext, subject_id: uuid.UUID,
                      values: dict[str, Any]) -> dict[str, Any]:
    """Record a conference (`held_on`, `attendees`, `minutes`, `decisions` as the API takes
    them) and answer with it as the caller now reads it. Bad input is a 422 naming the field
    (`attendees.0.org`, `minutes.1.category`, ...); a category the caller may not write is a
    403 naming every such category (audited); nothing is written unless all of it is."""
    subject, facts = guards.subject_in_case(ctx, subject_id)
    minutes = values.get("minutes", [])
    decisions = values.get("decisions", [])
    attendees = _check_attendees(ctx, facts, values.get("attendees", []))
    _check_input(ctx, facts, values["held_on"], minutes, decisions)
    written = [m["category"] for m in minutes] + [d["category"] for d in decisions]
    decision = _authorise(ctx, subject.id, facts, written)
    _check_own_records(ctx, decision, minutes, decisions)
    key = subjects.data_key(subject, ctx.keyring)
    conference = conferences.record_conference(
        ctx.session, subject_id=subject.id, held_on=values["held_on"], attendees=attendees,
        minutes={m["category"]: m["text"] for m in minutes}, data_key=key,
        principal=ctx.principal, purpose=ctx.purpose, now=ctx.now)
    entry_ids = []
    for d in decisions:
        opened, _etag = case_plans.add_plan_entry(ctx, subject.id, {
            "kind": "action", "category": d["category"], "title": d["title"],
            "owner_org": d["owner_org"], "due_on": d["due_on"]})
        conferences.link_decision(ctx.session, conference, opened["id"])
        entry_ids.append(str(opened["id"]))
    ctx.audit(EventType.CONFERENCES_CONFERENCE_CREATE, subject_id=subject.id, decision=decision,
              outcome="allow", categories=sorted({m["category"] for m in minutes}), reasons=[],
              details={"conference_id": str(conference.id),
                       "attendees": sorted(a.org for a in attendees), "entries": entry_ids})
    readable = guards.decide(ctx, facts, "read", None)
    record = conferences.with_parts(ctx.session, [conference])
    views, _shown = _views(ctx, subject, readable, record)
    return views[0]


def read_conference(ctx: RequestContext, conference_id: uuid.UUID) -> dict[str, Any]:
    """One conference with the minutes and decisions the caller may read (audited as a
    disclosure); an unknown conference, or one about a claimant the caller's organisation has
    no relationship with, is 404 (audited)."""
    ctx.read_from_snapshot()
    conference = conferences.find_conference(ctx.session, conference_id)
    if conference is None:
        event = ctx.audit_refusal(EventType.CONFERENCES_CONFERENCE_READ,
                                  reasons=["no_such_conference"],
                                  details={"conference_id": str(conference_id)})
        raise NotFoundError("No such case conference.", audit_id=event.event_uuid)
    subject, facts = guards.subject_in_case(ctx, conference.subject_id)
    readable = guards.decide(ctx, facts, "read", None)
    views, shown = _views(ctx, subject, readable, conferences.with_parts(ctx.session,
                                                                         [conference]))
    _audit_read(ctx, EventType.CONFERENCES_CONFERENCE_READ, subject.id, readable, shown)
    return views[0]


def list_conferences(ctx: RequestContext, subject_id: uuid.UUID,
                     limit: int = 50) -> list[dict[str, Any]]:
    """The claimant's conferences, newest first, each as `read_conference` shows it; one
    audited disclosure for the page."""
    ctx.read_from_snapshot()
    subject, facts = guards.subject_in_case(ctx, subject_id)
    readable = guards.decide(ctx, facts, "read", None)
    found = conferences.conferences_of(ctx.session, subject.id, min(limit, MAX_LIST))
    views, shown = _views(ctx, subject, readable, conferences.with_parts(ctx.session, found))
    _audit_read(ctx, EventType.CONFERENCES_CONFERENCE_LIST, subject.id, readable, shown)
    return views


def conference_count(ctx: RequestContext, subject_id: uuid.UUID) -> int:
    """How many conferences were held about the claimant (for the overview's link): no minutes
    are opened; the look is audited with the count."""
    subject, _facts = guards.subject_in_case(ctx, subject_id)
    count = conferences.count_conferences(ctx.session, subject.id)
    ctx.audit(EventType.CONFERENCES_CONFERENCE_LIST, subject_id=subject.id, outcome="allow",
              categories=[], reasons=[], details={"count": count})
    return count


def attendee_choices(ctx: RequestContext,
                     subject_id: uuid.UUID) -> dict[str, list[tuple[uuid.UUID, str]]]:
    """For the record form: the organisations that may attend (case members first), each with
    its active staff (names are not claimant data; nothing is opened, nothing audited)."""
    _subject, facts = guards.subject_in_case(ctx, subject_id)
    eligible = conferences.eligible_attendees(ctx.protocols, facts.case_orgs, uk_today(ctx.now))
    ordered = sorted(eligible, key=lambda org: (org not in facts.case_orgs, org))
    staff = conferences.staff_of(ctx.session, ordered)
    return {org: staff[org] for org in ordered}


def _check_attendees(ctx: RequestContext, facts: SubjectFacts,
                     given: list[dict[str, Any]]) -> list[Attendee]:
    """Attendees are organisations of the case or parties of its protocols, each once; a staff
    member named for an organisation must be an active member of it."""
    eligible = conferences.eligible_attendees(ctx.protocols, facts.case_orgs, uk_today(ctx.now))
    errors: dict[str, list[str]] = {}
    seen: set[str] = set()
    for i, a in enumerate(given):
        if a["org"] not in eligible:
            errors[f"attendees.{i}.org"] = [
                "Must be an organisation of this case or a party to its agreements."]
        elif a["org"] in seen:
            errors[f"attendees.{i}.org"] = ["Each organisation is listed once."]
        seen.add(a["org"])
    orgs = conferences.staff_orgs(ctx.session, [a["staff_id"] for a in given
                                                if a.get("staff_id")])
    for i, a in enumerate(given):
        if a.get("staff_id") and orgs.get(a["staff_id"]) != a["org"]:
            errors[f"attendees.{i}.staff_id"] = [
                "Must be an active staff member of the organisation attending."]
    if errors:
        raise ValidationError(errors)
    return [Attendee(a["org"], a.get("staff_id")) for a in given]


def _check_input(ctx: RequestContext, facts: SubjectFacts, held_on: date,
                 minutes: list[dict[str, Any]], decisions: list[dict[str, Any]]) -> None:
    errors: dict[str, list[str]] = {}
    if held_on > uk_today(ctx.now):
        errors["held_on"] = ["A conference is recorded once it has been held: not a future date."]
    seen: set[str] = set()
    for i, m in enumerate(minutes):
        if m["category"] not in ctx.protocols.categories:
            errors[f"minutes.{i}.category"] = [f"Unknown category: {m['category']}."]
        elif m["category"] in seen:
            errors[f"minutes.{i}.category"] = ["One set of minutes per category."]
        seen.add(m["category"])
    for i, d in enumerate(decisions):
        if d["category"] not in ctx.protocols.categories:
            errors[f"decisions.{i}.category"] = [f"Unknown category: {d['category']}."]
        if d["owner_org"] not in facts.case_orgs:
            errors[f"decisions.{i}.owner_org"] = [
                "Must be an organisation involved in this case."]
    if decisions and plans.find_plan(ctx.session, facts.subject_id) is None:
        errors["decisions"] = ["This claimant has no case plan yet: start the plan, then "
                               "record the conference's decisions as its actions."]
    if errors:
        raise ValidationError(errors)


def _authorise(ctx: RequestContext, subject_id: uuid.UUID, facts: SubjectFacts,
               categories: list[str]) -> Decision:
    """The write decision for every category written; a refusal names each category the caller
    may not write (403, audited), so the recorder can leave those minutes out."""
    decision = guards.decide(ctx, facts, "write", sorted(set(categories)) or ["identity"])
    if not decision.allowed:
        refused = sorted(decision.withheld)
        event = ctx.audit_refusal(EventType.ACCESS_WRITE_DENY, subject_id=subject_id,
                                  decision=decision, categories=refused,
                                  reasons=decision.reasons)
        raise ForbiddenError(
            f"You may not record these categories for this claimant and purpose: "
            f"{', '.join(refused)}.", reasons=decision.reasons, audit_id=event.event_uuid)
    # The rest of the write rule, as for every write (a closed case is read-only: 403
    # `case_closed`, audited), from the one place that holds it.
    return guards.authorise_write(ctx, subject_id, facts, categories)


def _check_own_records(ctx: RequestContext, decision: Decision, minutes: list[dict[str, Any]],
                       decisions: list[dict[str, Any]]) -> None:
    """Minutes go to the attending organisations, so a category no agreement shares onward for
    this purpose (the caller could record it only as its own record) is refused (422); a
    decision in such a category stays the caller's organisation's, as on the plan."""
    errors: dict[str, list[str]] = {}
    for i, m in enumerate(minutes):
        if case_plans.own_record(decision, m["category"]):
            errors[f"minutes.{i}.category"] = [
                "No agreement shares this kind of information onward for this purpose, so no "
                "other organisation could read these minutes: record them on the plan as your "
                "own note instead."]
    for i, d in enumerate(decisions):
        if case_plans.own_record(decision, d["category"]) and d["owner_org"] != ctx.principal.org:
            errors[f"decisions.{i}.owner_org"] = [
                "Only your organisation will see this action, so your organisation must be "
                "responsible for it."]
    if errors:
        raise ValidationError(errors)


def _minute_open(minute: ConferenceMinute, recorded_org: str, decision: Decision) -> bool:
    """A minute holds the recording organisation's words: open when the decision permits its
    category from that organisation (the caller's own organisation included)."""
    permitted = decision.permitted.get(minute.category)
    return permitted is not None and recorded_org in permitted.sources


Shown = dict[str, list[str]]  # ids of what a read opened: conferences, minutes, entries


def _views(ctx: RequestContext, subject: Subject, readable: Decision,
           records: Sequence[ConferenceRecord]) -> tuple[list[dict[str, Any]], Shown]:
    """The conferences as the caller may read them, and what was opened (ids, for the audit)."""
    shown: Shown = {"conferences": [], "minutes": [], "entries": []}
    if not records:
        return [], shown
    cipher = AESGCM(subjects.data_key(subject, ctx.keyring))  # one for every value opened
    entries = conferences.entries_by_id(ctx.session, [e for r in records for e in r.entry_ids])
    names = staff_names(ctx.session, [str(a.staff_id) for r in records for a in r.attendees
                                      if a.staff_id])
    withheld = withheld_categories(readable)
    views = []
    for r in records:
        c = r.conference
        minutes = [m for m in r.minutes if _minute_open(m, c.recorded_org, readable)]
        actions = [entries[e] for e in r.entry_ids
                   if e in entries and may_see(entries[e], readable)]
        views.append({
            "id": c.id, "subject_id": c.subject_id, "held_on": c.held_on,
            "recorded_at": c.recorded_at, "recorded_org": c.recorded_org,
            "attendees": [{"org": a.org_id, "staff_id": a.staff_id,
                           "staff_name": names.get(str(a.staff_id)) if a.staff_id else None}
                          for a in r.attendees],
            "minutes": [{"category": m.category, "text": conferences.open_minute(m, cipher)}
                        for m in minutes],
            "decisions": [_decision_out(plans.open_entry(e, cipher)) for e in actions],
            "withheld": withheld,
        })
        shown["conferences"].append(str(c.id))
        shown["minutes"] += [str(m.id) for m in minutes]
        shown["entries"] += [str(e.id) for e in actions]
    return views, shown


def _decision_out(entry: dict[str, Any]) -> dict[str, Any]:
    return {"entry_id": entry["id"], "title": entry["title"], "category": entry["category"],
            "owner_org": entry["owner_org"], "due_on": entry["due_on"],
            "status": entry["status"]}


def _audit_read(ctx: RequestContext, type: EventType, subject_id: uuid.UUID, decision: Decision,
                shown: dict[str, list[str]]) -> None:
    """As a plan read: what was opened (an allow event) and what was withheld (a deny event)."""
    permitted = sorted(decision.permitted)
    if permitted:
        ctx.audit(type, subject_id=subject_id, decision=decision, outcome="allow",
                  categories=permitted, reasons=[], details=shown)
    withheld = withheld_categories(decision)
    if withheld:
        ctx.audit(type, subject_id=subject_id, decision=decision, outcome="deny",
                  categories=[w["category"] for w in withheld],
                  details={"conferences": shown["conferences"], "withheld": withheld})
