"""The LSSF service lines (DWP's Local Support Services Framework, Annex G) as a taxonomy
vocabulary of the directory: a service names the lines it delivers as `service_taxonomys`
terms of the vocabulary `lssf`, the term id being the code below.

The first five codes are the ones Annex G's triage and proposals use (issue 21); the others
name the remaining lines of the framework (basic advice, online access, financial inclusion),
so that every service line a partnership offers has a code."""

from __future__ import annotations

VOCABULARY = "lssf"

SERVICE_LINES: dict[str, str] = {
    "triage": "Triage and orientation to the right support",
    "basic_advice": "Basic advice and information, and welfare rights advice",
    "online_access": "Online access (public terminals, wi-fi)",
    "digital_support": "Assisted digital claiming and digital skills",
    "complex_needs": "Intermediary support for complex needs",
    "financial_inclusion": "Financial inclusion (bank or credit union account)",
    "personal_budgeting_support": "Personal budgeting support and money advice",
    "housing_costs_apa": "Housing costs and Alternative Payment Arrangements",
}


def label(code: str) -> str:
    """The service line's name in plain words (the code itself if it is not one)."""
    return SERVICE_LINES.get(code, code)
