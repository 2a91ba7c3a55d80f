"""Imports every page module so its routes are on the blueprint."""

from caseshare.web import (
    account,
    assessment_results,
    assessments,
    case_plans,
    caseload,
    cases,
    conferences,
    consents,
    contact_preferences,
    documents,
    funding,
    ig_overrides,
    ig_pages,
    ig_reports,
    ig_retention,
    lawful_basis,
    mi,
    notifications,
    organisation_sign_in,
    overrides,
    referrals,
    services,
    subjects,
    support_records,
)
from caseshare.web.blueprint import bp

__all__ = ["account", "assessment_results", "assessments", "bp", "case_plans", "caseload",
           "cases", "conferences", "consents", "contact_preferences", "documents", "funding",
           "ig_overrides", "ig_pages", "ig_reports", "ig_retention", "lawful_basis", "mi",
           "notifications", "organisation_sign_in", "overrides", "referrals", "services",
           "subjects", "support_records"]
