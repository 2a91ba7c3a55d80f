"""Plain words for codes on the papers a claimant keeps (consent receipt, "who has seen my
information"). Written in English and marked for the message catalogue; shown with `say`, which
translates into the document's language (see i18n.py)."""

from __future__ import annotations

from flask import current_app

from caseshare.web.i18n import N_, _, language

# Why an organisation used the information, as the end of a sentence.
PURPOSES = {
    "case_management": N_("to coordinate the support you get from different organisations"),
    "recovery_support": N_("to support your recovery alongside getting ready for work"),
    "tenancy_sustainment": N_("to help you keep your home"),
    "budgeting_support": N_("to help you with budgeting and money advice"),
    "triage": N_("to decide which service can help you"),
    "audit": N_("to check that your information is being handled properly"),
    "subject_access": N_("to answer your request to see your information"),
}
CATEGORIES = {
    "identity": N_("your name, date of birth and National Insurance number"),
    "contact": N_("your address and contact details"),
    "employment": N_("your work search and employment"),
    "benefit_claim": N_("your Universal Credit claim"),
    "housing_tenancy": N_("your housing and tenancy"),
    "finances": N_("your money and debts"),
    "substance_misuse": N_("your drug and alcohol treatment"),
    "health_mental": N_("your mental health"),
    "offending": N_("your offending history"),
    "digital_capability": N_("how you get online and use online services"),
    "health_wellbeing": N_("your health and wellbeing, and anything that makes life harder"),
}
ROLES = {
    "work_coach": N_("a work coach"),
    "housing_officer": N_("a housing officer"),
    "key_worker": N_("a treatment key worker"),
    "adviser": N_("an adviser"),
    "ig_officer": N_("an information governance officer"),
    "admin": N_("a system administrator"),
}
STATUSES = {
    "active": N_("In use"),
    "unverified": N_("Waiting for evidence"),
    "partially_withdrawn": N_("Partly withdrawn"),
    "withdrawn": N_("Withdrawn"),
    "expired": N_("Ended"),
    "superseded": N_("Replaced by a newer consent"),
    "refused": N_("You said no"),
}
METHODS = {
    "wet_signature": N_("Signed on paper"),
    "e_signature": N_("Signed electronically"),
    "online": N_("Online"),
    "verbal_in_person": N_("Said in person"),
    "verbal_phone": N_("Said on the phone"),
    "interpreter": N_("Through an interpreter"),
}
GIVEN_BY = {
    "self": N_("You"),
    "dwp_appointee": N_("Your DWP appointee"),
    "lpa_property_financial": N_("Your attorney for property and financial affairs"),
    "lpa_health_welfare": N_("Your attorney for health and welfare"),
    "deputy": N_("Your deputy appointed by the Court of Protection"),
    "parental_responsibility": N_("Someone with parental responsibility for you"),
}
EVENTS = {
    "given": N_("You gave consent"),
    "refused": N_("You said no to sharing"),
    "withdrawn": N_("You withdrew your consent"),
    "partially_withdrawn": N_("You withdrew part of your consent"),
}
# A case plan entry, on the claimant's copy of their plan.
ENTRY_KINDS = {
    "goal": N_("Goal"),
    "action": N_("Action"),
    "note": N_("Note"),
}
ENTRY_STATUSES = {
    "open": N_("Not started"),
    "in_progress": N_("Under way"),
    "done": N_("Done"),
    "cancelled": N_("Stopped"),
}
TABLES = {"purpose": PURPOSES, "category": CATEGORIES, "role": ROLES, "status": STATUSES,
          "method": METHODS, "given_by": GIVEN_BY, "event": EVENTS, "entry_kind": ENTRY_KINDS,
          "entry_status": ENTRY_STATUSES}


# Codes a protocol may declare that these tables have no words for: the protocol's own name
# for them (in Welsh where it gives one) is better than the bare code.
PROTOCOL_KINDS = {"purpose": "purpose", "category": "category"}


def say(kind: str, code: str | None) -> str:
    """The plain words for a code, in the document's language: ours (in the message
    catalogue, written to the claimant), else the protocol's name for it, else the code."""
    if code is None:
        return ""
    words = TABLES[kind].get(code)
    if words:
        return _(words)
    named = (current_app.extensions["caseshare"].protocols.display_name(
        PROTOCOL_KINDS[kind], code, language()) if kind in PROTOCOL_KINDS else None)
    return named or code.replace("_", " ")
