"""Imports every page module so its routes are on the blueprint."""

from caseshare.web import (
    account,
    break_glass,
    claimants,
    consent_pages,
    documents,
    ig_overrides,
    ig_pages,
    ig_reports,
    organisation_sign_in,
    plan_pages,
    referral_pages,
)
from caseshare.web.blueprint import bp

__all__ = ["account", "bp", "break_glass", "claimants", "consent_pages", "documents",
           "ig_overrides", "ig_pages", "ig_reports", "organisation_sign_in", "plan_pages",
           "referral_pages"]
