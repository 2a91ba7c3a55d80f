"""Make a referral (a warm handover: receiving organisation, purpose, message, named contact,
appointment), the referral inbox of the receiving organisation with accept and decline, and one
referral's page for both sides: its timeline and the steps the caller may take now (book,
attended, did not attend, complete with an outcome, withdraw). Every step is one use case in
caseshare.access.referrals (basis checked, audited)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from flask import flash, redirect, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from caseshare.access import referral_sharing, referrals, services
from caseshare.case_plan import referral_steps
from caseshare.directory.taxonomy import SERVICE_LINES
from caseshare.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
from caseshare.policy.models import RESERVED_PURPOSES
from caseshare.uk_time import UK
from caseshare.web import forms
from caseshare.web.blueprint import bp, page, require, run, runtime, unit_of_work, user
from caseshare.web.explanations import explain
from caseshare.web.filters import org_name, purpose_name

REFERRAL_FIELDS = {"to_org": "to_org", "purpose": "purpose", "message": "message",
                   "contact_name": "contact_name", "appointment_at": "appointment-day",
                   "service_id": "to_org"}
TIME = re.compile(r"^(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm)?$", re.IGNORECASE)
MESSAGE_MAX, CONTACT_MAX, REASON_MAX = 4000, 200, 1000


def _recipients() -> list[str]:
    """Organisations sharing a protocol with the user's own (the use case checks the flow and
    the claimant's consent)."""
    org = user().principal.org
    return sorted({p.id for protocol in runtime().protocols.for_party(org)
                   for p in protocol.parties if p.id != org})


def _purposes() -> list[str]:
    org = user().principal.org
    return sorted({p for protocol in runtime().protocols.for_party(org)
                   for p in protocol.purposes if p not in RESERVED_PURPOSES})


def parse_time(value: str) -> time | None:
    """'14:30', '2:30pm', '2pm', '9.15' -> a time of day; None if it is not one."""
    match = TIME.match(value.strip())
    if not match:
        return None
    hour, minute, half = int(match.group(1)), int(match.group(2) or 0), match.group(3)
    if half:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half.lower() == "pm" else 0)
    elif match.group(2) is None:
        return None  # a bare number is ambiguous: 9 or 21?
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def _read(submitted: Any) -> tuple[dict[str, Any], forms.Errors]:
    values: dict[str, Any] = {name: forms.text(submitted, name)
                              for name in ("to_org", "purpose", "message", "contact_name",
                                           "appointment_time")}
    values["appointment"] = forms.date_parts(submitted, "appointment")
    errors: forms.Errors = {}
    if values["to_org"] not in _recipients():
        errors["to_org"] = "Select the organisation you are referring the claimant to"
    if values["purpose"] not in _purposes():
        errors["purpose"] = "Select what the referral is for"
    forms.check_text(errors, "message", values["message"], max_length=MESSAGE_MAX,
                     missing="Enter a message for the organisation",
                     too_long="Message must be 4,000 characters or fewer")
    forms.check_text(errors, "contact_name", values["contact_name"], max_length=CONTACT_MAX,
                     missing="Enter the name of the person the claimant will see",
                     too_long="Name must be 200 characters or fewer")
    values["appointment_at"] = _appointment(values, errors)
    return values, errors


def _appointment(values: dict[str, Any], errors: forms.Errors) -> datetime | None:
    """The appointment, if a date or time was given: a real date in the future, at the time
    given (09:00 if none); each problem is an error on the box that has it."""
    if not any(values["appointment"].values()) and not values["appointment_time"]:
        return None
    day = forms.parse_date(values["appointment"])
    at = parse_time(values["appointment_time"]) if values["appointment_time"] else time(9)
    if day is None:
        errors["appointment-day"] = "Enter a real appointment date, like 5 12 2026"
        return None
    if at is None:
        errors["appointment_time"] = "Enter the time like 14:30 or 2:30pm"
        return None
    moment = datetime.combine(day, at, tzinfo=UK)
    if moment <= runtime().now():
        errors["appointment-day"] = "The appointment must be in the future"
    return moment


@dataclass(frozen=True)
class NotOffered:
    """An organisation (for one purpose, or for any) a referral may not go to, and why."""

    org: str
    purpose: str | None
    sentence: str
    next_step: str


@dataclass(frozen=True)
class Offer:
    """What the form offers: organisations and purposes a referral may lawfully go to, what each
    organisation could read once it accepts, and the others explained."""

    orgs: list[str]
    purposes: list[str]
    purposes_of: dict[str, list[str]]
    readable: list[tuple[str, str, list[str]]]  # (org, purpose, categories)
    not_offered: list[NotOffered]


