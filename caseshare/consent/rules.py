"""The rules a consent must meet before it is recorded: pure functions, no I/O, no clock.

Each rule names the request field it is about, so the claimant-facing screen can point at it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from caseshare.consent.forms import ConsentForm
from caseshare.consent.jurisdictions import ConsentAgeRules, rules_for
from caseshare.policy.models import ProtocolSet

Errors = dict[str, list[str]]

# Methods where nothing but the recorder's word shows consent was given, unless evidence (a call
# recording reference, a note countersigned by an interpreter...) is attached.
VERBAL_METHODS = frozenset({"verbal_in_person", "verbal_phone"})

# UC appointees act for the claimant in benefit matters only: never treatment or health records.
APPOINTEE_CATEGORIES = frozenset({"identity", "contact", "benefit_claim", "finances",
                                  "employment", "housing_tenancy"})
# Property and financial attorneys: money and property (rent is a property matter), plus the
# identity and contact details needed to act at all.
FINANCIAL_CATEGORIES = frozenset({"identity", "contact", "benefit_claim", "finances",
                                  "housing_tenancy"})
PROXY_CATEGORY_LIMITS: dict[str, frozenset[str]] = {
    "dwp_appointee": APPOINTEE_CATEGORIES,
    "lpa_property_financial": FINANCIAL_CATEGORIES,
}
# The ages children consent at, per jurisdiction (Scotland presumes competence at 12, England
# and Wales assess Gillick competence; online, 13 everywhere): jurisdictions.py.
EXPIRY_RULES = ("fixed_date", "assessment_period_end", "case_closed")
# UC assessment periods are monthly: "end of the next assessment period" is at most two away.
ASSESSMENT_PERIOD_MAX_DAYS = 62


@dataclass(frozen=True)
class SubjectSituation:
    """What the rules need to know about the claimant (read by the use case, not here)."""

    jurisdiction: str
    age: int | None  # whole years at the time of consent; None if not known
    # A competent child's own refusal is on record (not superseded, not expired).
    competent_child_refused: bool = False
    # Recipients the claimant withdrew consent from within their protocols' cooling period.
    recently_withdrawn: frozenset[str] = field(default_factory=frozenset)

    @property
    def rules(self) -> ConsentAgeRules:
        return rules_for(self.jurisdiction)

    @property
    def is_child(self) -> bool:
        return self.age is not None and self.age < self.rules.adult_age

    @property
    def presumed_competent(self) -> bool:
        presumed_from = self.rules.presumed_competent_from
        return presumed_from is not None and self.age is not None and self.age >= presumed_from

    @property
    def too_young_online(self) -> bool:
        return self.age is not None and self.age < self.rules.online_from


def age_on(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def is_verified(method: str, evidence_ref: str | None) -> bool:
    return not (method in VERBAL_METHODS and not evidence_ref)


# Methods that leave a signed document behind: the only ones that may re-grant consent to a
# recipient the claimant withdrew from within the cooling period.
SIGNED_METHODS = frozenset({"wet_signature", "e_signature"})
# What the evidence reference must identify, per method (None: optional, placeholder-checked).
EVIDENCE_REQUIRED: dict[str, str | None] = {
    "wet_signature": "the reference of the signed form (scan or document number)",
    "e_signature": "the reference of the signed document",
    "interpreter": "the interpreter's reference (booking or register number)",
    "verbal_phone": None,  # optional (unverified without it); if given: call reference and time
    "verbal_in_person": None,  # optional (unverified without it); if given: a note reference
    "online": None,  # optional: the submission reference
}
PLACEHOLDERS = frozenset({"x", "xx", "xxx", "n/a", "na", "none", "nil", "null", "tbc", "tba",
                          "unknown", "test", "ref", "no", "yes", "ok", "-", ".", "?"})
MIN_EVIDENCE_LENGTH = 4
# A time of day as HH:MM, 00:00-23:59 ("CALL-2026-11-20 09:31", "C123 at 09:31").
_TIME_OF_DAY = re.compile(r"(?<!\d)([01]\d|2[0-3]):[0-5]\d(?!\d)")


def evidence_problem(method: str, evidence_ref: str | None) -> str | None:
    """Why this evidence reference does not evidence a consent by `method`, or None if it does.
    Placeholders (too short, no letters or digits, one repeated character, "x", "n/a", "-",
    ".") are never evidence."""
    value = (evidence_ref or "").strip()
    needed = EVIDENCE_REQUIRED.get(method)
    if not value:
        return f"Required for {method}: {needed}." if needed else None
    alnum = [ch.casefold() for ch in value if ch.isalnum()]
    if (value.casefold() in PLACEHOLDERS or len(value) < MIN_EVIDENCE_LENGTH or len(alnum) < 3
            or len(set(alnum)) < 2):
        return ("A placeholder is not evidence: give a real reference (at least four "
                "characters, letters and digits, not one character repeated).")
    if not any(ch.isdigit() for ch in alnum):
        return "An evidence reference is numbered: it must contain digits."
    if method == "verbal_phone" and not _TIME_OF_DAY.search(value):
        return "For a phone consent give the call reference and the time of the call (HH:MM)."
    return None


def statement_sha256(statement: str) -> str:
    return hashlib.sha256(_words(statement).encode()).hexdigest()


def _words(text: str) -> str:
    return " ".join(text.split())


def _not_in(values: Iterable[str], allowed: Iterable[str]) -> list[str]:
    allowed = set(allowed)
    return sorted({v for v in values if v not in allowed})


def others_named(scope: dict[str, Any] | None, org: str) -> list[str]:
    """The organisations other than `org` a withdrawal scope names (whether or not they are in
    the consent: a named recipient may not learn which are)."""
    return sorted({r for r in (scope or {}).get("recipients") or [] if r != org})


def recipient_scope(scope: dict[str, Any] | None, org: str) -> dict[str, list[str]]:
    """A named recipient's withdrawal, narrowed to the part that reaches it: recipients is
    always [org] (no scope: everything that reaches it); purposes and categories, if named,
    narrow it further. Call only once `others_named` is empty."""
    narrowed = {k: list(v) for k, v in (scope or {}).items() if v and k != "recipients"}
    return {**narrowed, "recipients": [org]}


def _duplicates(values: list[str]) -> list[str]:
    return sorted({v for v in values if values.count(v) > 1})


def check_choices(data: dict[str, Any], form: ConsentForm, protocols: ProtocolSet) -> Errors:
    """Every option is positively chosen from the form; recipients are named protocol parties."""
    errors: Errors = {}
    if data["language"] not in form.languages:
        errors["language"] = [f"Form {form.id} v{form.version} has no {data['language']!r} text."]
    recipients = list(data["recipients"])
    not_party = _not_in(recipients, protocols.by_party)
    not_on_form = _not_in(recipients, form.recipients)
    if not_party:
        errors["recipients"] = [
            f"Every recipient must be a named organisation that is party to an information "
            f"sharing protocol: {', '.join(not_party)} is not."
        ]
    elif not_on_form:
        errors["recipients"] = [f"Not a named recipient on this form: {', '.join(not_on_form)}."]
    for key, label, offered in (("purposes", "purpose", form.purposes),
                                ("categories", "category", form.categories),
                                ("excluded_categories", "category", form.categories)):
        if bad := _not_in(data.get(key) or [], offered):
            errors[key] = [f"Not a {label} on this form: {', '.join(bad)}."]
    for key in ("recipients", "purposes", "categories"):
        if key not in errors and (dup := _duplicates(list(data[key]))):
            errors[key] = [f"Chosen more than once: {', '.join(dup)}."]
    overlap = sorted(set(data["categories"]) & set(data.get("excluded_categories") or []))
    if overlap and "excluded_categories" not in errors:
        errors["excluded_categories"] = [f"Both included and excluded: {', '.join(overlap)}."]
    return errors


def check_explicit(data: dict[str, Any], form: ConsentForm, protocols: ProtocolSet) -> Errors:
    """Special category and criminal offence data need explicit, verifiable consent: the
    claimant confirmed the form's own explicit statement in the consent's language. Any other
    `explicit_statement` (free text, another language's words, a dot) is refused, whether or not
    a special category is chosen."""
    errors: Errors = {}
    given = data.get("explicit_statement")
    expected = form.text.get(data["language"], {}).get("explicit_statement")
    if given is not None and (expected is None or _words(given) != _words(expected)):
        errors["explicit_statement"] = [
            "Must be the form's own explicit statement in the consent's language, exactly as "
            "shown to the claimant (GET /consent-forms/{id}/{version}?lang=)."
        ]
    if data.get("decision", "granted") != "granted":
        return errors
    sensitive = sorted(c for c in data["categories"] if protocols.is_sensitive(c))
    if not sensitive:
        return errors
    if given is None and "explicit_statement" not in errors:
        errors["explicit_statement"] = [
            f"Explicit consent is required for special or criminal categories: "
            f"{', '.join(sensitive)}."
        ]
    if not is_verified(data["method"], data.get("evidence_ref")):
        errors["evidence_ref"] = [
            f"A verbal consent without evidence is unverified and cannot cover special or "
            f"criminal categories: {', '.join(sensitive)}."
        ]
    return errors


def check_evidence(data: dict[str, Any]) -> Errors:
    if problem := evidence_problem(data["method"], data.get("evidence_ref")):
        return {"evidence_ref": [problem]}
    return {}


def check_cooling(data: dict[str, Any], subject: SubjectSituation) -> Errors:
    """A consent naming a recipient the claimant recently withdrew from needs a signature."""
    if data.get("decision", "granted") != "granted" or data["method"] in SIGNED_METHODS:
        return {}
    cooling = sorted(set(data["recipients"]) & subject.recently_withdrawn)
    if not cooling:
        return {}
    return {"method": [
        f"The claimant withdrew consent from {', '.join(cooling)} recently (within the "
        f"protocol's cooling period): a new consent naming them needs a wet or e-signature."]}


def regranted_after_withdrawal(data: dict[str, Any], subject: SubjectSituation) -> list[str]:
    if data.get("decision", "granted") != "granted":
        return []
    return sorted(set(data["recipients"]) & subject.recently_withdrawn)


def _assessed_on_errors(field: str, assessment: dict[str, Any], today: date) -> Errors:
    if assessment.get("assessed_on") and assessment["assessed_on"] > today:
        return {f"{field}.assessed_on": ["Cannot be in the future."]}
    return {}


def check_authority(data: dict[str, Any], subject: SubjectSituation, now: datetime) -> Errors:
    """Who may consent: the claimant, or a proxy within the limits of their authority."""
    given_by = data["given_by"]
    kind = given_by["type"]
    categories = list(data["categories"])
    capacity = data.get("capacity")
    errors: Errors = {}
    if kind != "self" and not given_by.get("authority_ref"):
        errors["given_by.authority_ref"] = [
            "Required when someone consents on the claimant's behalf (appointeeship, LPA or "
            "court order reference, or the basis of parental responsibility)."
        ]
    if capacity is not None:
        errors |= _assessed_on_errors("capacity", capacity, now.date())
    limit = PROXY_CATEGORY_LIMITS.get(kind)
    if limit is not None and (bad := _not_in(categories, limit)):
        errors["given_by.type"] = [
            f"A {kind} cannot consent to these categories: {', '.join(bad)}."
        ]
    if kind == "self" and capacity is not None and capacity.get("lacks_capacity"):
        errors["capacity.lacks_capacity"] = [
            "A claimant assessed as lacking capacity for this decision cannot consent "
            "themselves; an attorney or deputy must."
        ]
    if kind == "lpa_health_welfare":
        if capacity is None:
            errors["capacity"] = [
                "A health and welfare attorney may act only where the claimant lacks capacity "
                "for this decision: record the capacity assessment."
            ]
        elif not capacity.get("lacks_capacity"):
            errors["capacity.lacks_capacity"] = [
                "The claimant has capacity for this decision, so they decide, not their health "
                "and welfare attorney."
            ]
    return errors | _check_child(data, subject, now.date())


def _check_child(data: dict[str, Any], subject: SubjectSituation, today: date) -> Errors:
    """The rules of the claimant's jurisdiction for children (jurisdictions.py)."""
    kind = data["given_by"]["type"]
    errors: Errors = {}
    if kind == "parental_responsibility" and not subject.is_child:
        errors["given_by.type"] = [
            f"{subject.rules.name} parental responsibility applies only to a child under "
            f"{subject.rules.adult_age}."]
    if kind == "self" and subject.is_child:
        errors |= _check_child_competence(data.get("competence"), subject, today)
        if data.get("method") == "online" and subject.too_young_online:
            errors["method"] = [
                f"A child under {subject.rules.online_from} cannot give their own consent "
                "online (UK GDPR Article 8): record it in person, or a person with parental "
                "responsibility consents."]
    return errors


def _check_child_competence(competence: dict[str, Any] | None, subject: SubjectSituation,
                            today: date) -> Errors:
    if competence is None:
        if subject.presumed_competent:
            return {}
        return {"competence": [_assessment_needed(subject.rules)]}
    if not competence.get("competent"):
        return {"competence.competent": [
            "The child was assessed as not competent for this decision; a person with parental "
            "responsibility must decide."]}
    return _assessed_on_errors("competence", competence, today)


def _assessment_needed(rules: ConsentAgeRules) -> str:
    presumed = (f" (a child of {rules.presumed_competent_from} or over is presumed competent)"
                if rules.presumed_competent_from is not None else
                " (it is never presumed: a child of any age may be competent, or not)")
    return (f"{rules.name} a child's own consent needs a recorded assessment of their "
            f"{rules.competence_test}{presumed}.")


def competence_record(data: dict[str, Any], subject: SubjectSituation) -> dict[str, Any] | None:
    """What to store about a child's competence: the assessment, or the presumption of their
    jurisdiction (with the law it rests on)."""
    if data["given_by"]["type"] != "self" or not subject.is_child:
        return None
    competence = data.get("competence")
    if competence is None:
        return {"competent": True, "presumed": True, "basis": subject.rules.presumption_basis}
    return {**_jsonable(competence), "presumed": False}


def _jsonable(value: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in value.items()}


def capacity_record(data: dict[str, Any]) -> dict[str, Any] | None:
    capacity = data.get("capacity")
    return _jsonable(capacity) if capacity is not None else None


def max_flow_days(protocols: ProtocolSet, recipients: Iterable[str], purposes: Iterable[str],
                  categories: Iterable[str]) -> int | None:
    """The tightest `max_consent_days` of any flow these choices would rely on."""
    recipients, purposes, categories = set(recipients), set(purposes), set(categories)
    limits = [
        f.max_consent_days
        for p in protocols.protocols
        for f in p.flows
        if f.max_consent_days
        and f.to_orgs & recipients and f.purposes & purposes and f.categories & categories
    ]
    return min(limits) if limits else None


def check_period(data: dict[str, Any], form: ConsentForm, protocols: ProtocolSet,
                 now: datetime) -> Errors:
    """Every consent expires, never later than the form and the protocol allow."""
    valid_from: datetime = data.get("valid_from") or now
    expires_at: datetime = data["expires_at"]
    rule = data.get("expiry_rule") or "fixed_date"
    errors: Errors = {}
    if valid_from < now:
        errors["valid_from"] = ["Cannot be before the moment the consent is recorded."]
    period = expires_at - valid_from
    protocol_days = max_flow_days(protocols, data["recipients"], data["purposes"],
                                  data["categories"])
    if expires_at <= valid_from:
        errors["expires_at"] = ["Must be after valid_from."]
    elif period > timedelta(days=form.max_duration_days):
        errors["expires_at"] = [f"No more than {form.max_duration_days} days on this form."]
    elif protocol_days is not None and period > timedelta(days=protocol_days):
        errors["expires_at"] = [
            f"The protocol allows at most {protocol_days} days of consent for these choices."
        ]
    elif rule == "assessment_period_end" and period > timedelta(days=ASSESSMENT_PERIOD_MAX_DAYS):
        errors["expires_at"] = [
            "The end of the next assessment period is at most two months away."
        ]
    return errors


def validate_consent(data: dict[str, Any], form: ConsentForm, protocols: ProtocolSet,
                     subject: SubjectSituation, now: datetime) -> Errors:
    """All the 422 rules; the 409 ones (state conflicts) are `conflicts`."""
    return (check_choices(data, form, protocols) | check_evidence(data)
            | check_explicit(data, form, protocols) | check_authority(data, subject, now)
            | check_period(data, form, protocols, now) | check_cooling(data, subject))


def conflicts(data: dict[str, Any], subject: SubjectSituation) -> Errors:
    if data["given_by"]["type"] == "parental_responsibility" and subject.competent_child_refused:
        return {"given_by.type": [
            "The child is competent and has refused; a parent cannot override that refusal."]}
    return {}
