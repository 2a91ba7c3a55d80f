"""Template helpers: names for codes (organisations, purposes, categories) and UK dates."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Flask, current_app

from caseshare.web.i18n import language

PURPOSE_NAMES = {
    "case_management": "Case management",
    "recovery_support": "Recovery support",
    "tenancy_sustainment": "Tenancy sustainment",
    "budgeting_support": "Budgeting support",
    "triage": "Triage",
    "audit": "Audit",
    "subject_access": "Subject access request",
}
CATEGORY_NAMES = {
    "identity": "identity details",
    "contact": "address and contact details",
    "employment": "work search and employment",
    "benefit_claim": "Universal Credit claim details",
    "housing_tenancy": "housing and tenancy",
    "finances": "money and debts",
    "substance_misuse": "drug and alcohol treatment",
    "health_mental": "mental health",
    "digital_capability": "getting online", "health_wellbeing": "health and wellbeing",
    "offending": "offending",
}


def words(code: str) -> str:
    return code.replace("_", " ")


def purpose_name(code: str | None) -> str:
    if not code:
        return "not chosen"
    return PURPOSE_NAMES.get(code, words(code).capitalize())


def category_name(code: str) -> str:
    return CATEGORY_NAMES.get(code, words(code))


def org_name(code: str) -> str:
    """The organisation's name on staff pages (English)."""
    name: str | None = current_app.extensions["caseshare"].protocols.party_name(code)
    return name or words(code)


def doc_org_name(code: str) -> str:
    """The organisation's name on a paper for the claimant, in the paper's language: Welsh
    where the agreement gives a Welsh name (WASPI partners do), English otherwise."""
    name: str | None = current_app.extensions["caseshare"].protocols.display_name(
        "organisation", code, language())
    return name or words(code)


def uk_date(value: Any) -> str:
    """'5 December 2026' (GOV.UK style), for dates and datetimes."""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return str(value)
    if isinstance(value, date):
        return f"{value.day} {value:%B %Y}"
    return "" if value is None else str(value)


def category_label(code: str) -> str:
    name = category_name(code)
    return name[:1].upper() + name[1:]


def register(app: Flask) -> None:
    helpers = (("purpose_name", purpose_name), ("category_name", category_name),
               ("category_label", category_label), ("org_name", org_name),
               ("doc_org_name", doc_org_name),
               ("uk_date", uk_date), ("words", words))
    for name, fn in helpers:
        app.add_template_filter(fn, name)
        app.add_template_global(fn, name)
