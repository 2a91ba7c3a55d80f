"""The audit log over HTTP for information-governance officers (role ig_officer, purpose audit)."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

from flask import Response, request

from caseshare.access import audit_trail, sar_bundle, subject_access
from caseshare.api.common import api_blueprint, no_store, runtime, unit_of_work
from caseshare.audit.queries import EventFilter
from caseshare.audit.unusual import RULES, Thresholds
from caseshare.schemas.audit import (
    AccessReport,
    CheckpointOut,
    ConsistencyOut,
    ConsistencyQuery,
    EventList,
    EventQuery,
    InclusionOut,
    InclusionQuery,
    ReportEvent,
    UnusualQuery,
    UnusualReport,
)
from caseshare.schemas.common import PurposeQuery

blp = api_blueprint("audit", __name__, "The verifiable audit log (IG officers)")

SCOPE = "audit:read"


@blp.route("/audit/events", methods=["GET"])
@blp.arguments(EventQuery, location="query", as_kwargs=True)
@blp.response(200, EventList)
def list_events(purpose: str, limit: int, cursor: str | None = None,
                **filters: Any) -> Any:
    """Audit events the IG officer may see, oldest first.

    Visible: events recorded under a protocol the officer's organisation is party to (`protocol`,
    `id@version`; a break-glass event by its override's protocol), and events by the officer's
    own staff; events with no protocol only when the actor is their own staff. In an event by
    another organisation's staff, categories no flow of that protocol carries to or from the
    officer's organisation are replaced by `redacted` (in `categories` and `details`) and
    `redacted` is true; `leaf_hash` stays the logged one. Every query is itself audited.
    """
    with unit_of_work(purpose, SCOPE) as ctx:
        wanted = EventFilter(
            subject_id=filters.get("subject_id"), actor=filters.get("actor"),
            org=filters.get("org"), purpose=filters.get("event_purpose"),
            decision=filters.get("decision"), type=filters.get("type"),
            from_=filters.get("from_"), to=filters.get("to"))
        found, next_cursor = audit_trail.search_events(ctx, wanted, cursor, limit)
        return {"items": found, "next_cursor": next_cursor}, 200, no_store()


@blp.route("/audit/checkpoints/latest", methods=["GET"])
@blp.arguments(PurposeQuery, location="query", as_kwargs=True)
@blp.response(200, CheckpointOut)
def latest_checkpoint(purpose: str) -> Any:
    """Read the latest signed audit checkpoint.

    The tree size, root hash, time and signature of the newest checkpoint of the audit log, and the
    same checkpoint as a C2SP `tlog-checkpoint` signed note, to check proofs against.
    """
    with unit_of_work(purpose, SCOPE) as ctx:
        return audit_trail.latest_checkpoint(ctx), 200, no_store()


@blp.route("/audit/events/<int:index>/inclusion", methods=["GET"])
@blp.arguments(InclusionQuery, location="query", as_kwargs=True)
@blp.response(200, InclusionOut)
def inclusion(index: int, purpose: str, tree_size: int | None = None) -> Any:
    """Prove an audit event is in the log.

    RFC 9162 inclusion proof for the event at `index` in the tree of `tree_size` (default: the
    latest checkpoint): hashes only, never event fields, so it is served for any index, including
    events the officer may not see.
    """
    with unit_of_work(purpose, SCOPE) as ctx:
        return audit_trail.inclusion_proof(ctx, index, tree_size), 200, no_store()


@blp.route("/audit/consistency", methods=["GET"])
@blp.arguments(ConsistencyQuery, location="query", as_kwargs=True)
@blp.response(200, ConsistencyOut)
def consistency(purpose: str, first: int, second: int) -> Any:
    """Prove the audit log only grew.

    RFC 9162 consistency proof between the trees of sizes `first` and `second`: an earlier
    checkpoint is a prefix of a later one, so no event was changed or removed. Hashes as hex.
    """
    with unit_of_work(purpose, SCOPE) as ctx:
        return audit_trail.consistency_proof(ctx, first, second), 200, no_store()


CSV_COLUMNS = ["index", "occurred_at", "type", "decision", "org", "role", "actor", "actor_name",
               "purpose", "categories", "reasons", "consent_id", "protocol", "override_id",
               "request_id", "id"]


def _csv(items: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for item in items:
        row = {k: (" ".join(v) if isinstance(v, list) else v) for k, v in item.items()}
        # Spreadsheet formula injection: no cell may start with a formula character.
        writer.writerow({k: f"'{v}" if isinstance(v, str) and v[:1] in "=+-@\t\r" else v
                         for k, v in row.items()})
    return out.getvalue()


@blp.route("/subjects/<uuid:subject_id>/access-report", methods=["GET"])
@blp.arguments(PurposeQuery, location="query", as_kwargs=True)
@blp.response(200, AccessReport)
@blp.alt_response(200, description="The same report as CSV (Accept: text/csv).",
                  content_type="text/csv")
def access_report(subject_id: uuid.UUID, purpose: str) -> Any:
    """Every allowed and denied access to a claimant's data that the IG officer may see (same
    visibility and redaction as `GET /audit/events`), as JSON or CSV.

    The claimant must be one the officer's organisation has a relationship with (case member,
    accepted referral, named in a consent); otherwise 404, audited.
    """
    with unit_of_work(purpose, SCOPE) as ctx:
        history, names = audit_trail.access_report(ctx, subject_id)
        rows = [_Named(e, names.get(e.actor or "")) for e in history]
        best = request.accept_mimetypes.best_match(["application/json", "text/csv"])
        if best == "text/csv":
            filename = f"access-report-{subject_id}.csv"
            return Response(_csv(ReportEvent(many=True).dump(rows)), mimetype="text/csv",
                            headers=no_store({
                                "Content-Disposition": f'attachment; filename="{filename}"'}))
        return {"subject_id": subject_id, "generated_at": ctx.now, "items": rows}, 200, no_store()


class _Named:
    """An audit event with the staff member's name beside it, for the report."""

    def __init__(self, event: Any, actor_name: str | None) -> None:
        self._event, self.actor_name = event, actor_name

    def __getattr__(self, name: str) -> Any:
        return getattr(self._event, name)


