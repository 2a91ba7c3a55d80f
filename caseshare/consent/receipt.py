"""Consent receipts the claimant can keep: ISO/IEC TS 27560-structured JSON and a printable page.

The JSON follows the consent record information structure of ISO/IEC TS 27560:2023 (the
Kantara consent receipt lineage), with the element names of the W3C DPV guide to the standard:
the record, the PII principal, the notice shown (with the SHA-256 of its exact text), the
controllers receiving data, purposes, PII categories, the consent's state and its event history.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from caseshare.consent.effective import RecipientScope, effective_scope
from caseshare.consent.forms import ConsentForm
from caseshare.consent.lawful_basis import bases_for
from caseshare.consent.service import is_fully_withdrawn
from caseshare.consent.views import ConsentView, WithdrawalView
from caseshare.policy.models import ProtocolSet

SCHEMA = "https://w3id.org/dpv/schema/iso-27560#receipt-full"
TEMPLATES = Path(__file__).with_name("templates")


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def party_name(protocols: ProtocolSet, org: str) -> str:
    return protocols.party_name(org) or org


def _controller(protocols: ProtocolSet, scope: RecipientScope, consent: ConsentView,
                default_retention_days: int | None) -> dict[str, Any]:
    """One recipient organisation: what it still receives, what was withdrawn from it and
    when, how the claimant reaches it (from its protocol party, where given), and the lawful
    basis and retention of what the consent lets it receive (`lawful_basis`, one per distinct
    basis: consent.lawful_basis). The extra members (`receiving`, `receives`, `withdrawn`,
    `contact`, `lawful_basis`) extend the 27560 controller."""
    contact = protocols.party_contact(scope.org)
    bases = bases_for(protocols, org=scope.org, purposes=consent.purposes,
                      categories=consent.categories,
                      default_retention_days=default_retention_days)
    return {
        "id": scope.org, "name": party_name(protocols, scope.org),
        "receiving": scope.receiving,
        "receives": [{"purposes": list(s.purposes), "categories": list(s.categories)}
                     for s in scope.receives],
        "withdrawn": [{"withdrawn_at": _iso(w.withdrawn_at), "purposes": list(w.purposes),
                       "categories": list(w.categories), "everything": w.everything}
                      for w in scope.withdrawn],
        "contact": ({k: v for k, v in vars(contact).items() if v} if contact else None),
        "lawful_basis": [b.as_json() for b in bases],
    }


def _events(consent: ConsentView, withdrawals: list[WithdrawalView]) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = [{
        "event_type": "refused" if consent.decision == "refused" else "given",
        "event_time": _iso(consent.captured_at), "method": consent.method,
        "recorded_by_org": consent.captured_org,
    }]
    for i, w in enumerate(withdrawals):
        events.append({
            "event_type": ("withdrawn"
                           if is_fully_withdrawn(consent, withdrawals[: i + 1])  # type: ignore[arg-type]
                           else "partially_withdrawn"),
            "event_time": _iso(w.withdrawn_at), "channel": w.channel, "scope": w.scope,
            "recorded_by_org": w.recorded_org,
        })
    return events


def receipt(consent: ConsentView, form: ConsentForm | None, protocols: ProtocolSet, *,
            default_retention_days: int | None = None) -> dict[str, Any]:
    """The receipt of what the caller may see of the consent (a recipient's view names only
    it, and carries no proxy name, references or statement). `default_retention_days`: the
    retention of a flow that states none (the edges pass retention.schedule's default)."""
    withdrawals, status = consent.withdrawals, consent.status
    sensitive = [c for c in consent.categories if protocols.is_sensitive(c)]
    given_by: dict[str, Any] = {"type": consent.given_by_type}
    for key, value in (("name", consent.given_by_name), ("authority_ref", consent.authority_ref),
                       ("capacity", consent.capacity), ("competence", consent.competence)):
        if value:
            given_by[key] = value
    return {
        "schema_version": SCHEMA,
        "record_id": str(consent.id),
        "pii_principal_id": str(consent.subject_id),
        "supersedes": str(consent.supersedes_id) if consent.supersedes_id else None,
        "language": consent.language,
        "notice": {
            "notice_id": f"{consent.form_id}@{consent.form_version}",
            "title": form.text[consent.language]["title"] if form else None,
            "language": consent.language,
            "text_sha256": consent.text_hash,
        },
        "consent_status": status,
        "consent_decision": consent.decision,
        "consent_type": "explicit" if consent.explicit else "expressed",
        "explicit_statement": consent.explicit_statement,
        "given_by": given_by,
        "collection_method": consent.method,
        "evidence_ref": consent.evidence_ref,
        "verified": consent.verified,
        "collected_by_org": consent.captured_org,
        "consent_time": _iso(consent.captured_at),
        "valid_from": _iso(consent.valid_from),
        "expiry": {"rule": consent.expiry_rule, "expires_at": _iso(consent.expires_at)},
        "pii_controllers": [_controller(protocols, r, consent, default_retention_days)
                            for r in effective_scope(consent, withdrawals).recipients],
        "purposes": [{"purpose": p} for p in consent.purposes],
        "pii_categories": [{"category": c, "sensitive": c in sensitive}
                           for c in consent.categories],
        "excluded_pii_categories": consent.excluded_categories,
        "special_category": bool(sensitive),
        "events": _events(consent, withdrawals),
        "withdrawal": "You can withdraw all or part of this consent at any time by telling any "
                      "of the organisations named here. Sharing stops straight away.",
    }


LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Your consent receipt", "reference": "Receipt reference", "status": "Status",
        "given_by": "Given by", "recipients": "Organisations that may receive information",
        "purposes": "Reasons", "categories": "Types of information",
        "excluded": "Not shared", "statement": "Your explicit statement", "method": "How",
        "from": "Valid from", "until": "Valid until", "form": "Form and version",
        "hash": "Fingerprint of the text you were shown (SHA-256)", "history": "History",
        "withdraw": "You can withdraw all or part of this consent at any time by telling any of "
                    "the organisations above. Sharing stops straight away. Saying no will not "
                    "affect the help or benefits you receive.",
        "self": "You", "sensitive": "special category",
        "stopped": "Organisations that no longer receive information (withdrawn on)",
        "basis": "Why the law allows it and how long they keep it",
        "art6": "Lawful basis (UK GDPR Article 6)",
        "art9": "Condition for special category information (UK GDPR Article 9)",
        "function": "Legal duty or power",
        "kept": "Kept for {days} days after the case closes or consent ends",
    },
    "cy": {
        "title": "Eich derbynneb caniatâd", "reference": "Cyfeirnod y dderbynneb",
        "status": "Statws", "given_by": "Rhoddwyd gan",
        "recipients": "Sefydliadau a all gael gwybodaeth", "purposes": "Rhesymau",
        "categories": "Mathau o wybodaeth", "excluded": "Heb ei rannu",
        "statement": "Eich datganiad penodol", "method": "Sut",
        "from": "Yn ddilys o", "until": "Yn ddilys tan", "form": "Ffurflen a fersiwn",
        "hash": "Ôl bys y testun a ddangoswyd i chi (SHA-256)", "history": "Hanes",
        "withdraw": "Gallwch dynnu'r cyfan neu ran o'r caniatâd hwn yn ôl unrhyw bryd drwy "
                    "ddweud wrth unrhyw un o'r sefydliadau uchod. Bydd y rhannu'n dod i ben ar "
                    "unwaith. Ni fydd dweud na yn effeithio ar yr help na'r budd-daliadau a "
                    "gewch.",
        "self": "Chi", "sensitive": "categori arbennig",
        "stopped": "Sefydliadau nad ydynt bellach yn cael gwybodaeth (tynnwyd yn ôl ar)",
        "basis": "Pam mae'r gyfraith yn caniatáu hyn ac am ba hyd y maent yn ei chadw",
        "art6": "Sail gyfreithlon (Erthygl 6 GDPR y DU)",
        "art9": "Amod ar gyfer gwybodaeth categori arbennig (Erthygl 9 GDPR y DU)",
        "function": "Dyletswydd neu bŵer cyfreithiol",
        "kept": "Yn cael ei chadw am {days} diwrnod ar ôl i'r achos gau neu i'r caniatâd ddod i "
                "ben",
    },
}


@cache
def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES),
                       autoescape=select_autoescape(["html"], default=True))


def render_html(data: dict[str, Any]) -> str:
    """The printable receipt in the claimant's language (the language of the form they saw)."""
    labels = LABELS.get(data["language"], LABELS["en"])
    return _environment().get_template("receipt.html").render(r=data, t=labels)