def offer(targets: list[referrals.Target]) -> Offer:
    """Turn the decision for each organisation and purpose into the form's choices. An
    organisation with no lawful purpose is explained once (by the reason with a next step the
    worker can take, such as asking the claimant, where there is one); for an offered
    organisation, only the purposes the claimant's consent leaves out are explained (a purpose
    the agreements never give it is no choice at all)."""
    allowed = [t for t in targets if t.allowed]
    purposes_of: dict[str, list[str]] = {}
    for t in allowed:
        purposes_of.setdefault(t.to_org, []).append(t.purpose or "")
    not_offered = []
    for org in sorted({t.to_org for t in targets} - set(purposes_of)):
        refused = sorted((t for t in targets if t.to_org == org), key=_usefulness)
        not_offered.append(_explained(refused[0]))
    not_offered += [_explained(t) for t in targets if not t.allowed and t.to_org in purposes_of
                    and _usefulness(t) == 0]
    return Offer(orgs=sorted(purposes_of, key=org_name), purposes=sorted(
        {p for ps in purposes_of.values() for p in ps}), purposes_of=purposes_of,
        readable=[(t.to_org, t.purpose or "", t.categories) for t in allowed],
        not_offered=not_offered)


def _usefulness(target: referrals.Target) -> int:
    """0 for a refusal the claimant's consent could change (the worker can act on it), 1 for
    the rest (the agreements themselves)."""
    return 0 if set(target.reasons) & CONSENT_REASONS else 1


def _explained(target: referrals.Target) -> NotOffered:
    reason = target.reasons[0]
    sentence, next_step = _refusal(reason, target.to_org, target.purpose)
    return NotOffered(target.to_org, target.purpose, sentence, next_step)


@dataclass(frozen=True)
class SharingRow:
    """One organisation and purpose on the referral page: what it will be able to read, and
    what it will not, as (categories, why in plain words)."""

    org: str
    purpose: str
    readable: list[str]
    not_readable: list[tuple[list[str], str]]


def _form(subject_id: uuid.UUID, values: dict[str, Any], errors: forms.Errors,
          status: int = 200, service: services.ServiceItem | None = None) -> tuple[str, int]:
    """The form, from the decision: the organisations and purposes a referral may go to, and
    for each (or, with a service chosen, for its organisation only) exactly what it will and
    will not be able to read about this claimant (one unit of work, both questions audited)."""
    with unit_of_work("referrals:write") as ctx:
        choices = offer(referrals.referral_targets(ctx, subject_id))
        party = service.service.party_id if service else None
        pairs = [(org, purpose) for org, purpose, _c in choices.readable
                 if service is None or org == party]
        shared = referral_sharing.referral_sharing(ctx, subject_id, pairs)
    return page("referral_new.html", status, subject_id=subject_id, values=values,
                errors=errors, offer=choices, service=service,
                sharing=[_sharing_row(s) for s in shared], lines=SERVICE_LINES)


def _sharing_row(shared: referral_sharing.Sharing) -> SharingRow:
    """The categories it will not read grouped by the plain-words reason."""
    grouped: dict[str, list[str]] = {}
    for withheld in shared.not_readable:
        why = _not_readable_why(withheld.reasons[0], shared.to_org, shared.purpose)
        grouped.setdefault(why, []).append(withheld.category)
    return SharingRow(shared.to_org, shared.purpose, shared.readable,
                      [(cats, why) for why, cats in grouped.items()])


# Why the receiving organisation will not read a kind of information, in plain words.
NOT_READABLE: dict[str, str] = {
    "category_not_in_flow": "the information sharing agreements do not pass this to {recipient} "
                            "for {doing}",
    "category_not_in_protocol": "the information sharing agreements do not pass this to "
                                "{recipient} for {doing}",
    "role_not_granted": "{recipient} is not given access to this for {doing}",
    "direction_not_permitted": "the information sharing agreements do not pass this to "
                               "{recipient} for {doing}",
    "explicit_consent_required": "this needs the claimant's explicit consent, which does not "
                                 "cover {recipient}",
    "category_excluded_by_consent": "the claimant asked for this not to be shared",
    "consent_expired": "the claimant's consent has expired",
    "consent_withdrawn": "the claimant withdrew their consent",
    "subject_erased": "the claimant's information has been erased",
}