@blp.route("/subjects/<uuid:subject_id>/sar-export", methods=["GET"])
@blp.arguments(PurposeQuery, location="query", as_kwargs=True)
@blp.response(200, description="Subject access request bundle: a zip of one file per section "
              "(README, manifest with SHA-256 of each file, record, case plan, referrals, "
              "consents, overrides, disclosure log as JSON and CSV).",
              content_type="application/zip")
@blp.alt_response(200, description="The same export as one JSON document "
                  "(Accept: application/json).", content_type="application/json")
def sar_export(subject_id: uuid.UUID, purpose: str) -> Any:
    """The subject access request export (UK GDPR Art 15), under `subject_access` only.

    Only for an IG officer whose organisation has a relationship with the claimant (otherwise
    404, audited); covers the records of the parties to the protocols in force for their
    organisation, and a disclosure log of the audit events the officer may see.
    """
    with unit_of_work(purpose, SCOPE) as ctx:
        best = request.accept_mimetypes.best_match(["application/zip", "application/json"])
        kind = "json" if best == "application/json" else "zip"
        document = subject_access.export_subject(ctx, subject_id, format=kind)
        if kind == "json":
            body, mimetype = sar_bundle.to_json(document), "application/json"
        else:
            body, mimetype = sar_bundle.to_zip(document), "application/zip"
        name = sar_bundle.filename(document, kind)
        return Response(body, mimetype=mimetype, headers=no_store({
            "Content-Disposition": f'attachment; filename="{name}"'}))


@blp.route("/audit/unusual-access", methods=["GET"])
@blp.arguments(UnusualQuery, location="query", as_kwargs=True)
@blp.response(200, UnusualReport)
def unusual_access(purpose: str, from_: Any = None, to: Any = None,
                   rule: list[str] | None = None) -> Any:
    """Report unusual access.

    Findings of the unusual access rules over the events the IG officer may see (same visibility
    and redaction as `GET /audit/events`), between `from` and `to`, optionally only some `rule`s.
    """
    with unit_of_work(purpose, SCOPE) as ctx:
        thresholds = Thresholds.from_settings(runtime().settings)
        wanted = tuple(r for r in RULES if r in rule) if rule else RULES
        report = audit_trail.unusual_access(ctx, thresholds, from_, to, wanted)
        findings = [{
            "rule": f.rule, "actor": f.actor, "actor_name": report.actor_name(f), "org": f.org,
            "role": f.role, "subject_id": f.subject_id, "first_at": f.first_at,
            "last_at": f.last_at, "count": f.count,
            "indices": [e.seq for e in f.events if e.seq is not None], "events": f.events,
        } for f in report.findings]
        return {"from_": report.from_, "to": report.to, "generated_at": report.generated_at,
                "rules": list(report.rules), "thresholds": report.thresholds.as_details(),
                "findings": findings}, 200, no_store()
