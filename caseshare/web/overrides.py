"""Emergency access ("break glass"): a deliberate, separate page, never a button on the overview.
The user chooses the lawful route, writes a justification, limits the information (scope) and
the hours (time box), and confirms they understand that an IG officer reviews every use. The
override use case checks all of it against the protocol, seals the justification and audits."""

from __future__ import annotations

import uuid
from typing import Any

from flask import request
from werkzeug.wrappers import Response as BaseResponse

from caseshare.access import overrides
from caseshare.errors import ConflictError, ForbiddenError, ValidationError
from caseshare.overrides.service import DEFAULT_REVIEW_HOURS, OverrideRequest
from caseshare.policy.models import Protocol, usable_protocols
from caseshare.web import forms
from caseshare.web.blueprint import bp, page, require, run, runtime, user
from caseshare.web.explanations import explain
from caseshare.web.filters import purpose_name

OVERRIDE_FIELDS = {"route": "route", "justification": "justification",
                   "categories": "categories", "hours": "hours"}
ROUTE_NAMES = {
    "safeguarding": "Safeguarding: someone is at risk of abuse, neglect or serious harm",
    "vital_interests": "Vital interests: the claimant's life is at risk and they cannot consent",
    "crime_prevention": "Preventing or detecting a crime",
}
JUSTIFICATION_MAX = 4000


def _rules() -> list[Protocol]:
    """The agreements that let this user's role break glass for their purpose (for the form's
    choices only: the use case decides)."""
    u, rt = user(), runtime()
    usable, _why = usable_protocols(u.principal.org, rt.protocols, rt.now())
    return [p for p in usable if p.override.permitted and u.purpose in p.purposes
            and p.override.roles & u.principal.roles]


EMERGENCY_WORDS = {
    "no_case_relationship": (
        "{org} is not working with this claimant, so you cannot use emergency access.",
        "If someone is at risk, follow your safeguarding procedure and contact the "
        "organisation leading the claimant's case."),
    "override_not_permitted": (
        "The information sharing agreements do not allow emergency access for {purpose}.",
        "If someone is at risk, follow your safeguarding procedure and speak to your "
        "safeguarding lead."),
    "role_not_granted": (
        "The information sharing agreements do not allow your role to use emergency access "
        "for {purpose}.",
        "If someone is at risk, follow your safeguarding procedure and speak to your "
        "safeguarding lead or your information governance officer."),
}


def emergency_access(subject_id: uuid.UUID) -> dict[str, Any]:
    """Whether the overview offers emergency access to this user for this claimant, and if not,
    why and who to contact, in plain words."""
    reason = run("subjects:read", overrides.emergency_refusal, subject_id)
    if reason is None:
        return {"offered": True}
    u = user()
    sentence, next_step = EMERGENCY_WORDS[reason.value]
    names = {"org": u.org_name, "purpose": purpose_name(u.purpose).lower()}
    return {"offered": False, "reason": reason.value, "sentence": sentence.format(**names),
            "next_step": next_step.format(**names)}


def _choices(rules: list[Protocol]) -> dict[str, Any]:
    u = user()
    return {
        "routes": sorted({r for p in rules for r in p.override.routes}),
        "categories": sorted({c for p in rules for g in p.grants
                              if u.principal.org in g.parties and u.purpose in g.purposes
                              and g.roles & u.principal.roles for c in g.read}),
        "max_hours": max((p.override.max_hours for p in rules), default=0),
        "min_justification": min((p.override.min_justification for p in rules), default=100),
        "review_hours": min((p.override.review_within_hours or DEFAULT_REVIEW_HOURS
                             for p in rules), default=DEFAULT_REVIEW_HOURS),
    }


def _form(subject_id: uuid.UUID, values: dict[str, Any], errors: forms.Errors,
          status: int = 200, refused: list[str] | None = None) -> tuple[str, int]:
    rules = _rules()
    offer = emergency_access(subject_id)
    return page("break_glass.html", status, subject_id=subject_id, values=values,
                errors=errors, choices=_choices(rules), permitted=bool(rules) and offer["offered"],
                offer=offer, route_names=ROUTE_NAMES, refused=refused or [])


def _read(submitted: Any, choices: dict[str, Any]) -> tuple[dict[str, Any], int, forms.Errors]:
    """The submitted request, its hours as a number, and what is wrong with it."""
    values: dict[str, Any] = {
        "route": forms.text(submitted, "route"),
        "justification": forms.text(submitted, "justification"),
        "categories": forms.ticked(submitted, "categories", choices["categories"]),
        "hours": forms.text(submitted, "hours"),
        "understood": submitted.get("understood") == "yes",
    }
    errors: forms.Errors = {}
    if values["route"] not in choices["routes"]:
        errors["route"] = "Select the lawful reason for emergency access"
    forms.check_text(errors, "justification", values["justification"],
                     max_length=JUSTIFICATION_MAX,
                     missing="Explain why you need emergency access",
                     too_long="Justification must be 4,000 characters or fewer")
    if not values["categories"]:
        errors["categories"] = "Select the information you need"
    hours = int(values["hours"]) if values["hours"].isdigit() else 0
    if not 1 <= hours <= max(choices["max_hours"], 1):
        errors["hours"] = f"Enter a number of hours from 1 to {choices['max_hours']}"
    if not values["understood"]:
        errors["understood"] = ("Confirm that you understand an information governance "
                                "officer will review this")
    return values, hours, errors


@bp.route("/claimants/<uuid:subject_id>/emergency-access", methods=["GET", "POST"])
def break_glass(subject_id: uuid.UUID) -> BaseResponse | tuple[str, int]:
    if request.method == "GET":
        require("overrides:write")
        return _form(subject_id, {}, {})
    values, hours, errors = _read(request.form, _choices(_rules()))
    if errors:
        return _form(subject_id, values, errors, 422)
    try:
        record = run(
            "overrides:write", overrides.request_override, subject_id,
            OverrideRequest(route=values["route"], justification=values["justification"],
                            categories=values["categories"], hours=hours))
    except ValidationError as exc:
        return _form(subject_id, values,
                     forms.domain_errors(exc.extra["errors"], OVERRIDE_FIELDS), 422)
    except ConflictError as exc:  # the caller's own override is still active: nothing extended
        return _form(subject_id, values, {}, 409, refused=[exc.detail])
    except ForbiddenError as exc:
        u = user()
        refused = [explain(r, org=u.org_name, category="this information",
                           purpose=purpose_name(u.purpose).lower()).sentence
                   for r in exc.extra.get("reasons") or []]
        return _form(subject_id, values, {}, 403, refused=refused)
    return page("break_glass_done.html", subject_id=subject_id, record=record)
