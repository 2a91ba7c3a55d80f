"""Imports every page module so its routes are on the blueprint."""

from caseshare.web import (
    account,
    claimants,
    consent_pages,
    ig_overrides,
    ig_pages,
    ig_reports,
    organisation_sign_in,
    plan_pages,
)
from caseshare.web.blueprint import bp

__all__ = ["account", "bp", "claimants", "consent_pages", "ig_overrides", "ig_pages",
           "ig_reports",
           "organisation_sign_in", "plan_pages"]