def _not_readable_why(reason: str, to_org: str, purpose: str) -> str:
    values = {"recipient": org_name(to_org), "doing": purpose_name(purpose).lower()}
    if reason in NOT_READABLE:
        return NOT_READABLE[reason].format(**values)
    if reason in CONSENT_REASONS:
        return "the claimant has not agreed to share this with {recipient} for {doing}".format(
            **values)
    return explain(reason, org=values["recipient"], category="it",
                   purpose=values["doing"]).sentence.rstrip(".")


def _service(service_id: str) -> services.ServiceItem | None:
    """The directory service a referral is made to (None when none is given or it is not
    in the directory)."""
    if not service_id:
        return None
    try:
        return run("referrals:read", services.get_service, service_id[:100])
    except NotFoundError:
        return None


@bp.route("/claimants/<uuid:subject_id>/referrals/new", methods=["GET", "POST"])
def make_referral(subject_id: uuid.UUID) -> BaseResponse | tuple[str, int]:
    """Make a referral, to an organisation or to one of its directory services (`service_id`,
    from the Find a service page): the service's organisation is preselected, and the page
    shows what will and will not be shared with it."""
    if request.method == "GET":
        service = _service(request.args.get("service_id", ""))
        values: dict[str, Any] = {"purpose": user().purpose}
        if service is not None and service.service.party_id:
            values["to_org"] = service.service.party_id
        return _form(subject_id, values, {}, service=service)
    values, errors = _read(request.form)
    service = _service(forms.text(request.form, "service_id"))
    if service is not None and values["to_org"] and values["to_org"] != service.service.party_id:
        errors["to_org"] = (f"{service.service.name} is provided by "
                            f"{service.service.organisation_name}: choose it, or find a "
                            "different service")
    if errors:
        return _form(subject_id, values, errors, 422, service)
    data = {"to_org": values["to_org"], "purpose": values["purpose"],
            "message": values["message"], "contact_name": values["contact_name"],
            "appointment_at": values["appointment_at"]}
    if service is not None:
        data["service_id"] = service.service.id
    try:
        run("referrals:write", referrals.create_referral, subject_id, data)
    except ValidationError as exc:
        return _form(subject_id, values,
                     forms.domain_errors(exc.extra["errors"], REFERRAL_FIELDS), 422, service)
    except ForbiddenError as exc:
        # Refused (and audited) by the use case: say why next to the choice, keeping the text.
        why = [" ".join(_refusal(r, values["to_org"], values["purpose"]))
               for r in exc.extra.get("reasons") or []]
        message = " ".join(why) or "This referral is not allowed"
        return _form(subject_id, values, {"to_org": message.rstrip(".")}, 403, service)
    flash(f"Referral sent to {org_name(values['to_org'])}. They will see it in their "
          "referrals and can accept or decline it.")
    return redirect(url_for("web.overview", subject_id=subject_id))


# Why a referral may not go somewhere, in plain words with the next step. {recipient} is the
# receiving organisation, {doing} the referral's purpose (lower case), {me} the user's own.
REFUSALS: dict[str, tuple[str, str]] = {
    "recipient_not_in_consent": (
        "The claimant's consent does not name {recipient}.",
        "Ask the claimant to add {recipient} to their consent, and record the new consent."),
    "purpose_not_consented": (
        "The claimant agreed to share information with {recipient}, but not for {doing}.",
        "Ask the claimant whether they agree to share it for {doing}, and record their "
        "consent."),
    "no_consent": (
        "The claimant has not agreed to share information with {recipient} for {doing}.",
        "Ask the claimant to add {recipient} to their consent, and record the new consent."),
    "category_not_consented": (
        "The claimant's consent does not include anything {recipient} would receive for "
        "{doing}.",
        "Ask the claimant whether they agree to share it with {recipient}, and record their "
        "consent."),
    "consent_expired": (
        "The claimant's consent to share with {recipient} has expired.",
        "Ask the claimant to renew their consent, and record it."),
    "consent_withdrawn": (
        "The claimant has withdrawn their consent to share with {recipient}.",
        "Respect the claimant's decision. Only ask again if the claimant raises it."),
    "role_not_granted": (
        "{recipient} is not given access to this claimant's information for {doing} under "
        "the information sharing agreements.",
        "Choose another reason for the referral if one fits, or speak to your information "
        "governance officer."),
    "direction_not_permitted": (
        "The information sharing agreements do not let {me} refer claimants to {recipient}"
        "{for_doing}.",
        "Speak to your information governance officer if you need to."),
}
CONSENT_REASONS = frozenset({"recipient_not_in_consent", "purpose_not_consented", "no_consent",
                             "category_not_consented", "category_excluded_by_consent",
                             "explicit_consent_required", "consent_expired",
                             "consent_withdrawn", "consent_not_yet_valid",
                             "consent_unverified"})


def _refusal(reason: str, to_org: str, purpose: str | None) -> tuple[str, str]:
    """Why a referral may not go to `to_org` for `purpose`, and the next step, in plain
    English. The reasons are about the receiving organisation (its grants, the claimant's
    consent to it), except the sender's own case relationship."""
    recipient = org_name(to_org)
    doing = purpose_name(purpose).lower() if purpose else "any purpose"
    if reason in REFUSALS:
        sentence, next_step = REFUSALS[reason]
        values = {"recipient": recipient, "doing": doing, "me": user().org_name,
                  "for_doing": f" for {doing}" if purpose else ""}
        return sentence.format(**values), next_step.format(**values)
    org = user().org_name if reason == "no_case_relationship" else recipient
    found = explain(reason, org=org, category="this information", purpose=doing)
    return found.sentence, found.next_step


@bp.route("/referrals", methods=["GET"])
def referral_inbox() -> tuple[str, int]:
    box = "sent" if request.args.get("box") == "sent" else "inbox"
    items, _cursor = run("referrals:read", referrals.inbox, box=box, status=None,
                         limit=200, cursor=None)
    items.sort(key=lambda r: (r["status"] != "open", -r["created_at"].timestamp()))
    for item in items:
        item["claimant_why"] = None if item["claimant_name"] else _unnamed(item, box)
        item["suspended_why"] = " ".join(
            _refusal(r, item["to_org"], item["purpose"])[0] for r in item["reasons"])
    return page("referrals.html", box=box, items=items)


def _unnamed(item: dict[str, Any], box: str) -> str:
    """Why a referral in a box says "a claimant" rather than a name, in plain words."""
    reasons = item["claimant_withheld"]
    if "subject_erased" in reasons:
        return "This claimant's information has been erased."
    if item["status"] == "suspended":
        return "The claimant's consent no longer covers this referral, so their name is hidden."
    if box == "inbox" and item["status"] == "declined":
        return (f"{user().org_name} declined this referral, so it does not see who the "
                "claimant is.")
    if box == "inbox" and item["status"] == "open":
        return (f"The claimant has not agreed to share their name with {user().org_name} "
                f"for {purpose_name(item['purpose']).lower()}.")
    found = explain(reasons[0] if reasons else "direction_not_permitted", org=user().org_name,
                    category="the claimant's name", purpose=purpose_name(user().purpose).lower())
    return found.sentence


@bp.route("/referrals/<uuid:referral_id>/accept", methods=["POST"])
def accept_referral(referral_id: uuid.UUID) -> BaseResponse:
    """Accept: back to the claimant's overview from the inbox, or to the referral's own page
    when accepted there (`back=referral`), where its next step (booking) is."""
    opened = run("referrals:write", referrals.accept_referral, referral_id)
    flash(f"Referral accepted. {user().org_name} now works with this claimant.")
    if request.form.get("back") == "referral":
        return redirect(url_for("web.referral_page", referral_id=referral_id))
    return redirect(url_for("web.overview", subject_id=opened["subject_id"]))


@bp.route("/referrals/<uuid:referral_id>/decline", methods=["GET", "POST"])
def decline_referral(referral_id: uuid.UUID) -> BaseResponse | tuple[str, int]:
    if request.method == "GET":
        require("referrals:write")
        return page("referral_decline.html", referral_id=referral_id, values={}, errors={})
    reason = forms.text(request.form, "reason")
    errors: forms.Errors = {}
    if not reason:
        errors["reason"] = "Enter why you are declining the referral"
    elif len(reason) > REASON_MAX:
        errors["reason"] = "Reason must be 1,000 characters or fewer"
    if errors:
        return page("referral_decline.html", 422, referral_id=referral_id,
                    values={"reason": reason}, errors=errors)
    run("referrals:write", referrals.decline_referral, referral_id, reason)
    flash("Referral declined. The organisation that sent it will see that you declined it.")
    return redirect(url_for("web.referral_inbox"))


# The fields of the step forms on the referral page (unique ids: several forms on one page).
STEP_FIELDS = {"appointment_at": "appointment-day", "location": "location",
               "outcome": "outcome", "note": "note", "type": "type"}
NOTE_MAX, LOCATION_MAX = 2000, 300
STEP_DONE = {"booked": "Appointment booked.", "attended": "Attendance recorded.",
             "did_not_attend": "Missed appointment recorded.",
             "completed": "Referral completed with its outcome.",
             "withdrawn": "Referral withdrawn. The organisation it was sent to has been told."}


@bp.route("/referrals/<uuid:referral_id>", methods=["GET"])
def referral_page(referral_id: uuid.UUID) -> tuple[str, int]:
    """One referral for the organisation that sent it or received it: its status, timeline
    and, as plain forms, only the steps the caller's side may take now."""
    return _referral_page(referral_id, {}, {})


def _referral_page(referral_id: uuid.UUID, values: dict[str, Any], errors: forms.Errors,
                   status: int = 200, problem: str | None = None) -> tuple[str, int]:
    item = run("referrals:read", referrals.get_referral, referral_id)
    me = user().principal.org
    side = "receiver" if item["to_org"] == me else "sender"
    # respond_by is the first moment it is late: the page says the day before it ends.
    answer_by = item["respond_by"] - timedelta(seconds=1) if item["respond_by"] else None
    return page("referral.html", status, r=item, side=side, values=values, errors=errors,
                problem=problem, waiting=_waiting(item, side), answer_by=answer_by,
                outcomes=list(referral_steps.outcomes().values()))


def _waiting(item: dict[str, Any], side: str) -> str | None:
    """Why no step is offered (or what the other side does next), in plain words."""
    status, other = item["status"], org_name(item["to_org"] if side == "sender"
                                             else item["from_org"])
    if status == "completed":
        return "This referral is complete: its outcome is recorded. There is nothing more to do."
    if status == "declined":
        return "This referral was declined, so it is closed."
    if status == "withdrawn":
        return (f"{org_name(item['from_org'])} withdrew this referral, so it is closed. "
                "Nothing more is recorded on it.")
    if status == "suspended":
        return ("The claimant's consent no longer covers this referral, so it is paused and its "
                "details are hidden. Record a new consent and make a new referral if the "
                "claimant agrees.")
    if side == "sender":
        return (f"{other} records the appointment, attendance and outcome. You will get a "
                "notification at each step.")
    return None


@bp.route("/referrals/<uuid:referral_id>/steps", methods=["POST"])
def referral_step(referral_id: uuid.UUID) -> BaseResponse | tuple[str, int]:
    values, errors = _read_step(request.form)
    if errors:
        return _referral_page(referral_id, values, errors, 422)
    data = {"type": values["type"], "appointment_at": values.get("appointment_at"),
            "location": values.get("location") or None, "outcome": values.get("outcome") or None,
            "note": values.get("note") or None}
    try:
        run("referrals:write", referrals.record_step, referral_id,
            {k: v for k, v in data.items() if v is not None})
    except ValidationError as exc:
        fields = {**STEP_FIELDS, "note": f"{values['type']}-note"}
        return _referral_page(referral_id, values,
                              forms.domain_errors(exc.extra["errors"], fields), 422)
    except ConflictError as exc:
        return _referral_page(referral_id, values, {}, 409,
                              f"{exc.detail} The page now shows where the referral stands.")
    except ForbiddenError as exc:
        return _referral_page(referral_id, values, {}, 403, " ".join(
            explain(r, org=user().org_name, category="this referral",
                    purpose=purpose_name(user().purpose).lower()).sentence
            for r in exc.extra.get("reasons") or []))
    flash(STEP_DONE[values["type"]])
    return redirect(url_for("web.referral_page", referral_id=referral_id))


def _read_step(submitted: Any) -> tuple[dict[str, Any], forms.Errors]:
    """The step form as typed (kept to re-render it), and its problems by field id."""
    type = forms.text(submitted, "type")
    values: dict[str, Any] = {"type": type, "note": forms.text(submitted, "note"),
                              "location": forms.text(submitted, "location"),
                              "outcome": forms.text(submitted, "outcome"),
                              "appointment_time": forms.text(submitted, "appointment_time"),
                              "appointment": forms.date_parts(submitted, "appointment")}
    errors: forms.Errors = {}
    if type not in referral_steps.STEPS:
        errors["type"] = "Choose a step to record"
        return values, errors
    forms.check_text(errors, f"{type}-note", values["note"], max_length=NOTE_MAX,
                     too_long="Note must be 2,000 characters or fewer")
    if type == "booked":
        forms.check_text(errors, "location", values["location"], max_length=LOCATION_MAX,
                         missing="Enter where the appointment is",
                         too_long="Place must be 300 characters or fewer")
        if not any(values["appointment"].values()):
            errors["appointment-day"] = "Enter the appointment date"
        else:
            values["appointment_at"] = _appointment(values, errors)
    if type == "completed" and values["outcome"] not in referral_steps.outcomes():
        errors["outcome"] = "Select what came of the referral"
    return values, errors
